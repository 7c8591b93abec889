"""The Global Payments HPP stand-in: the request as the HPP checks it, the hashed response,
and the response page shown to the customer, end to end through a real server.

The shop's side is billing's Global Payments integration, unchanged; the stand-in reads
the merchant's shared secret from the same MERCHANT_SETTINGS, as Global Payments holds it.
"""

import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from django.test import Client

from billing import get_integration, http
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import global_payments as protocol
from billing.protocols.base import Verification
from billing.sandbox.gateways import get_stand_in
from billing.sandbox.gateways.global_payments import stand_in as hpp
from billing.sandbox.models import Checkout, SentNotification

PAY = "/sandbox/global_payments/pay"
SECRET = "sandbox-shared-secret"
SETTINGS = {"MERCHANT_ID": "shopmerchant", "ACCOUNT": "internet", "SHARED_SECRET": SECRET}

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(settings: Any) -> Any:
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = "http://sandbox.test"
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {"global_payments": dict(SETTINGS)}
    return settings


def shop_form(amount: str = "10.00", currency: str = "GBP", **extra: str) -> dict[str, str]:
    """The fields billing's Global Payments integration renders for an order."""
    integration = get_integration("global_payments")
    integration.add_order(
        reference="ORDER-1", amount=Decimal(amount), currency=currency, description="Mug"
    )
    integration.add_fields(extra)
    return integration.generate_form()


def test_sandbox_serves_the_pay_url(sandbox: Any) -> None:
    assert get_stand_in("global_payments") is hpp
    assert get_integration("global_payments").service_url == "http://sandbox.test" + PAY


def test_good_request_opens_the_payment_page(sandbox: Any) -> None:
    client = Client()
    response = client.post(PAY, shop_form())
    assert response.status_code == 303
    text = client.get(response["Location"]).content.decode()
    assert "10.00 GBP" in text and "shopmerchant" in text and "Mug" in text
    assert Checkout.objects.get().fields["ORDER_ID"].startswith("ORDER-1_1000GBP_")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AMOUNT": "100"}, "SHA1HASH is incorrect"),  # changed after hashing
        ({"SHA1HASH": "0" * 40}, "SHA1HASH is incorrect"),
        ({"SHA1HASH": ""}, "SHA1HASH (or SHA256HASH) is missing"),
        ({"MERCHANT_ID": "someoneelse"}, "not a merchant this sandbox knows"),
        ({"ACCOUNT": "moto"}, "not a sub-account of shopmerchant"),
        ({"ORDER_ID": "ORDER 1"}, "ORDER_ID must be 1 to 50 characters"),
        ({"AMOUNT": "10.00"}, "not in minor units"),
        ({"CURRENCY": ""}, "not an ISO 4217 code"),
        ({"TIMESTAMP": "yesterday"}, "TIMESTAMP must be YYYYMMDDHHMMSS"),
        ({"PAYER_REF": "p-1"}, "does not model these"),
        ({"MERCHANT_RESPONSE_URL": "ftp://shop.test/"}, "not an http(s) URL"),
    ],
)
def test_bad_request_gets_the_hpps_error_page(
    sandbox: Any, change: dict[str, str], message: str
) -> None:
    response = Client().post(PAY, {**shop_form(), **change})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Error detected" in text and "cannot be processed" in text
    assert message in text and SECRET not in text
    assert Checkout.objects.count() == 0


def test_shop_and_gateway_disagreeing_on_the_secret_is_refused(sandbox: Any) -> None:
    form = shop_form()
    sandbox.MERCHANT_SETTINGS["global_payments"]["SHARED_SECRET"] = "what-global-payments-has"
    assert b"SHA1HASH is incorrect" in Client().post(PAY, form).content


def test_sha256_request_gets_a_sha256_response_the_shop_accepts(sandbox: Any) -> None:
    sandbox.MERCHANT_SETTINGS["global_payments"]["HASH_ALGORITHM"] = "sha256"
    form = shop_form()
    assert "SHA256HASH" in form and Client().post(PAY, form).status_code == 303
    fields = protocol.parse_response(hpp.notification(form, status="paid").body)
    assert "SHA256HASH" in fields and "SHA1HASH" not in fields
    assert protocol.verify_response(fields, secret=SECRET, algorithm="sha256") == (
        Verification.VALID
    )


def test_response_is_what_the_shops_code_reads(sandbox: Any) -> None:
    form = shop_form(COMMENT2="gift", RESULT="00", HPP_LANG="en")
    paid_fields = protocol.parse_response(hpp.notification(form, status="paid").body)
    assert protocol.verify_response(paid_fields, secret=SECRET, algorithm="sha1") == (
        Verification.VALID
    )
    paid = protocol.to_notification(paid_fields, integration="global_payments", test=True)
    assert (paid.status, paid.reference, paid.amount, paid.currency) == (
        "paid",
        "ORDER-1",
        Decimal("10.00"),
        "GBP",
    )
    assert paid.receiver == "shopmerchant:internet" and paid_fields["AMOUNT"] == "1000"
    assert (paid_fields["COMMENT1"], paid_fields["COMMENT2"]) == ("Mug", "gift")  # passed back
    assert "HPP_LANG" not in paid_fields and "MERCHANT_RESPONSE_URL" not in paid_fields
    declined = protocol.parse_response(hpp.notification(form, status="failed").body)
    assert (declined["RESULT"], declined["AUTHCODE"]) == ("101", "")  # a field cannot pose
    assert protocol.to_notification(declined, integration="global_payments", test=True).status == (
        "failed"
    )


def test_tamper_changes_only_the_unhashed_amount(sandbox: Any) -> None:
    message = hpp.tamper(hpp.notification(shop_form(), status="paid"))
    fields = protocol.parse_response(message.body)
    assert fields["AMOUNT"] == "1"
    assert protocol.verify_response(fields, secret=SECRET, algorithm="sha1") == (
        Verification.INVALID  # the hash still matches; the ORDER_ID's amount does not
    )


def test_a_processed_order_id_is_refused(sandbox: Any) -> None:
    form = shop_form()
    Client().post(PAY, form)
    Checkout.objects.update(decision="approved")
    response = Client().post(PAY, form)
    assert response.status_code == 400 and b"has already been processed" in response.content


def test_issue_endpoint_hashes_with_the_merchants_secret(sandbox: Any) -> None:
    data = {"reference": "R-9", "amount": "5.00", "currency": "EUR", "receiver": "shopmerchant"}
    response = Client().post("/sandbox/global_payments/issue/", data)
    assert response.status_code == 200
    fields = {k: v[0] for k, v in parse_qs(response.content.decode()).items()}
    assert (fields["ORDER_ID"], fields["AMOUNT"], fields["RESULT"]) == ("R-9", "500", "00")
    assert protocol.verify_response(fields, secret=SECRET, algorithm="sha1") == Verification.VALID


# -- end to end through a real server ---------------------------------------------------------


class Customer:
    """A browser without a browser: the HPP's buttons, with cookies and CSRF."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def pay(self, action: str, **options: str) -> Any:
        start = self.http.post(PAY, data=shop_form())
        assert start.status_code == 303, start.text
        page = self.http.get(start.headers["location"])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        decide = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert token and decide
        data = {"csrfmiddlewaretoken": token.group(1), "action": action, **options}
        return self.http.post(decide.group(1), data=data)


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


def outcomes() -> list[str]:
    logs = NotificationLog.objects.filter(kind="notify").order_by("pk")
    return list(logs.values_list("outcome", flat=True))


def link(page: Any) -> str:
    found = re.search(r'<meta http-equiv="refresh" content="\d+;url=([^"]+)">', page.text)
    assert found, page.text
    return found.group(1)


def test_approve_posts_the_response_and_shows_the_shops_page(live: Customer) -> None:
    page = live.pay("approve")
    assert page.status_code == 200
    assert link(page).endswith("/billing/global_payments/return/?ref=ORDER-1")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PAID
    assert payment.transaction_id == SentNotification.objects.get().transaction_id  # PASREF
    log = NotificationLog.objects.get(kind="notify")
    assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.APPLIED)


def test_decline_fails_the_payment(live: Customer) -> None:
    page = live.pay("decline")
    assert link(page).endswith("/billing/global_payments/return/?ref=ORDER-1")
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_leaving_the_page_tells_the_shop_nothing(live: Customer) -> None:
    page = live.pay("cancel")
    assert page.status_code == 200 and "Checkout cancelled" in page.text
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert not NotificationLog.objects.exists() and not SentNotification.objects.exists()


def test_twice_is_applied_once(live: Customer) -> None:
    live.pay("approve", send="twice")
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_tampered_amount_is_rejected(live: Customer) -> None:
    live.pay("approve", send="tamper")
    assert Payment.objects.get().status == PaymentStatus.PENDING
    log = NotificationLog.objects.get(kind="notify")
    assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    assert b"AMOUNT=1&" in bytes(log.body)


def test_different_amount_is_rejected_like_a_tampered_one(live: Customer) -> None:
    """The hash does not cover AMOUNT, so the shop cannot tell the two apart."""
    live.pay("approve", send="amount", other_amount="4.00")
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get(kind="notify").verification == Verdict.INVALID
