"""The Worldpay stand-in: the order form as Worldpay checks it, the Payment Response, and
the shopper response, end to end through a real server.

The shop's side is billing's Worldpay integration, unchanged; the stand-in reads the
installation's secrets from the same MERCHANT_SETTINGS, as Worldpay holds them from the
Merchant Interface.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from django.test import Client

from billing.models import NotificationLog, Payment, PaymentStatus
from billing.protocols import world_pay as protocol
from billing.sandbox.gateways.world_pay import stand_in as worldpay
from billing.sandbox.models import SentNotification
from tests.sandbox_helpers import (
    Customer,
    StandInFlows,
    assert_refused,
    order_form,
    sandbox_settings,
)

PURCHASE = "/sandbox/world_pay/wcc/purchase"
SETTINGS = {
    "INSTALLATION_ID": "1234",
    "MD5_SECRET": "sandbox-md5-secret",
    "CALLBACK_PASSWORD": "sandbox-callback-password",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(settings: Any) -> Any:
    return sandbox_settings(settings, "world_pay", SETTINGS)


def shop_form(amount: str = "10.00", currency: str = "GBP", **extra: str) -> dict[str, str]:
    """The fields billing's Worldpay integration renders for an order."""
    return order_form("world_pay", amount, currency, **extra)


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
    secrets = (SETTINGS["MD5_SECRET"],)
    assert_refused(response, "Error detected", "invalid or incomplete", message, secrets=secrets)


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


def test_the_cli_builds_the_payment_response_itself(sandbox: Any) -> None:
    data = {"reference": "R-9", "amount": "5.00", "currency": "GBP", "receiver": "1234"}
    response = Client().post("/sandbox/world_pay/issue/", data)  # it carries the password
    assert response.status_code == 400 and not SentNotification.objects.exists()
    assert SETTINGS["CALLBACK_PASSWORD"] not in response.content.decode()
    form = worldpay.form_for(
        reference="R-9", amount=Decimal("5.00"), currency="GBP", receiver="1234"
    )
    fields = parse_qs(worldpay.notification(form, status="paid").body.decode())
    assert fields["cartId"] == ["R-9"] and fields["callbackPW"] == [SETTINGS["CALLBACK_PASSWORD"]]


# -- the hosted page and the flows every stand-in shares (StandInFlows), as this one runs them


class TestWorldPayFlows(StandInFlows):
    slug = "world_pay"
    service_path = PURCHASE
    page_shows = ("10.00 GBP", "ORDER-1", "installation 1234")
    secrets = (SETTINGS["MD5_SECRET"], SETTINGS["CALLBACK_PASSWORD"])
    tampered = b"amount=0.01"
    shop_form = staticmethod(shop_form)

    def check_page(self, fields: dict[str, str]) -> None:
        assert fields["cartId"] == "ORDER-1"

    def check_approved(self, reply: httpx.Response) -> None:
        assert len(Payment.objects.get().transaction_id) == 10
        log = NotificationLog.objects.get(kind="notify")
        assert SETTINGS["CALLBACK_PASSWORD"].encode() not in bytes(log.body)  # stored redacted
        assert SETTINGS["CALLBACK_PASSWORD"] not in reply.text

    def check_declined(self, reply: httpx.Response) -> None:
        assert SentNotification.objects.get().status == "C"

    def test_shop_unreachable_shows_worldpays_own_page(self, live: Customer, sandbox: Any) -> None:
        sandbox.BILLING_SANDBOX_ALLOWED_ORIGINS = ["http://127.0.0.1:9"]  # nothing listens
        page = live.pay("approve", form=shop_form(MC_callback="http://127.0.0.1:9/notify/"))
        assert page.status_code == 200
        assert "error occurred while reporting this transaction" in page.text
        assert Payment.objects.get().status == PaymentStatus.PENDING
