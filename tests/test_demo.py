"""The demo shop shows an order only to the browser session that placed it, to a signed
link, or to staff; and nothing a GET request does changes an order's payment.

Every leak is tried by two visitors: an anonymous one (no session at all) and another
customer (a session of its own, with an order of its own).
"""

import re
import time
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing.models import NotificationLog, Payment, PaymentStatus
from demo.store.models import Order
from tests.helpers import signed_ref

PAYER = "alice.payer"  # a payer detail the notification carries


@pytest.fixture
def shop(settings: Any, db: Any) -> None:
    """The demo shop as demo/settings.py configures it (without the sandbox)."""
    from demo import settings as demo_settings
    from demo.store.management.commands.demo_data import load_products

    settings.ROOT_URLCONF = "demo.urls"
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = demo_settings.MERCHANT_SETTINGS
    load_products()


def place_order(client: Client) -> str:
    """Buy the mug, as the products page's Buy button does; the new order's reference."""
    response = client.post("/buy/enamel-mug/")
    assert response.status_code == 302
    return str(response["Location"]).split("/")[2]  # /orders/<reference>/checkout/


@pytest.fixture
def owner(shop: None) -> Client:
    return Client()


@pytest.fixture
def order(owner: Client) -> Order:
    return Order.objects.get(reference=place_order(owner))


@pytest.fixture(params=["anonymous", "another session"])
def visitor(request: pytest.FixtureRequest, shop: None) -> Client:
    client = Client()
    if request.param == "another session":
        place_order(client)
    return client


def paying(order: Order, gateway: str = "pay_pal") -> Payment:
    """The order once its customer chose a gateway and was shown its form."""
    order.gateway = gateway
    order.save(update_fields=["gateway"])
    return Payment.objects.create(
        integration=gateway,
        reference=order.reference,
        amount=order.amount,
        currency=order.currency,
        receiver="shop@kettle-and-quill.example",
        test=True,
    )


def notified(payment: Payment) -> NotificationLog:
    """A notification for the payment, with the payer's details in its raw body."""
    body = f"invoice={payment.reference}&payer_email={PAYER}%40example.com&first_name=Alice"
    return NotificationLog.objects.create(
        integration=payment.integration,
        method="POST",
        path=f"/billing/{payment.integration}/notify/",
        body=body.encode(),
        reference=payment.reference,
        payment=payment,
    )


def signed_link(owner: Client, order: Order) -> str:
    """The private link the order page offers its owner."""
    page = owner.get(f"/orders/{order.reference}/").content.decode()
    found = re.search(rf'href="(/orders/{order.reference}/\?key=[^"]+)"', page)
    assert found, "the order page offers no signed link"
    return found[1].replace("&amp;", "&")


# -- the leaks -----------------------------------------------------------------------------


def test_home_page_shows_another_visitor_no_order(order: Order, visitor: Client) -> None:
    page = visitor.get("/")
    assert page.status_code == 200
    assert order.reference not in page.content.decode()


@pytest.mark.parametrize(
    "page", ["", "checkout/", "status/", "notifications/", "pay/pay_pal/", "cancelled/"]
)
def test_order_pages_are_hidden_from_another_visitor(
    order: Order, visitor: Client, page: str
) -> None:
    paying(order)
    response = visitor.get(f"/orders/{order.reference}/{page}")
    assert response.status_code == 404
    assert order.reference not in response.content.decode()


def test_notification_bodies_are_hidden_from_another_visitor(order: Order, visitor: Client) -> None:
    notified(paying(order))
    response = visitor.get(f"/orders/{order.reference}/notifications/")
    assert response.status_code == 404
    assert PAYER not in response.content.decode()


def test_cancel_link_leaves_another_customers_order_alone(order: Order, visitor: Client) -> None:
    payment = paying(order)
    visitor.get(f"/billing/pay_pal/cancel/?ref={order.reference}", follow=True)
    visitor.get(f"/orders/{order.reference}/cancelled/")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.cancelled_at is None
    assert payment.status == PaymentStatus.PENDING


def test_another_visitor_cannot_choose_the_gateway(order: Order, visitor: Client) -> None:
    paying(order)
    response = visitor.post(f"/orders/{order.reference}/checkout/", {"gateway": "world_pay"})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.gateway == "pay_pal"


def test_get_requests_change_no_order(order: Order, owner: Client) -> None:
    """Not even in the owner's browser, which a link on any other site can make ask."""
    owner.get(f"/orders/{order.reference}/checkout/?gateway=pay_pal", follow=True)
    owner.get(f"/orders/{order.reference}/pay/world_pay/", follow=True)
    order.refresh_from_db()
    assert order.gateway == ""
    assert not Payment.objects.exists()


def test_get_requests_do_not_undo_a_cancel_or_switch_gateway(order: Order, owner: Client) -> None:
    paying(order)
    owner.get(f"/billing/pay_pal/cancel/?ref={order.reference}", follow=True)
    order.refresh_from_db()
    cancelled_at = order.cancelled_at
    owner.get(f"/orders/{order.reference}/pay/world_pay/", follow=True)
    owner.get(f"/orders/{order.reference}/pay/pay_pal/")
    order.refresh_from_db()
    assert (order.gateway, order.cancelled_at) == ("pay_pal", cancelled_at)
    assert not Payment.objects.filter(integration="world_pay").exists()


def test_changes_need_a_csrf_token(order: Order, owner: Client) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = owner.cookies  # the owner's own session, without the page's token
    response = browser.post(f"/orders/{order.reference}/checkout/", {"gateway": "pay_pal"})
    assert response.status_code == 403
    assert browser.post("/buy/enamel-mug/").status_code == 403
    order.refresh_from_db()
    assert order.gateway == ""
    assert Order.objects.count() == 1


# -- what still works ----------------------------------------------------------------------


def test_owner_pays_through_the_checkout(order: Order, owner: Client) -> None:
    base = f"/orders/{order.reference}/"
    assert order.reference in owner.get("/").content.decode()  # "Your orders"
    checkout = owner.get(base + "checkout/").content.decode()
    assert 'method="post"' in checkout and "csrfmiddlewaretoken" in checkout
    response = owner.post(base + "checkout/", {"gateway": "pay_pal"})
    assert response["Location"] == base + "pay/pay_pal/"
    assert "Pay with PayPal" in owner.get(base + "pay/pay_pal/").content.decode()
    assert Payment.objects.get(reference=order.reference).status == PaymentStatus.PENDING
    assert owner.get(base + "status/").json()["state"] == "pending"
    assert owner.get(base).status_code == 200
    assert owner.get(base + "notifications/").status_code == 200


def test_owner_sees_the_notification_log(order: Order, owner: Client) -> None:
    notified(paying(order))
    assert PAYER in owner.get(f"/orders/{order.reference}/notifications/").content.decode()


def test_coming_back_from_cancel_marks_the_order_not_the_payment(
    order: Order, owner: Client
) -> None:
    """A GET without CSRF token (the gateway's redirect carries none): the owner's session
    only, and it records that the customer came back, never a payment state."""
    payment = paying(order)
    query = signed_ref("pay_pal", order.reference)
    page = owner.get(f"/billing/pay_pal/cancel/?{query}", follow=True)
    assert page.redirect_chain[-1][0] == f"/orders/{order.reference}/"
    assert 'data-state="cancelled"' in page.content.decode()
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.cancelled_at is not None
    assert payment.status == PaymentStatus.PENDING


def test_staff_see_every_order(order: Order) -> None:
    notified(paying(order))
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("demo", "d@example.com", "demo"))
    assert order.reference in staff.get("/").content.decode()
    assert staff.get(f"/orders/{order.reference}/").status_code == 200
    assert PAYER in staff.get(f"/orders/{order.reference}/notifications/").content.decode()
    staff.get(f"/orders/{order.reference}/cancelled/")  # staff are not the customer
    order.refresh_from_db()
    assert order.cancelled_at is None


def test_signed_link_opens_the_order_in_another_browser(
    order: Order, owner: Client, visitor: Client
) -> None:
    notified(paying(order))
    response = visitor.get(signed_link(owner, order))
    assert response["Location"] == f"/orders/{order.reference}/"  # the key leaves the URL
    assert visitor.get(f"/orders/{order.reference}/").status_code == 200
    assert PAYER in visitor.get(f"/orders/{order.reference}/notifications/").content.decode()


def test_bad_signed_links_open_nothing(order: Order, owner: Client, visitor: Client) -> None:
    other = Order.objects.get(reference=place_order(owner))
    key = signed_link(owner, order).split("?key=")[1]
    assert visitor.get(f"/orders/{other.reference}/?key={key}").status_code == 404
    assert visitor.get(f"/orders/{order.reference}/?key={key}x").status_code == 404
    eight_days_later = time.time() + 8 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=eight_days_later):
        assert visitor.get(f"/orders/{order.reference}/?key={key}").status_code == 404
    assert visitor.get(f"/orders/{order.reference}/").status_code == 404
