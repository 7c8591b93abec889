"""What the gateways' test modules share: the shop's account, notify/, what it recorded."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing.models import NotificationLog, Payment
from billing.registry import get_integration


def use_account(settings: Any, slug: str, account: dict[str, Any]) -> Any:
    """The shop in test mode with one gateway's account (a copy, which a test may change)."""
    settings.MERCHANT_SETTINGS = {slug: dict(account)}
    settings.MERCHANT_TEST_MODE = True
    return settings


def settings_fixture(
    slug: str,
    account: dict[str, Any],
    configure: Callable[[Any, str, dict[str, Any]], Any] = use_account,
) -> Any:
    """A fixture of the settings ``configure`` (use_account, sandbox_settings) makes for one
    gateway's account: ``shop = settings_fixture("skrill", SETTINGS)``."""

    @pytest.fixture
    def fixture(settings: Any) -> Any:
        return configure(settings, slug, account)

    return fixture


def form_renderer(slug: str, currency: str, **fields: str) -> Callable[..., dict[str, str]]:
    """``render(reference="ORDER-1", amount="10.00")``: the form billing renders for an
    order in ``currency`` (with ``fields`` added), its payment recorded."""

    def render(reference: str = "ORDER-1", amount: str = "10.00") -> dict[str, str]:
        integration = get_integration(slug)
        integration.add_order(reference=reference, amount=Decimal(amount), currency=currency)
        if fields:
            integration.add_fields(fields)
        return integration.generate_form()

    return render


def poster(slug: str) -> Callable[..., Any]:
    """``post(body, django_capture_on_commit_callbacks, ip="127.0.0.1")``: a form POST to
    the gateway's notify/ from ``ip``, with the callbacks run on commit (where the payment
    is processed)."""
    url = f"/billing/{slug}/notify/"

    def post(body: bytes, capture: Any, ip: str = "127.0.0.1") -> Any:
        with capture(execute=True):
            return Client(REMOTE_ADDR=ip).post(
                url, body, content_type="application/x-www-form-urlencoded"
            )

    return post


def payment_of(slug: str) -> Callable[..., Payment]:
    """``payment(reference="ORDER-1")``: the gateway's payment for an order."""

    def payment(reference: str = "ORDER-1") -> Payment:
        return Payment.objects.get(integration=slug, reference=reference)

    return payment


def payment_status(slug: str) -> Callable[..., str]:
    """``status(reference="ORDER-1")``: the status of the gateway's payment for an order."""
    payment = payment_of(slug)

    def status(reference: str = "ORDER-1") -> str:
        return payment(reference).status

    return status


def outcomes(**filters: Any) -> list[str]:
    """What the notification log made of each request, oldest first."""
    logs = NotificationLog.objects.filter(**filters).order_by("pk")
    return list(logs.values_list("outcome", flat=True))


def signed_ref(slug: str, reference: str = "ORDER-1", *, html: bool = False) -> str:
    """The query billing puts on return and cancel URLs: ``ref=...&sig=...``."""
    from billing.links import reference_signer

    query = f"ref={reference}&sig={reference_signer(slug).signature(reference)}"
    return query.replace("&", "&amp;") if html else query
