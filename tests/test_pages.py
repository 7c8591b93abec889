"""What the demo shop's pages say, state by state, with Django's test client.

The browser tests drive the same pages through the sandbox; these cover every payment
state without one, and the filters the wording relies on.
"""

import html as markup
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus
from demo.store.models import Order
from demo.store.templatetags.store_tags import ago, possessive
from tests import test_demo
from tests.test_demo import paying

# The demo shop, its customer and their order, as the demo's own tests set them up.
shop, owner, order = test_demo.shop, test_demo.owner, test_demo.order


def text(html: str) -> str:
    """The page's text: tags dropped, entities read, white space folded."""
    return re.sub(r"\s+", " ", markup.unescape(re.sub(r"<[^>]+>", " ", html)))


def banner_and_tag(html: str) -> tuple[str, str]:
    banner = re.search(r'<h1 id="state">([^<]*)</h1>', html)
    tag = re.search(r'data-testid="state-tag"[^>]*>([^<]*)<', html)
    assert banner and tag, "the order page has no state banner or no state tag"
    return banner[1], tag[1]


def order_page(owner: Client, order: Order) -> str:
    response = owner.get(f"/orders/{order.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def in_state(order: Order, status: str, came_back: bool) -> None:
    """The order paying with Worldpay, its payment in ``status``; ``came_back``: the
    customer has come back through cancel."""
    payment = paying(order, "world_pay")
    Payment.objects.filter(pk=payment.pk).update(status=status)
    if came_back:
        Order.objects.filter(pk=order.pk).update(cancelled_at=timezone.now())


# status of the payment, the customer came back through cancel -> the banner's label
STATES = [
    (PaymentStatus.PENDING, False, "Waiting for confirmation"),
    (PaymentStatus.PENDING, True, "Cancelled"),
    (PaymentStatus.PAID, False, "Paid"),
    (PaymentStatus.FAILED, False, "Payment failed"),
    (PaymentStatus.CANCELLED, False, "Cancelled"),
    (PaymentStatus.REVIEW, False, "Held for review"),
    (PaymentStatus.REFUNDED, False, "Refunded"),
]


@pytest.mark.parametrize(("status", "came_back", "label"), STATES)
def test_state_tag_agrees_with_the_banner(
    order: Order, owner: Client, status: str, came_back: bool, label: str
) -> None:
    in_state(order, status, came_back)
    assert banner_and_tag(order_page(owner, order)) == (label, label)


@pytest.mark.parametrize(("status", "came_back", "label"), STATES)
def test_paid_with_only_once_paid(
    order: Order, owner: Client, status: str, came_back: bool, label: str
) -> None:
    in_state(order, status, came_back)
    page = text(order_page(owner, order))
    if status == PaymentStatus.PAID:
        assert "Paid with Worldpay" in page and "Chosen payment method" not in page
    else:
        assert "Chosen payment method Worldpay" in page and "Paid with" not in page


@pytest.mark.parametrize(
    "status", [PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.PENDING]
)
def test_every_unpaid_ending_offers_try_again(order: Order, owner: Client, status: str) -> None:
    """Declined (failed), cancelled by the gateway (Worldpay's decline), or cancelled by
    the customer coming back: not charged, so another go."""
    in_state(order, status, came_back=status == PaymentStatus.PENDING)
    assert ">Try again</a>" in order_page(owner, order)


def test_waiting_page_gives_up_after_two_minutes(order: Order, owner: Client) -> None:
    paying(order)
    html = order_page(owner, order)
    assert "const WAIT_MS = 120000;" in html
    unconfirmed = re.search(r'<template id="unconfirmed">(.*?)</template>', html, re.DOTALL)
    assert unconfirmed, "no explanation to show once the page stops waiting"
    said = text(unconfirmed[1])
    assert "PayPal Payments Standard has not confirmed this payment" in said
    assert "notification log" in said and order.reference in said
    assert "Check again" in said and "Try again" in said


def test_waiting_page_names_a_rejected_notification(order: Order, owner: Client) -> None:
    payment = paying(order)
    NotificationLog.objects.create(
        integration="pay_pal",
        method="POST",
        path="/billing/pay_pal/notify/",
        body=f"invoice={order.reference}&mc_gross=0.01".encode(),
        reference=order.reference,
        payment=payment,
        outcome=Outcome.REJECTED,
    )
    unconfirmed = re.search(
        r'<template id="unconfirmed">(.*?)</template>', order_page(owner, order), re.DOTALL
    )
    assert unconfirmed and "1 notification about this order was rejected" in text(unconfirmed[1])


def test_no_give_up_once_the_payment_is_decided(order: Order, owner: Client) -> None:
    payment = paying(order)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PAID)
    html = order_page(owner, order)
    assert "WAIT_MS" not in html and 'id="unconfirmed"' not in html


def test_paid_after_review_says_a_person_accepted_it(order: Order, owner: Client) -> None:
    payment = paying(order)
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.PAID, review_reason="amount 6.00 instead of 12.00"
    )
    PaymentEvent.objects.create(
        payment=payment,
        event_key="review:decision",
        from_status=PaymentStatus.REVIEW,
        to_status=PaymentStatus.PAID,
        actor="demo",
    )
    page = text(order_page(owner, order))
    assert banner_and_tag(order_page(owner, order)) == ("Paid", "Paid")
    assert "checked your payment by hand" in page
    assert "Why held" not in page and "amount 6.00 instead of 12.00" in page


def test_checkout_and_pay_pages_use_the_right_possessive(order: Order, owner: Client) -> None:
    checkout = text(owner.get(f"/orders/{order.reference}/checkout/").content.decode())
    assert (
        "on Global Payments' page" in checkout and "on PayPal Payments Standard's page" in checkout
    )
    assert "s's" not in checkout
    owner.post(f"/orders/{order.reference}/checkout/", {"gateway": "global_payments"})
    pay = text(owner.get(f"/orders/{order.reference}/pay/global_payments/").content.decode())
    assert "to Global Payments' secure page" in pay and "s's" not in pay


def test_recent_orders_say_just_now(order: Order, owner: Client) -> None:
    recent = text(owner.get("/").content.decode())
    assert "just now" in recent and "0 minutes" not in recent
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert "5 minutes ago" in text(owner.get("/").content.decode())


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("Global Payments", "Global Payments'"),
        ("PayPal", "PayPal's"),
        ("Worldline e-Commerce (Ogone)", "Worldline e-Commerce (Ogone)'s"),
        ("Authorize.Net", "Authorize.Net's"),
    ],
)
def test_possessive(name: str, owned: str) -> None:
    assert possessive(name) == owned


def test_ago() -> None:
    now = timezone.now()
    assert ago(now - timedelta(seconds=59), now) == "just now"
    assert ago(now + timedelta(seconds=5), now) == "just now"  # clocks a little apart
    assert ago(now - timedelta(minutes=3), now) == "3\xa0minutes ago"
