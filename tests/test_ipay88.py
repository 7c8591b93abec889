"""iPay88 Malaysia: the conformance suite, known-answer vectors and attacks.

Known answers:
- iPay88's own worked examples (OPSG Technical Specification (Merchant Tokenization)
  v1.0.6, section 3, merchant key ``apple``), also reproduced with
  ``printf '%s' 'appleM00003A00000001100MYR' | openssl dgst -sha256`` and
  ``printf '%s' 'appleM000032A00000001100MYR1' | openssl dgst -sha256``;
- a response with a thousands comma, key ``k3y``:
  ``printf '%s' 'k3yM0000122ORD-9-TEST127899MYR1' | openssl dgst -sha256``.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, PaymentStatus
from billing.protocols import ipay88
from billing.protocols.base import Account, Inbound, Status, Verification
from billing.sandbox.gateways import ipay88 as gateway
from billing.testing.conformance import IntegrationConformance
from tests.helpers import form_renderer, payment_status, poster, settings_fixture

KEY = "conformance-ipay88-key"
SETTINGS = {"MERCHANT_CODE": "M00003", "MERCHANT_KEY": KEY}
NOTIFY = "/billing/ipay88/notify/"

GUIDE_REQUEST = {"MerchantCode": "M00003", "RefNo": "A00000001", "Amount": "1.00"}
GUIDE_REQUEST["Currency"] = "MYR"
GUIDE_REQUEST_SIGNATURE = "110f0be755ccfa9373aa38104bafbc5c6e5462344e44bcfbb70439c82b4b07fa"
GUIDE_RESPONSE = {**GUIDE_REQUEST, "PaymentId": "2", "Status": "1"}
GUIDE_RESPONSE_SIGNATURE = "f173a2521d178574caab19ab7ddd04b299dbc0d656a26c1d1aabf9187dfbf352"
COMMA_RESPONSE = {
    "MerchantCode": "M00001",
    "PaymentId": "22",
    "RefNo": "ORD-9-TEST",
    "Amount": "1,278.99",
    "Currency": "MYR",
    "Status": "1",
}
COMMA_SIGNATURE = "e0431f7028a7e4d7a17cf6e614c6855dc28948433ec369bab0334e6c45a80ec1"


def account(test: bool = True, key: str = KEY) -> Account:
    return Account({**SETTINGS, "MERCHANT_KEY": key}, test=test, endpoint=str)


class TestIpay88Conformance(IntegrationConformance):
    slug = "ipay88"
    merchant_settings = SETTINGS
    currency = "MYR"
    other_currency = "USD"

    def secrets(self) -> list[str]:
        return [KEY]


def test_guide_examples_on_both_sides() -> None:
    assert ipay88.request_signature(GUIDE_REQUEST, "apple") == GUIDE_REQUEST_SIGNATURE
    assert gateway.request_signature(GUIDE_REQUEST, "apple") == GUIDE_REQUEST_SIGNATURE
    assert ipay88.response_signature(GUIDE_RESPONSE, "apple") == GUIDE_RESPONSE_SIGNATURE
    assert gateway.response_signature(GUIDE_RESPONSE, "apple") == GUIDE_RESPONSE_SIGNATURE
    signed = {**GUIDE_RESPONSE, "Signature": GUIDE_RESPONSE_SIGNATURE.upper()}
    assert ipay88.verify(signed, Inbound(b""), account(key="apple")) is Verification.VALID


def test_thousands_comma_known_answer() -> None:
    assert ipay88.response_signature(COMMA_RESPONSE, "k3y") == COMMA_SIGNATURE
    assert gateway.response_signature(COMMA_RESPONSE, "k3y") == COMMA_SIGNATURE
    signed = {**COMMA_RESPONSE, "Signature": COMMA_SIGNATURE, "TransId": "T1"}
    n = ipay88.notification(signed, account(test=False), "ipay88")
    assert (n.reference, n.amount, n.test, n.status) == (
        "ORD-9",
        Decimal("1278.99"),
        True,
        Status.PAID,
    )


def test_form_is_signed_and_mode_marked() -> None:
    fields = {"RefNo": "A00000001", "Amount": Decimal("1"), "Currency": "myr"}
    live = ipay88.form(fields, Account({**SETTINGS, "MERCHANT_KEY": "apple"}, False, str))
    assert live["Signature"] == GUIDE_REQUEST_SIGNATURE and live["SignatureType"] == "SHA256"
    test = ipay88.form(fields, Account({**SETTINGS, "MERCHANT_KEY": "apple"}, True, str))
    assert test["RefNo"] == "A00000001-TEST"
    assert ipay88.terms(test, account()).reference == "A00000001"
    with pytest.raises(InvalidData):
        ipay88.form({**fields, "RefNo": "X-TEST"}, account(test=False))


def response(**changes: str) -> dict[str, str]:
    sent = {
        "MerchantCode": "M00003",
        "PaymentId": "2",
        "RefNo": "ORDER-1-TEST",
        "Amount": "10.00",
        "Currency": "MYR",
        "TransId": "T0123",
        "Status": "1",
        "ErrDesc": "",
    }
    sent.update(changes)
    return sent


@pytest.mark.parametrize(
    ("status", "err", "expected"),
    [
        ("1", "", Status.PAID),
        ("0", "Declined by bank", Status.FAILED),
        ("0", "Customer Cancel Transaction", Status.CANCELLED),
        ("6", "", Status.UNKNOWN),
    ],
)
def test_statuses(status: str, err: str, expected: Status) -> None:
    fields = response(Status=status, ErrDesc=err)
    assert ipay88.notification(fields, account(), "ipay88").status is expected


@pytest.mark.parametrize("amount", ["1e9", "NaN", "-1.00", "1,00.00", ",100", "10.00.1"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    with pytest.raises(MalformedNotification):
        ipay88.notification(response(Amount=amount), account(), "ipay88")


def test_missing_signature_is_malformed() -> None:
    with pytest.raises(MalformedNotification):
        ipay88.read(Inbound(urlencode(response()).encode()))


# -- attacks, through notify/ ------------------------------------------------------------------


shop = settings_fixture("ipay88", SETTINGS)
post = poster("ipay88")
order = form_renderer("ipay88", "MYR", ResponseURL="https://shop.test/r", BackendURL=NOTIFY)
status_of = payment_status("ipay88")


def signed_body(fields: dict[str, str], key: str = KEY) -> bytes:
    body = {**fields, "Signature": gateway.response_signature(fields, key)}
    return urlencode(body).encode()


@pytest.mark.django_db
def test_paid_reply_is_receiveok(shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    order()
    answer = post(signed_body(response()), django_capture_on_commit_callbacks)
    assert (answer.status_code, answer.content) == (200, b"RECEIVEOK")
    assert status_of() == PaymentStatus.PAID


@pytest.mark.django_db
def test_wrong_merchant_key_is_rejected(shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    order()
    post(signed_body(response(), key="another-merchants-key"), django_capture_on_commit_callbacks)
    assert status_of() == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


@pytest.mark.django_db
def test_swapped_reference_is_rejected(shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    """The authentic report of a cheap order, with its RefNo swapped for a dear one's."""
    order("ORDER-1", "500.00")
    order("ORDER-2", "1.00")
    cheap = signed_body(response(RefNo="ORDER-2-TEST", Amount="1.00"))
    swapped = cheap.replace(b"RefNo=ORDER-2-TEST", b"RefNo=ORDER-1-TEST")
    post(swapped, django_capture_on_commit_callbacks)
    assert status_of("ORDER-1") == status_of("ORDER-2") == PaymentStatus.PENDING


@pytest.mark.django_db
def test_marker_removed_on_the_wire_is_rejected(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The test marker is signed: stripping it to pass a test payment as live fails."""
    shop.MERCHANT_TEST_MODE = False
    order()
    tampered = signed_body(response()).replace(b"ORDER-1-TEST", b"ORDER-1")
    post(tampered, django_capture_on_commit_callbacks)
    assert status_of() == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


@pytest.mark.django_db
def test_replayed_payment_is_applied_once(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order()
    body = signed_body(response())
    for _ in range(3):
        assert post(body, django_capture_on_commit_callbacks).content == b"RECEIVEOK"
    outcomes = list(NotificationLog.objects.values_list("outcome", flat=True).order_by("pk"))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]
