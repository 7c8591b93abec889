"""billing's own pages for the customer say what happened, never "Thank you" after a cancel."""

from typing import Any

import pytest
from django.test import Client

from billing import get_integration
from billing.models import Payment, PaymentStatus
from billing.protocols.base import Status
from tests.helpers import signed_ref

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shop(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "10.00"}).generate_form()


@pytest.mark.parametrize(
    ("status", "heading", "says"),
    [
        (PaymentStatus.PENDING, "Waiting for confirmation", "You do not need to pay again"),
        (PaymentStatus.PAID, "Payment received", "is paid. Thank you!"),
        (PaymentStatus.FAILED, "Payment failed", "you have not been charged"),
        (PaymentStatus.CANCELLED, "Payment cancelled", "You have not been charged"),
        (PaymentStatus.REVIEW, "Your payment is being checked", "the shop is checking it"),
    ],
)
def test_the_return_page_says_what_happened(status: str, heading: str, says: str) -> None:
    Payment.objects.update(status=status)
    page = Client().get(f"/billing/pay_pal/return/?{signed_ref('pay_pal')}").content.decode()
    assert f"<h1>{heading}</h1>" in page and says in page
    if status != PaymentStatus.PAID:
        assert "Thank you" not in page


def test_the_cancel_page_never_thanks() -> None:
    page = Client().get(f"/billing/pay_pal/cancel/?{signed_ref('pay_pal')}").content.decode()
    assert "Payment cancelled" in page and "ORDER-1" in page and "Thank you" not in page


@pytest.mark.parametrize(
    ("reported", "heading"),
    [
        (Status.PAID, "Thank you: your payment was received"),
        (Status.CANCELLED, "Payment cancelled"),
        (Status.FAILED, "Your payment did not go through"),
        (None, "Returning you to the shop"),
    ],
)
def test_the_page_a_gateway_shows_follows_its_report(reported: Any, heading: str) -> None:
    page = get_integration("pay_pal").back_to_shop("https://shop.example/", reported=reported)
    text = page.content.decode()
    assert f"<h1>{heading}</h1>" in text
    if reported is not Status.PAID:
        assert "Thank you" not in text
