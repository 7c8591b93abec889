"""The Worldline (Ogone) stand-in: SHA-IN checks, hosted page, post-sale request, redirection.

The stand-in is written from Worldline's guide; these tests put it face to face with the
shop's integration (billing.protocols.ogone_payments), through a real server at the end.
"""

import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from billing.models import NotificationLog, Outcome, Payment, PaymentStatus
from billing.protocols import ogone_payments as protocol
from billing.sandbox.gateways.base import FormRejected
from billing.sandbox.gateways.ogone_payments import sha_sign
from billing.sandbox.gateways.ogone_payments import stand_in as ogone
from billing.sandbox.models import SentNotification
from tests.sandbox_helpers import (
    Customer,
    StandInFlows,
    assert_refused,
    logs,
    order_form,
    sandbox_settings,
)

SERVICE = "/sandbox/ogone_payments/ncol/test/orderstandard_utf8.asp"
ACCOUNT = {
    "PSPID": "demoshop",
    "SHA_IN": "sandbox-sha-in-passphrase",
    "SHA_OUT": "sandbox-sha-out-passphrase",
    "HASH_ALGORITHM": "sha512",
}


@pytest.fixture
def sandbox(settings: Any) -> Any:
    settings.BILLING_SITE_URL = ""  # the post-sale URL is derived from the sandbox's origin
    return sandbox_settings(settings, "ogone_payments", ACCOUNT)


def shop_form(**extra: Any) -> dict[str, str]:
    """The fields billing's Worldline integration renders for an order."""
    return order_form("ogone_payments", host="shop.test", **extra)


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
    assert_refused(response, title, secrets=(ACCOUNT["SHA_IN"],))


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
    assert_refused(Client().post(SERVICE, resign({**shop_form(), **change})), message)


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
def test_the_cli_signs_the_feedback_itself(sandbox: Any) -> None:
    response = Client().post(
        "/sandbox/ogone_payments/issue/",
        {"reference": "R-9", "amount": "5.00", "currency": "EUR", "receiver": "demoshop"},
    )
    assert response.status_code == 400 and not SentNotification.objects.exists()
    form = ogone.form_for(
        reference="R-9", amount=Decimal("5.00"), currency="EUR", receiver="demoshop"
    )
    message = ogone.notification(form, status="paid")
    assert message.method == "POST"
    fields = protocol.parse_feedback(message.body)
    assert protocol.verify_feedback(fields, sha_out=ACCOUNT["SHA_OUT"], algorithm="sha512")
    assert fields["orderID"] == "R-9" and fields["amount"] == "5"
    assert fields["COMPLUS"] == "billing:test"


# -- the hosted page and the flows every stand-in shares (StandInFlows), as this one runs them


class TestOgoneFlows(StandInFlows):
    slug = "ogone_payments"
    service_path = SERVICE
    page_shows = (
        "10.00 EUR",
        "demoshop",
        "ORDER-1",
        "Mug",
        # The post-sale URL comes from the "back office" (derived), not from the form.
        "http://sandbox.test/billing/ogone_payments/notify/",
    )
    secrets = (ACCOUNT["SHA_IN"], ACCOUNT["SHA_OUT"])
    tampered = b"amount=0.01"
    shop_form = staticmethod(shop_form)

    def check_page(self, fields: dict[str, str]) -> None:
        assert fields["ORDERID"] == "ORDER-1"

    def check_approved(self, reply: httpx.Response) -> None:
        # The post-sale request paid it; the customer arrives with the same event.
        assert logs() == [
            ("notify", Outcome.APPLIED),
            ("return", Outcome.RECEIVED),
            ("feedback", Outcome.DUPLICATE),
        ]

    def check_declined(self, reply: httpx.Response) -> None:
        assert "STATUS=2" in reply.headers["location"]

    def test_get_post_sale_is_accepted(self, live: Customer, sandbox: Any) -> None:
        sandbox.MERCHANT_SETTINGS["ogone_payments"]["SANDBOX_POST_SALE_METHOD"] = "GET"
        live.pay("approve")
        log = NotificationLog.objects.get(kind="notify")
        assert log.method == "GET" and log.outcome == Outcome.APPLIED

    def test_late_post_sale_after_the_redirect(self, live: Customer) -> None:
        reply = live.pay("approve", send="delay", delay="1")
        live.http.get(reply.headers["location"])  # the redirection pays at once
        assert Payment.objects.get().status == PaymentStatus.PAID
        deadline = time.monotonic() + 15
        while not NotificationLog.objects.filter(kind="notify").exists():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        log = NotificationLog.objects.get(kind="notify")
        while (
            log.outcome not in (Outcome.DUPLICATE, Outcome.APPLIED) and time.monotonic() < deadline
        ):
            time.sleep(0.2)
            log.refresh_from_db()
        assert log.outcome == Outcome.DUPLICATE
