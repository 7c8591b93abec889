"""The Worldline (Ogone) stand-in: SHA-IN checks, hosted page, post-sale request, redirection.

The stand-in is written from Worldline's guide; these tests put it face to face with the
shop's integration (billing.protocols.ogone_payments), through a real server at the end.
"""

import re
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client, RequestFactory

from billing import get_integration, http
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import ogone_payments as protocol
from billing.sandbox.gateways.base import FormRejected
from billing.sandbox.gateways.ogone_payments import sha_sign
from billing.sandbox.gateways.ogone_payments import stand_in as ogone
from billing.sandbox.models import Checkout, SentNotification

SERVICE = "/sandbox/ogone_payments/ncol/test/orderstandard_utf8.asp"
ACCOUNT = {
    "PSPID": "demoshop",
    "SHA_IN": "sandbox-sha-in-passphrase",
    "SHA_OUT": "sandbox-sha-out-passphrase",
    "HASH_ALGORITHM": "sha512",
}


@pytest.fixture
def sandbox(settings: Any) -> Any:
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = "http://sandbox.test"
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {"ogone_payments": dict(ACCOUNT)}
    return settings


def shop_form(**extra: Any) -> dict[str, str]:
    """The fields billing's Worldline integration renders for an order."""
    integration = get_integration("ogone_payments")
    integration.add_order(
        reference="ORDER-1", amount=Decimal("10.00"), currency="EUR", description="Mug"
    )
    integration.add_fields(extra)
    return integration.generate_form(RequestFactory().get("/", HTTP_HOST="shop.test"))


def resign(
    fields: dict[str, str], passphrase: str = ACCOUNT["SHA_IN"], algorithm: str = "sha512"
) -> dict[str, str]:
    unsigned = {k: v for k, v in fields.items() if k != "SHASIGN"}
    return {**unsigned, "SHASIGN": sha_sign(unsigned, passphrase, algorithm)}


def test_sha_in_known_answer() -> None:
    # The e-Commerce guide's worked example (passphrase Mysecretsig1875!?), from:
    #   printf '%s' 'AMOUNT=1500Mysecretsig1875!?CURRENCY=EURMysecretsig1875!?LANGUAGE=en_USMysecretsig1875!?ORDERID=1234Mysecretsig1875!?PSPID=MyPSPIDMysecretsig1875!?' | openssl dgst -sha1  # noqa: E501
    params = {"PSPID": "MyPSPID", "orderID": "1234", "amount": "1500", "CURRENCY": "EUR"}
    params.update({"LANGUAGE": "en_US", "CN": ""})
    assert sha_sign(params, "Mysecretsig1875!?", "sha1") == (
        "F4CC376CD7A834D997B91598FA747825A238BE0A"
    )


@pytest.mark.django_db
def test_sandbox_is_the_service_url(sandbox: Any) -> None:
    assert get_integration("ogone_payments").service_url == "http://sandbox.test" + SERVICE


@pytest.mark.django_db
def test_good_form_opens_hosted_page(sandbox: Any) -> None:
    client = Client()
    response = client.post(SERVICE, shop_form())
    assert response.status_code == 303
    text = client.get(response["Location"]).content.decode()
    assert "10.00 EUR" in text and "demoshop" in text and "ORDER-1" in text and "Mug" in text
    # The post-sale URL comes from the "back office" (derived), not from the form.
    assert "http://sandbox.test/billing/ogone_payments/notify/" in text
    for secret in (ACCOUNT["SHA_IN"], ACCOUNT["SHA_OUT"]):
        assert secret not in text
    assert Checkout.objects.get().fields["ORDERID"] == "ORDER-1"


@pytest.mark.django_db
def test_names_are_read_case_insensitively(sandbox: Any) -> None:
    form = {k.lower(): v for k, v in shop_form().items()}
    assert Client().post(SERVICE, form).status_code == 303


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "title"),
    [
        ({"SHASIGN": "0" * 128}, "unknown order/1/s/"),
        ({"SHASIGN": ""}, "unknown order/0/s/"),
        ({"AMOUNT": "1"}, "unknown order/1/s/"),  # changed after signing
        ({"PSPID": "DemoShop"}, "PSPID not found or not active"),
    ],
    ids=["wrong", "missing", "tampered-amount", "pspid-case"],
)
def test_bad_signature_gets_worldline_error_page(
    sandbox: Any, change: dict[str, str], title: str
) -> None:
    response = Client().post(SERVICE, {**shop_form(), **change})
    assert response.status_code == 400
    assert title in response.content.decode()
    assert ACCOUNT["SHA_IN"] not in response.content.decode()
    assert Checkout.objects.count() == 0


@pytest.mark.django_db
def test_wrong_passphrase_or_algorithm_is_refused(sandbox: Any) -> None:
    assert b"unknown order/1/s/" in Client().post(SERVICE, resign(shop_form(), "guess")).content
    sha256 = resign(shop_form(), algorithm="sha256")
    assert b"unknown order/1/s/" in Client().post(SERVICE, sha256).content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AMOUNT": "10.00"}, "a positive whole number of minor units"),
        ({"CURRENCY": "euro"}, "not an ISO 4217 code"),
        ({"ACCEPTURL": "javascript:alert(1)"}, "ACCEPTURL is not an http(s) URL"),
        ({"SHOPNOTE": "x"}, "not a SHA-IN parameter the sandbox knows"),
        ({"ITEMID2": "a", "ITEMID10": "b"}, "sort differently"),
    ],
)
def test_bad_form_is_refused_plainly(sandbox: Any, change: dict[str, str], message: str) -> None:
    response = Client().post(SERVICE, resign({**shop_form(), **change}))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_without_the_shops_settings_it_cannot_sign(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {}
    with pytest.raises(FormRejected, match="does not know this Worldline account"):
        ogone.notification({"ORDERID": "R", "AMOUNT": "100", "CURRENCY": "EUR"}, status="paid")


# -- what the shop makes of the feedback -------------------------------------------------------


@pytest.mark.django_db
def test_feedback_verifies_with_the_shops_protocol(sandbox: Any) -> None:
    form = shop_form(PARAMPLUS="session=7")
    message = ogone.notification(form, status="paid")
    assert message.method == "POST"
    fields = protocol.parse_feedback(message.body)
    assert protocol.verify_feedback(fields, sha_out=ACCOUNT["SHA_OUT"], algorithm="sha512")
    notification = protocol.to_notification(fields, integration="ogone_payments")
    assert (notification.reference, notification.currency) == ("ORDER-1", "EUR")
    assert notification.amount == Decimal("10.00") and notification.status == "paid"
    assert notification.test and notification.transaction_id == message.transaction_id
    assert fields["session"] == "7" and fields["amount"] == "10"
    tampered = protocol.parse_feedback(ogone.tamper(message).body)
    assert tampered["amount"] == "0.01"
    assert not protocol.verify_feedback(tampered, sha_out=ACCOUNT["SHA_OUT"], algorithm="sha512")
    declined = protocol.parse_feedback(ogone.notification(form, status="failed").body)
    assert declined["STATUS"] == "2" and declined["NCERROR"] != "0"


@pytest.mark.django_db
def test_redirections_by_status_carry_the_feedback(sandbox: Any) -> None:
    form = shop_form()
    paid = urlsplit(ogone.return_url(form, ogone.notification(form, status="paid")))
    assert paid.path == "/billing/ogone_payments/return/"
    query = parse_qs(paid.query)
    assert query["ref"] == ["ORDER-1"] and query["STATUS"] == ["9"] and "SHASIGN" in query
    declined = ogone.return_url(form, ogone.notification(form, status="failed"))
    assert "STATUS=2" in declined and declined.startswith(form["DECLINEURL"])
    cancelled = urlsplit(ogone.cancel_url(form))
    assert cancelled.path == "/billing/ogone_payments/cancel/"
    assert parse_qs(cancelled.query)["STATUS"] == ["1"]


@pytest.mark.django_db
def test_post_sale_url_and_method_are_back_office_settings(sandbox: Any) -> None:
    sandbox.MERCHANT_SETTINGS["ogone_payments"].update(
        {"SANDBOX_POST_SALE_URL": "https://shop.test/feedback", "SANDBOX_POST_SALE_METHOD": "get"}
    )
    form = shop_form()
    assert ogone.check_form(form).notify_url == "https://shop.test/feedback"
    assert ogone.notification(form, status="paid").method == "GET"


@pytest.mark.django_db
def test_issue_endpoint_signs_for_the_cli(sandbox: Any) -> None:
    response = Client().post(
        "/sandbox/ogone_payments/issue/",
        {"reference": "R-9", "amount": "5.00", "currency": "EUR", "receiver": "demoshop"},
    )
    assert response.status_code == 200 and response["X-Sandbox-Method"] == "POST"
    fields = protocol.parse_feedback(response.content)
    assert protocol.verify_feedback(fields, sha_out=ACCOUNT["SHA_OUT"], algorithm="sha512")
    assert fields["orderID"] == "R-9" and fields["amount"] == "5"
    assert fields["COMPLUS"] == "billing:test"
    assert SentNotification.objects.get().authentic


# -- end to end through a real server ------------------------------------------------------------


class Customer:
    """Follows the stand-in's pages with cookies and CSRF, like a browser would."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def pay(self, action: str = "approve", **options: str) -> httpx.Response:
        start = self.http.post(get_integration("ogone_payments").service_url, data=shop_form())
        assert start.status_code == 303, start.text
        page = self.http.get(start.headers["location"])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        decide = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert token and decide
        return self.http.post(
            decide.group(1),
            data={"csrfmiddlewaretoken": token.group(1), "action": action, **options},
        )


@pytest.fixture
def live(sandbox: Any, live_server: Any, transactional_db: Any) -> Any:
    sandbox.BILLING_SANDBOX_URL = live_server.url
    sandbox.BILLING_SITE_URL = live_server.url
    shop_client = httpx.Client(timeout=10)
    http.set_client(shop_client)
    customer = Customer(live_server.url)
    yield customer
    customer.http.close()
    shop_client.close()
    http.set_client(None)


def logs() -> list[tuple[str, str]]:
    return list(NotificationLog.objects.order_by("pk").values_list("kind", "outcome"))


def test_approve_pays_by_post_sale_then_the_redirect_is_a_duplicate(live: Customer) -> None:
    reply = live.pay("approve")
    assert reply.status_code == 302
    back = urlsplit(reply.headers["location"])
    assert back.path == "/billing/ogone_payments/return/"
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert "HTTP 200" in SentNotification.objects.get().delivery
    live.http.get(reply.headers["location"])  # the customer arrives with the feedback
    assert logs() == [
        ("notify", Outcome.APPLIED),
        ("return", Outcome.RECEIVED),
        ("feedback", Outcome.DUPLICATE),
    ]


def test_get_post_sale_is_accepted(live: Customer, sandbox: Any) -> None:
    sandbox.MERCHANT_SETTINGS["ogone_payments"]["SANDBOX_POST_SALE_METHOD"] = "GET"
    live.pay("approve")
    log = NotificationLog.objects.get(kind="notify")
    assert log.method == "GET" and log.outcome == Outcome.APPLIED


def test_decline_fails_the_payment(live: Customer) -> None:
    reply = live.pay("decline")
    assert "STATUS=2" in reply.headers["location"]
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_cancel_sends_no_post_sale(live: Customer) -> None:
    reply = live.pay("cancel")
    assert urlsplit(reply.headers["location"]).path == "/billing/ogone_payments/cancel/"
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert SentNotification.objects.count() == 0 and NotificationLog.objects.count() == 0


def test_twice_is_applied_once(live: Customer) -> None:
    live.pay("approve", send="twice")
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert logs() == [("notify", Outcome.APPLIED), ("notify", Outcome.DUPLICATE)]


def test_tampered_amount_is_rejected_on_both_paths(live: Customer) -> None:
    reply = live.pay("approve", send="tamper")
    live.http.get(reply.headers["location"])
    assert Payment.objects.get().status == PaymentStatus.PENDING
    for kind in ("notify", "feedback"):
        log = NotificationLog.objects.get(kind=kind)
        assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)


def test_different_amount_is_held_for_review(live: Customer) -> None:
    live.pay("approve", send="amount", other_amount="4.00")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "amount 4.00 instead of 10.00" in payment.review_reason


def test_late_post_sale_after_the_redirect(live: Customer) -> None:
    reply = live.pay("approve", send="delay", delay="1")
    live.http.get(reply.headers["location"])  # the redirection pays at once
    assert Payment.objects.get().status == PaymentStatus.PAID
    deadline = time.monotonic() + 15
    while not NotificationLog.objects.filter(kind="notify").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    log = NotificationLog.objects.get(kind="notify")
    while log.outcome not in (Outcome.DUPLICATE, Outcome.APPLIED) and time.monotonic() < deadline:
        time.sleep(0.2)
        log.refresh_from_db()
    assert log.outcome == Outcome.DUPLICATE
