"""The Worldpay stand-in: the order form as Worldpay checks it, the Payment Response, and
the shopper response, end to end through a real server.

The shop's side is billing's Worldpay integration, unchanged; the stand-in reads the
installation's secrets from the same MERCHANT_SETTINGS, as Worldpay holds them from the
Merchant Interface.
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
from billing.protocols import world_pay as protocol
from billing.sandbox.gateways import get_stand_in
from billing.sandbox.gateways.world_pay import stand_in as worldpay
from billing.sandbox.models import Checkout, SentNotification

PURCHASE = "/sandbox/world_pay/wcc/purchase"
SETTINGS = {
    "INSTALLATION_ID": "1234",
    "MD5_SECRET": "sandbox-md5-secret",
    "CALLBACK_PASSWORD": "sandbox-callback-password",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(settings: Any) -> Any:
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = "http://sandbox.test"
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {"world_pay": dict(SETTINGS)}
    return settings


def shop_form(amount: str = "10.00", currency: str = "GBP", **extra: str) -> dict[str, str]:
    """The fields billing's Worldpay integration renders for an order."""
    integration = get_integration("world_pay")
    integration.add_order(
        reference="ORDER-1", amount=Decimal(amount), currency=currency, description="Mug"
    )
    integration.add_fields(extra)
    return integration.generate_form()


def test_sandbox_serves_the_purchase_url(sandbox: Any) -> None:
    assert get_stand_in("world_pay") is worldpay
    assert get_integration("world_pay").service_url == "http://sandbox.test" + PURCHASE


def test_good_form_opens_the_payment_page(sandbox: Any) -> None:
    client = Client()
    response = client.post(PURCHASE, shop_form())
    assert response.status_code == 303
    text = client.get(response["Location"]).content.decode()
    assert "10.00 GBP" in text and "ORDER-1" in text and "installation 1234" in text
    assert "Approve payment" in text and "Cancel and return" in text
    assert Checkout.objects.get().fields["cartId"] == "ORDER-1"


def _signed(**change: str) -> dict[str, str]:
    form = shop_form()
    form.update(change)
    return form


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "1.00"}, "signature does not match"),  # changed after signing
        ({"signature": "0" * 32}, "signature does not match"),
        ({"signature": ""}, "signature is missing"),
        ({"signatureFields": "amount:currency:instId:cartId:desc2"}, "form lacks: desc2"),
        ({"instId": "9999"}, "not an installation this sandbox knows"),
        ({"instId": ""}, "instId is missing"),
        ({"cartId": ""}, "cartId is missing"),
        ({"amount": "10,00"}, "not a number in major units"),
        ({"currency": "pounds"}, "not an ISO 4217 code"),
        ({"testMode": "0"}, "0 is for the production system"),
        ({"MC_callback": "javascript:alert(1)"}, "MC_callback is not an http(s) URL"),
    ],
)
def test_bad_form_gets_worldpays_error_page(
    sandbox: Any, change: dict[str, str], message: str
) -> None:
    response = Client().post(PURCHASE, _signed(**change))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Error detected" in text and "invalid or incomplete" in text
    assert message in text
    assert SETTINGS["MD5_SECRET"] not in text
    assert Checkout.objects.count() == 0


def test_shop_and_worldpay_disagreeing_on_the_secret_is_refused(sandbox: Any) -> None:
    form = shop_form()  # signed with the shop's secret...
    sandbox.MERCHANT_SETTINGS["world_pay"]["MD5_SECRET"] = "what-worldpay-has"
    response = Client().post(PURCHASE, form)  # ...checked with the installation's
    assert response.status_code == 400 and b"signature does not match" in response.content


def test_too_many_decimals_for_the_currency(sandbox: Any) -> None:
    form = shop_form(amount="1000", currency="JPY")
    assert Client().post(PURCHASE, form).status_code == 303
    form = {**form, "signatureFields": "cartId", "amount": "1000.5"}
    form["signature"] = protocol.signature(SETTINGS["MD5_SECRET"], ["ORDER-1"])
    response = Client().post(PURCHASE, form)
    assert b"more decimal places than JPY has" in response.content


def test_payment_response_is_what_the_shops_code_reads(sandbox: Any) -> None:
    form = shop_form(MC_order="7", M_note="x", C_banner="y")
    fields = protocol.parse_callback(worldpay.notification(form, status="paid").body)
    assert fields["callbackPW"] == SETTINGS["CALLBACK_PASSWORD"]
    assert (fields["MC_order"], fields["M_note"]) == ("7", "x") and "C_banner" not in fields
    paid = protocol.to_notification(fields, integration="world_pay")
    assert (paid.status, paid.reference, paid.amount, paid.currency) == (
        "paid",
        "ORDER-1",
        Decimal("10.00"),
        "GBP",
    )
    assert paid.receiver == "1234" and paid.test and len(paid.transaction_id) == 10
    declined = protocol.parse_callback(worldpay.notification(form, status="failed").body)
    assert declined["transStatus"] == "C" and "transId" not in declined  # no decline callback
    with pytest.raises(Exception, match="no such Payment Response"):
        worldpay.notification(form, status="pending")


def test_tamper_changes_the_amount_and_keeps_the_password(sandbox: Any) -> None:
    message = worldpay.tamper(worldpay.notification(shop_form(), status="paid"))
    fields = parse_qs(message.body.decode())
    assert fields["amount"] == ["0.01"] and fields["authAmount"] == ["0.01"]
    assert fields["callbackPW"] == [SETTINGS["CALLBACK_PASSWORD"]]


def test_issue_endpoint_signs_with_the_installation(sandbox: Any) -> None:
    data = {"reference": "R-9", "amount": "5.00", "currency": "GBP", "receiver": "1234"}
    response = Client().post("/sandbox/world_pay/issue/", data)
    assert response.status_code == 200
    assert parse_qs(response.content.decode())["cartId"] == ["R-9"]
    assert bytes(SentNotification.objects.get().body) == response.content


# -- end to end through a real server ---------------------------------------------------------


class Shopper:
    """A browser without a browser: the payment page's buttons, with cookies and CSRF."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def pay(self, action: str, form: dict[str, str] | None = None, **options: str) -> Any:
        start = self.http.post(PURCHASE, data=form or shop_form())
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
    shopper = Shopper(live_server.url)
    yield shopper
    shopper.http.close()
    shop_client.close()
    http.set_client(None)


def outcomes() -> list[str]:
    logs = NotificationLog.objects.filter(kind="notify").order_by("pk")
    return list(logs.values_list("outcome", flat=True))


def link(page: Any) -> str:
    """Where the page the shopper sees (the shop's answer) sends them."""
    found = re.search(r'<meta http-equiv="refresh" content="\d+;url=([^"]+)">', page.text)
    assert found, page.text
    return found.group(1)


def test_approve_calls_back_and_shows_the_shops_page(live: Shopper) -> None:
    page = live.pay("approve")
    assert page.status_code == 200  # Worldpay's URL, the shop's page
    assert link(page).endswith("/billing/world_pay/return/?ref=ORDER-1")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PAID and len(payment.transaction_id) == 10
    log = NotificationLog.objects.get(kind="notify")
    assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.APPLIED)
    assert SETTINGS["CALLBACK_PASSWORD"].encode() not in bytes(log.body)  # stored redacted
    assert SETTINGS["CALLBACK_PASSWORD"] not in page.text


def test_decline_is_a_refused_card_then_a_cancellation(live: Shopper) -> None:
    page = live.pay("decline")
    assert link(page).endswith("/billing/world_pay/cancel/?ref=ORDER-1")
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    assert SentNotification.objects.get().status == "C"


def test_cancel_is_reported_to_the_shop(live: Shopper) -> None:
    page = live.pay("cancel")
    assert link(page).endswith("/billing/world_pay/cancel/?ref=ORDER-1")
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    assert outcomes() == [Outcome.APPLIED]


def test_twice_is_applied_once(live: Shopper) -> None:
    live.pay("approve", send="twice")
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_tampered_amount_passes_the_password_and_is_held(live: Shopper) -> None:
    """No signature to break: the amount check is what keeps the order unpaid."""
    live.pay("approve", send="tamper")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "amount 0.01 instead of 10.00" in payment.review_reason
    log = NotificationLog.objects.get(kind="notify")
    assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.HELD)


def test_different_amount_is_held(live: Shopper) -> None:
    live.pay("approve", send="amount", other_amount="4.00")
    assert Payment.objects.get().status == PaymentStatus.REVIEW


def test_shop_unreachable_shows_worldpays_own_page(live: Shopper) -> None:
    page = live.pay("approve", form=shop_form(MC_callback="http://127.0.0.1:9/notify/"))
    assert page.status_code == 200
    assert "error occurred while reporting this transaction" in page.text
    assert Payment.objects.get().status == PaymentStatus.PENDING
