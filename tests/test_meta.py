"""Every built-in integration comes with all its parts (docs/adding-a-gateway.md)."""

import ast
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing import get_integration
from billing.exceptions import MalformedNotification
from billing.integration import Integration
from billing.protocols.base import Inbound, Verification
from billing.registry import built_in_slugs
from billing.sandbox.gateways import stand_ins
from billing.sandbox.gateways.base import APPROVED, DECLINED, Message
from billing.testing.routing import routed
from billing.testing.traits import TRAITS
from demo import settings as demo_settings

ROOT = Path(__file__).resolve().parent.parent


def conformance_slugs() -> set[str]:
    """``slug = "..."`` of every class that derives from IntegrationConformance."""
    found = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
            if "IntegrationConformance" not in bases:
                continue
            for item in node.body:
                if isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == "slug":
                    found.add(ast.literal_eval(item.value))
    return found


SLUGS = built_in_slugs()
README = (ROOT / "README.md").read_text()


def test_the_built_ins_are_found() -> None:
    assert {"pay_pal", "world_pay", "dummy"} <= set(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_integration_has_all_its_parts(slug: str) -> None:
    assert slug in stand_ins(), "a sandbox stand-in"
    assert (ROOT / "docs" / "integrations" / f"{slug}.md").is_file(), "a docs page"
    assert f"[`{slug}`](docs/integrations/{slug}.md)" in README, "a README row"
    assert slug in conformance_slugs(), "a conformance class"
    assert slug in demo_settings.MERCHANT_SETTINGS, "an entry in the demo"
    assert slug in TRAITS, "a row in the traits table (which the browser flows run over)"


# -- the traits table says what the stand-ins and integrations do -------------------------


@pytest.fixture
def demo_accounts(settings: Any) -> Iterator[None]:
    """The demo's accounts on the sandbox, whose APIs answer billing in process (for the
    gateways billing asks: Mollie's webhook is only an id)."""
    settings.MERCHANT_SETTINGS = demo_settings.MERCHANT_SETTINGS
    settings.MERCHANT_TEST_MODE = True
    settings.DEBUG, settings.BILLING_SANDBOX = True, True
    settings.BILLING_SANDBOX_URL = "http://sandbox.test"
    with routed():
        yield


def _fields(slug: str, message: Message) -> tuple[Any, dict[str, str], Inbound]:
    """The integration's reading of a stand-in's message, as notify/ would store it."""
    integration = get_integration(slug)
    get = message.method == "GET"
    inbound = Inbound(
        body=b"" if get else integration.redact_body(message.body),
        content_type=message.content_type,
        method=message.method,
        query=message.body.decode("ascii") if get else "",
        headers=dict(message.headers),
    )
    return integration, integration.parse_notification(inbound), inbound


@pytest.mark.django_db
@pytest.mark.parametrize("slug", [slug for slug in SLUGS if slug in TRAITS])
def test_the_stand_in_and_integration_agree_with_the_traits(slug: str, demo_accounts: None) -> None:
    traits, stand_in, integration = TRAITS[slug], stand_ins()[slug], get_integration(slug)
    assert stand_in.shows_reply == integration.shows_reply == traits.shows_reply
    assert stand_in.notifies_cancel == traits.notifies_cancel
    assert stand_in.notifies_decline == traits.notifies_decline
    assert integration.accepts_multipart == traits.accepts_multipart
    # An integration that must prove the receiver by its own account (a setting naming
    # it, or a receiver_matches of its own) is one whose notifications do not name it.
    own_proof = type(integration).receiver_matches is not Integration.receiver_matches
    if traits.names_receiver:
        assert not integration.receiver_setting
    else:
        assert integration.receiver_setting or own_proof
    receiver = str(demo_settings.MERCHANT_SETTINGS[slug].get(stand_in.receiver_setting, ""))
    currency = integration.currencies[0] if integration.currencies else "EUR"
    form = stand_in.form_for(
        reference="ORDER-9", amount=Decimal("12.00"), currency=currency, receiver=receiver
    )
    if not traits.notifies_decline:
        assert DECLINED not in stand_in.statuses
    else:
        _, declined, _ = _fields(slug, stand_in.notification(form, status=DECLINED))
        name, value = traits.declined_with
        assert declined[name] == value
    if stand_in.verified_by != "signature":
        return  # asked of the gateway, not checked here
    paid = stand_in.notification(form, status=APPROVED)
    integration, fields, inbound = _fields(slug, paid)
    assert integration.verify(inbound, fields) is Verification.VALID
    integration, fields, inbound = _fields(slug, stand_in.tamper(paid))
    try:  # rejected: not verified, or (Global Payments) an ORDER_ID no longer ours
        integration.to_notification(fields)
        rejected = integration.verify(inbound, fields) is Verification.INVALID
    except MalformedNotification:
        rejected = True
    assert rejected == traits.amount_signed
