"""The dummy gateway: the whole conformance suite for a few lines, plus its vectors.

The known answers are HMAC-SHA256 with the secret ``dummy-secret``, computed with
``printf '%s' '<pairs>' | openssl dgst -sha256 -hmac dummy-secret``.
"""

from typing import Any
from urllib.parse import urlencode

import pytest

from billing.checks import check_dummy
from billing.protocols import dummy
from billing.protocols.base import Account, Inbound, Verification
from billing.sandbox.gateways.dummy import signature as stand_in_signature
from billing.testing.conformance import IntegrationConformance

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
    account = Account(SETTINGS, test=True, endpoint=str)
    assert dummy.verify(signed, Inbound(b""), account) is Verification.VALID
    tampered = {**signed, "amount": "1.00"}
    assert dummy.verify(tampered, Inbound(b""), account) is Verification.INVALID


def test_a_live_dummy_is_refused(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"dummy": {**SETTINGS, "TEST_MODE": False}}
    [error] = check_dummy()
    assert error.id == "billing.E006"
    settings.MERCHANT_SETTINGS = {"dummy": SETTINGS}
    assert check_dummy() == []


class TestDummyConformance(IntegrationConformance):
    slug = "dummy"
    merchant_settings = SETTINGS


@pytest.mark.parametrize("amount", ["1e999999", "NaN", "-1", "10.001.1"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    from billing.exceptions import MalformedNotification

    signed = {**NOTIFICATION, "amount": amount, "signature": "x"}
    with pytest.raises(MalformedNotification):
        fields = dummy.read(Inbound(urlencode(signed).encode()))
        dummy.notification(fields, Account(SETTINGS, test=True, endpoint=str), "dummy")


def test_a_garbled_signature_is_invalid_not_an_error() -> None:
    """Found by tests/test_fuzz_gateways.py: a flipped byte made the signature non-ASCII,
    and comparing str with non-ASCII characters raised TypeError."""
    garbled = {**NOTIFICATION, "signature": NOTIFICATION_SIGNATURE[:-1] + "\u0100"}
    account = Account(SETTINGS, test=True, endpoint=str)
    assert dummy.verify(garbled, Inbound(b""), account) is Verification.INVALID
