"""PayU India: the conformance suite, known answers, and the attacks on its response hash.

Known answers, computed outside our code:
- the request hash is PayU's own worked example ("Hash generation", key ``C0Dr8m``,
  salt ``3sf0jURk``, udf2 ``abc``, udf4 ``15``), which
  ``printf '%s' 'C0Dr8m|12345|10|Shopping|Test|test@test.com||abc||15|||||||3sf0jURk'
  | sha512sum`` reproduces;
- the response hashes of that order are
  ``printf '%s' '3sf0jURk|success|||||||15||abc||test@test.com|Test|Shopping|10|12345|C0Dr8m'
  | sha512sum``, and the same with ``2.50|`` in front for additional charges of 2.50.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, PaymentStatus
from billing.protocols import payu_in
from billing.protocols.base import Account, Inbound, Verification
from billing.registry import get_integration
from billing.sandbox.gateways import payu_in as stand_in_module
from billing.testing.conformance import IntegrationConformance
from tests.helpers import form_renderer, outcomes, payment_of, poster, settings_fixture

KEY, SALT = "payu-demo-key", "payu-demo-salt"
SETTINGS = {"MERCHANT_KEY": KEY, "SALT": SALT}
EXAMPLE = {
    "key": "C0Dr8m",
    "txnid": "12345",
    "amount": "10",
    "productinfo": "Shopping",
    "firstname": "Test",
    "email": "test@test.com",
    "udf2": "abc",
    "udf4": "15",
}
EXAMPLE_SALT = "3sf0jURk"
REQUEST_HASH = (
    "ffcdbf04fa5beefdcc2dd476c18bc410f02b3968e7f4f54e8f43f1e1a310bb32"
    "e3b4dec9305232bb89db5b1d0c009a53bcace6f4bd8ec2f695baf3d43ba730ce"
)
RESPONSE_HASH = (
    "012af4d4cc8a3d93ef15ff56da20f74ac9f3f3d713f7d34fba17ff606793eda2"
    "69b807ef06dd5c9267ed3113d0cc1050dd2ebc2079cad68e03215c2593c61d4f"
)
CHARGES_HASH = (
    "afbe9fd1944c1d21759071f278eb6d664517b4df95bbf4284d7d0d3c893b9a3a"
    "f85258303f2ec6573551e25177043d7d09d2040cb02d046afd2827cc9c72089d"
)
ACCOUNT = Account({"MERCHANT_KEY": "C0Dr8m", "SALT": EXAMPLE_SALT}, test=True, endpoint=str)
post = poster("payu_in")
payment = payment_of("payu_in")


class TestPayuInConformance(IntegrationConformance):
    slug = "payu_in"
    merchant_settings = SETTINGS
    currency = "INR"

    def secrets(self) -> list[str]:
        return [SALT]


def test_known_answers_on_both_sides() -> None:
    assert payu_in.request_hash(EXAMPLE, EXAMPLE_SALT) == REQUEST_HASH
    assert stand_in_module.request_hash(EXAMPLE, EXAMPLE_SALT) == REQUEST_HASH
    response = {**EXAMPLE, "status": "success", "hash": RESPONSE_HASH.upper()}
    assert payu_in.response_hash(response, EXAMPLE_SALT) == RESPONSE_HASH
    assert stand_in_module.reverse_hash(response, EXAMPLE_SALT) == RESPONSE_HASH
    assert payu_in.verify(response, Inbound(b""), ACCOUNT) is Verification.VALID


@pytest.mark.parametrize("name", ["additional_charges", "additionalCharges"])
def test_additional_charges_come_first_in_the_reverse_hash(name: str) -> None:
    response = {**EXAMPLE, "status": "success", name: "2.50", "hash": CHARGES_HASH}
    assert payu_in.verify(response, Inbound(b""), ACCOUNT) is Verification.VALID
    dropped = {k: v for k, v in response.items() if k != name}  # the fee hidden
    assert payu_in.verify(dropped, Inbound(b""), ACCOUNT) is Verification.INVALID
    swapped = {**response, "amount": "2.50", name: "10"}  # fee and amount swapped
    assert payu_in.verify(swapped, Inbound(b""), ACCOUNT) is Verification.INVALID
    both = {**response, "additional_charges": "2.50", "additionalCharges": "0.01"}
    with pytest.raises(MalformedNotification):
        payu_in.read(Inbound(urlencode(both).encode()))


# -- the attacks, end to end through notify/ -----------------------------------------------


shop = settings_fixture("payu_in", SETTINGS)
rendered = form_renderer("payu_in", "INR")


def response(form: dict[str, str], salt: str = SALT, **changes: str) -> dict[str, str]:
    """PayU's response to ``form``, changed and then signed with ``salt`` (the stand-in's
    reverse hash, written apart from the protocol's)."""
    names = ("key", "txnid", "amount", "productinfo", "firstname", "email")
    sent = {"mihpayid": "403993715500000001", "status": "success"}
    sent.update({name: form.get(name, "") for name in names})
    sent.update({f"udf{i}": form.get(f"udf{i}", "") for i in range(1, 11)}, **changes)
    sent["hash"] = stand_in_module.reverse_hash(sent, salt)
    return sent


@pytest.mark.django_db
def test_the_form_carries_the_key_and_the_mode_never_the_salt(shop: Any) -> None:
    form = rendered()
    assert form["key"] == KEY and form["udf5"] == "billing-test"
    assert SALT not in form.values()
    assert stand_in_module.stand_in.check_form(form).total == Decimal("10.00")
    with pytest.raises(InvalidData, match="udf5"):
        payu_in.form(
            {"txnid": "T", "amount": "1", "udf5": "mine"}, get_integration("payu_in").account
        )
    with pytest.raises(InvalidData, match="udf6"):
        payu_in.form({"txnid": "T", "amount": "1", "udf6": "x"}, get_integration("payu_in").account)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "salt",
    [KEY, "another-accounts-salt", ""],
    ids=["merchant-key-as-salt", "another-salt", "no-salt"],
)
def test_a_response_signed_with_the_wrong_secret_is_rejected(
    shop: Any, salt: str, django_capture_on_commit_callbacks: Any
) -> None:
    post(urlencode(response(rendered(), salt=salt)).encode(), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert outcomes() == [Outcome.REJECTED]


@pytest.mark.django_db
def test_a_response_for_another_order_cannot_be_moved_to_this_one(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The customer pays a 1.00 order and replays its signed response for a 10.00 one."""
    cheap = response(rendered("CHEAP", "1.00"))
    rendered("DEAR", "10.00")
    swapped = {**cheap, "txnid": "DEAR"}
    post(urlencode(swapped).encode(), django_capture_on_commit_callbacks)
    assert payment("DEAR").status == PaymentStatus.PENDING
    assert payment("CHEAP").status == PaymentStatus.PENDING
    assert outcomes() == [Outcome.REJECTED]


@pytest.mark.django_db
def test_a_replay_under_a_new_mihpayid_is_not_applied_again(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """mihpayid is outside the hash: changing it makes a replay look new, nothing more."""
    signed = response(rendered())
    post(urlencode(signed).encode(), django_capture_on_commit_callbacks)
    post(urlencode({**signed, "mihpayid": "999"}).encode(), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PAID and payment().events.count() == 1
    assert outcomes() == [Outcome.APPLIED, Outcome.STALE]


@pytest.mark.django_db
def test_a_test_response_on_a_live_shop_is_held(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The live form says billing-live in udf5; a test environment's answer says test."""
    shop.MERCHANT_TEST_MODE = False
    form = rendered()
    assert form["udf5"] == "billing-live"
    post(
        urlencode(response(form, udf5="billing-test")).encode(), django_capture_on_commit_callbacks
    )
    assert payment().status == PaymentStatus.REVIEW
    assert NotificationLog.objects.get().outcome == Outcome.HELD


@pytest.mark.django_db
def test_a_failure_fails_and_a_pending_waits(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = rendered()
    post(urlencode(response(form, status="pending")).encode(), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    post(urlencode(response(form, status="failure")).encode(), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.FAILED


@pytest.mark.parametrize("amount", ["1e999999", "NaN", "-1", "10.001.1", "١٠"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    fields = {"key": KEY, "txnid": "T", "status": "success", "amount": amount, "hash": "x"}
    with pytest.raises(MalformedNotification):
        payu_in.notification(payu_in.read(Inbound(urlencode(fields).encode())), ACCOUNT, "payu_in")
