"""The Global Payments HPP stand-in: the request as the HPP checks it, the hashed response,
and the response page shown to the customer, end to end through a real server.

The shop's side is billing's Global Payments integration, unchanged; the stand-in reads
the merchant's shared secret from the same MERCHANT_SETTINGS, as Global Payments holds it.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from django.test import Client

from billing.protocols import global_payments as protocol
from billing.protocols.base import Verification
from billing.sandbox.gateways.global_payments import stand_in as hpp
from billing.sandbox.models import Checkout
from tests.sandbox_helpers import StandInFlows, assert_refused, order_form, sandbox_settings

PAY = "/sandbox/global_payments/pay"
SECRET = "sandbox-shared-secret"
SETTINGS = {"MERCHANT_ID": "shopmerchant", "ACCOUNT": "internet", "SHARED_SECRET": SECRET}

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(settings: Any) -> Any:
    return sandbox_settings(settings, "global_payments", SETTINGS)


def shop_form(amount: str = "10.00", currency: str = "GBP", **extra: str) -> dict[str, str]:
    """The fields billing's Global Payments integration renders for an order."""
    return order_form("global_payments", amount, currency, **extra)


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
    assert_refused(response, "Error detected", "cannot be processed", message, secrets=(SECRET,))


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


def test_the_cli_hashes_the_response_itself(sandbox: Any) -> None:
    data = {"reference": "R-9", "amount": "5.00", "currency": "EUR", "receiver": "shopmerchant"}
    response = Client().post("/sandbox/global_payments/issue/", data)  # hashed with the secret
    assert response.status_code == 400 and b"billing send" in response.content
    form = hpp.form_for(
        reference="R-9", amount=Decimal("5.00"), currency="EUR", receiver="shopmerchant"
    )
    body = hpp.notification(form, status="paid").body
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert (fields["ORDER_ID"], fields["AMOUNT"], fields["RESULT"]) == ("R-9", "500", "00")
    assert protocol.verify_response(fields, secret=SECRET, algorithm="sha1") == Verification.VALID


# -- the hosted page and the flows every stand-in shares (StandInFlows), as this one runs them


class TestGlobalPaymentsFlows(StandInFlows):
    slug = "global_payments"
    service_path = PAY
    page_shows = ("10.00 GBP", "shopmerchant", "Mug")
    secrets = (SECRET,)
    tampered = b"AMOUNT=1&"
    shop_form = staticmethod(shop_form)

    def check_page(self, fields: dict[str, str]) -> None:
        assert fields["ORDER_ID"].startswith("ORDER-1_1000GBP_")

    def check_cancelled(self, reply: httpx.Response) -> None:
        assert reply.status_code == 200 and "Checkout cancelled" in reply.text
