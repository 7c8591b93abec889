"""The dummy gateway: the whole conformance suite for a few lines, plus its vectors.

The known answers are HMAC-SHA256 with the secret ``dummy-secret``, computed with
``printf '%s' '<pairs>' | openssl dgst -sha256 -hmac dummy-secret``.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from billing.checks import check_dummy
from billing.protocols import dummy
from billing.protocols.base import Verification
from billing.sandbox.gateways.dummy import signature as stand_in_signature
from billing.testing.conformance import Delivery, IntegrationConformance

SECRET = "dummy-secret"
SETTINGS = {"MERCHANT_ID": "M-1", "SECRET": SECRET}
FORM = {
    "amount": "10.00",
    "cancel_url": "https://shop.example/c",
    "currency": "EUR",
    "merchant": "M-1",
    "notify_url": "https://shop.example/n",
    "reference": "ORDER-1",
    "return_url": "https://shop.example/r",
}
FORM_SIGNATURE = "b57ce9eae329d67c55054390ccef49c94addbcce31af07c4f44e145c96fe86f0"
NOTIFICATION = {
    "amount": "10.00",
    "currency": "EUR",
    "merchant": "M-1",
    "reference": "ORDER-1",
    "status": "paid",
    "test": "1",
    "transaction": "T-1",
}
NOTIFICATION_SIGNATURE = "47afe3b3d4d5d1316b32e93cf0c42fc0435707d5afcbca875a1916e0615836eb"


def test_known_answers_on_both_sides() -> None:
    assert dummy.sign(FORM, SECRET) == stand_in_signature(FORM, SECRET) == FORM_SIGNATURE
    signed = {**NOTIFICATION, "signature": NOTIFICATION_SIGNATURE}
    assert dummy.verify(signed, secret=SECRET) is Verification.VALID
    assert dummy.verify({**signed, "amount": "1.00"}, secret=SECRET) is Verification.INVALID


def test_a_live_dummy_is_refused(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"dummy": {**SETTINGS, "TEST_MODE": False}}
    [error] = check_dummy()
    assert error.id == "billing.E006"
    settings.MERCHANT_SETTINGS = {"dummy": SETTINGS}
    assert check_dummy() == []


class TestDummyConformance(IntegrationConformance):
    slug = "dummy"
    merchant_settings = SETTINGS
    currency = "USD"  # the suite's "other currency" is EUR

    def order(self, reference: str, amount: Decimal, currency: str) -> dict[str, str]:
        return {"reference": reference, "amount": str(amount), "currency": currency}

    def gateway_notification(
        self,
        form: dict[str, str],
        *,
        status: str = "paid",
        amount: Decimal | None = None,
        currency: str | None = None,
        receiver: str | None = None,
        test: bool | None = None,
        transaction_id: str = "TX-1",
    ) -> Delivery:
        sent = {
            "merchant": receiver or form["merchant"],
            "reference": form["reference"],
            "transaction": transaction_id,
            "amount": str(amount if amount is not None else form["amount"]),
            "currency": currency or form["currency"],
            "status": {"paid": "paid", "failed": "failed", "cancelled": "cancelled"}[status],
            "test": "0" if test is False else "1",
        }
        sent["signature"] = stand_in_signature(sent, SECRET)
        return Delivery(body=urlencode(sent).encode())

    def tamper(self, delivery: Delivery) -> Delivery:
        return Delivery(body=delivery.body.replace(b"amount=10.00", b"amount=0.01"))

    def forge(self, form: dict[str, str]) -> Delivery:
        sent = {**NOTIFICATION, "reference": form["reference"], "signature": "0" * 64}
        return Delivery(body=urlencode(sent).encode())


@pytest.mark.parametrize("amount", ["1e999999", "NaN", "-1", "10.001.1"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    from billing.exceptions import MalformedNotification

    signed = {**NOTIFICATION, "amount": amount, "signature": "x"}
    with pytest.raises(MalformedNotification):
        dummy.to_notification(dummy.parse(urlencode(signed).encode()), integration="dummy")
