"""Mistakes a shop makes while integrating fail loudly, never silently."""

from decimal import Decimal
from typing import Any

import pytest

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured, InvalidData
from billing.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shop(settings: Any) -> None:
    settings.BILLING_SITE_URL = "https://shop.example"
    settings.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com"},
        "authorize_net_dpm": {"LOGIN_ID": "login", "SIGNATURE_KEY": "ab" * 64},
        "world_pay": {"INSTALLATION_ID": "1", "MD5_SECRET": "m", "CALLBACK_PASSWORD": "p"},
        "global_payments": {"MERCHANT_ID": "m", "ACCOUNT": "internet", "SHARED_SECRET": "s"},
        "ogone_payments": {
            "PSPID": "shop",
            "SHA_IN": "in-pass",
            "SHA_OUT": "out-pass",
            "HASH_ALGORITHM": "sha256",
        },
    }


SLUGS = ["pay_pal", "authorize_net_dpm", "world_pay", "global_payments", "ogone_payments"]


@pytest.mark.parametrize("slug", SLUGS)
def test_an_amount_finer_than_the_currency_is_refused(slug: str) -> None:
    integration = get_integration(slug)
    with pytest.raises(InvalidData):  # some refuse it in add_order, the rest when rendering
        integration.add_order(reference="ORDER-1", amount=Decimal("10.001"), currency="EUR")
        integration.generate_form()
    assert not Payment.objects.exists()


def test_the_seed_field_api_is_checked_too() -> None:
    pay_pal = get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "10.001"})
    with pytest.raises(InvalidData, match="10.001"):
        pay_pal.generate_form()
    assert not Payment.objects.exists()


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("currency", ["EUX", "XAU"])
def test_an_unknown_currency_is_refused(slug: str, currency: str) -> None:
    integration = get_integration(slug)
    with pytest.raises(InvalidData):
        integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency=currency)
        integration.generate_form()
    assert not Payment.objects.exists()


def test_whole_yen_are_fine_and_recorded_exactly() -> None:
    integration = get_integration("authorize_net_dpm")
    integration.add_order(reference="ORDER-1", amount=Decimal("1000"), currency="JPY")
    integration.generate_form()
    assert Payment.objects.get().amount == Decimal("1000")


@pytest.mark.parametrize("slug", SLUGS)
def test_no_request_and_no_site_url_is_an_error_not_a_silent_gap(slug: str, settings: Any) -> None:
    settings.BILLING_SITE_URL = ""
    integration = get_integration(slug)
    integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
    with pytest.raises(IntegrationNotConfigured, match="BILLING_SITE_URL"):
        integration.generate_form()  # rendered without the request in the context
    assert not Payment.objects.exists()


def test_callback_urls_the_shop_gives_itself_need_nothing_else(settings: Any) -> None:
    settings.BILLING_SITE_URL = ""
    pay_pal = get_integration("pay_pal")
    pay_pal.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
    own = {"notify_url": "https://shop.example/ipn", "return": "https://shop.example/r",
           "cancel_return": "https://shop.example/c"}  # fmt: skip
    pay_pal.add_fields(own)
    assert pay_pal.generate_form()["notify_url"] == "https://shop.example/ipn"
