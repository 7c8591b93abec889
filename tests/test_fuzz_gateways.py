"""Every gateway in the traits table, fuzzed at its notify view with its stand-in's own
notifications, authentic or broken on the way: never a 5xx, always logged, and a
notification that reached the pipeline always ends decided (never left received)."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing.models import NotificationLog, Outcome
from billing.pipeline import process
from billing.registry import integration_class
from billing.sandbox.gateways import get_stand_in
from billing.sandbox.gateways.base import APPROVED, CANCELLED, DECLINED, Message
from billing.testing.traits import TRAITS
from demo import settings as demo

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLUGS = sorted(TRAITS)
# References and amounts a shop might ask for, and what an attacker might.
REFERENCES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2)


def mutated(body: bytes, data: Any) -> bytes:
    """The body as sent, or with a byte changed, cut short, or a stretch repeated."""
    if not body:
        return body
    how = data.draw(st.sampled_from(["as sent", "flip", "cut", "repeat", "junk"]))
    # A position drawn independently of the length: stand-ins number their messages at
    # random, so the same draws must mean the same mutation whatever the length.
    at = data.draw(st.integers(0, 2**16)) % len(body)
    if how == "flip":
        return body[:at] + bytes([body[at] ^ data.draw(st.integers(1, 255))]) + body[at + 1 :]
    if how == "cut":
        return body[:at]
    if how == "repeat":
        return body[:at] + body[at:] * 2
    if how == "junk":
        return body[:at] + data.draw(st.binary(max_size=40)) + body[at:]
    return body


def stand_in_message(slug: str, data: Any) -> Message | None:
    """An authentic notification for a form of drawn terms, or None if the stand-in
    refuses the form (as the gateway would: that is not the shop's view to test)."""
    stand_in = get_stand_in(slug)
    accepted = integration_class(slug).currencies
    currency = accepted[0] if accepted else data.draw(st.sampled_from(["EUR", "USD", "GBP"]))
    receiver = str(demo.MERCHANT_SETTINGS[slug].get(stand_in.receiver_setting, ""))
    statuses = [s for s in (APPROVED, DECLINED, CANCELLED) if s in stand_in.statuses]
    try:
        form = stand_in.form_for(
            reference=data.draw(REFERENCES) or "ORDER-1",
            amount=data.draw(AMOUNTS),
            currency=currency,
            receiver=receiver,
        )
        return stand_in.notification(form, status=data.draw(st.sampled_from(statuses)))
    except Exception:  # a form the gateway would refuse (e.g. a reference it cannot carry)
        return None


@pytest.mark.django_db
@FUZZ
@given(slug=st.sampled_from(SLUGS), data=st.data())
def test_every_gateways_notify_view_answers_without_server_error(slug: str, data: Any) -> None:
    with override_settings(MERCHANT_SETTINGS=demo.MERCHANT_SETTINGS, MERCHANT_TEST_MODE=True):
        message = stand_in_message(slug, data)
        if message is None:
            event(f"{slug}: form refused")
            return
        body = mutated(message.body, data)
        before = NotificationLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        url = f"/billing/{slug}/notify/"
        client = Client(raise_request_exception=False)
        if message.method == "GET":
            response = client.get(f"{url}?{body.decode('latin-1')}")
        else:
            response = client.generic(
                "POST", url, body, content_type=message.content_type, headers=message.headers
            )
        assert response.status_code < 500, (response.status_code, response.content)
        event(f"{slug}: HTTP {response.status_code}")  # pytest --hypothesis-show-statistics
        (log,) = NotificationLog.objects.filter(pk__gt=before)
        if response.status_code != 200 or get_stand_in(slug).verified_by != "signature":
            return  # refused at the door; or verified by asking the gateway (fuzzed apart)
        process(log.pk)
        log.refresh_from_db()
        assert log.outcome != Outcome.RECEIVED
        assert not log.error.startswith("internal error"), log.error
