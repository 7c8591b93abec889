"""What every gateway stand-in's tests share: the sandbox's settings and the shop's form.

The flows themselves (``StandInFlows``, ``Customer``) ship in ``billing.testing.flows``,
for gateways that shops add too; they are re-exported here for the built-ins' tests.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.test import RequestFactory, override_settings

from billing import get_integration
from billing.sandbox.models import Checkout
from billing.testing.flows import SANDBOX, Customer, StandInFlows, link, logs
from tests import settings as test_settings
from tests.helpers import use_account

SHOP = "http://shop.test"  # the shop's origin in forms rendered for a request (host=...)


def sandbox_settings(settings: Any, slug: str, account: dict[str, Any]) -> Any:
    """The shop with one gateway's account, its endpoints switched to the sandbox, run as
    the sandbox must be: in DEBUG, in test mode, notifying the shop's own origins only."""
    use_account(settings, slug, account)
    settings.DEBUG = True
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = SANDBOX
    settings.BILLING_SANDBOX_ALLOWED_ORIGINS = [SHOP]
    return settings


def order_form(
    slug: str, amount: str = "10.00", currency: str = "EUR", host: str = "", **extra: Any
) -> dict[str, str]:
    """The fields billing's integration renders for ORDER-1, a Mug; with ``host``, for a
    request to that shop (its notify URL in the form)."""
    integration = get_integration(slug)
    integration.add_order(
        reference="ORDER-1", amount=Decimal(amount), currency=currency, description="Mug"
    )
    integration.add_fields(extra)
    if not host:
        return integration.generate_form()
    # A request to another host: its URLs, unless a test set an origin of its own.
    site = "" if settings.BILLING_SITE_URL == test_settings.BILLING_SITE_URL else None
    with override_settings(**({"BILLING_SITE_URL": site} if site is not None else {})):
        return integration.generate_form(RequestFactory().get("/", HTTP_HOST=host))


def assert_refused(response: Any, *texts: str, secrets: tuple[str, ...] = ()) -> None:
    """The gateway's error page: 400, saying ``texts``, showing no secret, nothing kept."""
    assert response.status_code == 400
    page = response.content.decode()
    for text in texts:
        assert text in page
    for secret in secrets:
        assert secret not in page
    assert Checkout.objects.count() == 0


__all__ = [
    "SANDBOX",
    "SHOP",
    "Customer",
    "StandInFlows",
    "assert_refused",
    "link",
    "logs",
    "order_form",
    "sandbox_settings",
]
