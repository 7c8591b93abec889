"""QuickPay v10: the conformance suite, known answers, and attacks that must fail.

Known answers were computed outside this code with openssl (key, then message):

- form checksum, the docs' example form ("Quickpay Form": merchant 1, agreement 1,
  order 0001, 100 DKK) with the API key ``quickpay-api-key``, values sorted by their
  flattened names and joined by one space::

    printf '%s' '1 100 http://shop.domain.tld/callback http://shop.domain.tld/cancel \
http://shop.domain.tld/continue DKK 1 0001 v10' | openssl dgst -sha256 -hmac quickpay-api-key

  and the same with ``variables[colour]=blue``, whose key ``[variables][colour]`` sorts
  between ``[order_id]`` and ``[version]`` (``... 0001 blue v10``);
- callback checksum: ``printf '%s' "$BODY" | openssl dgst -sha256 -hmac
  quickpay-private-key`` over the bytes of ``CALLBACK`` below.
"""

import json
from decimal import Decimal
from typing import Any

import pytest

from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, PaymentStatus
from billing.protocols import quickpay
from billing.protocols.base import Account, Inbound, Status, Verification
from billing.sandbox.gateways import quickpay as gateway_side
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import use_account

API_KEY, PRIVATE_KEY = "quickpay-api-key", "quickpay-private-key"
SETTINGS = {"MERCHANT_ID": "1", "AGREEMENT_ID": "1", "API_KEY": API_KEY, "PRIVATE_KEY": PRIVATE_KEY}
ACCOUNT = Account(SETTINGS, test=True, endpoint=str)
DOCS_FORM = {
    "version": "v10",
    "merchant_id": "1",
    "agreement_id": "1",
    "order_id": "0001",
    "amount": "100",
    "currency": "DKK",
    "continueurl": "http://shop.domain.tld/continue",
    "cancelurl": "http://shop.domain.tld/cancel",
    "callbackurl": "http://shop.domain.tld/callback",
}
DOCS_FORM_CHECKSUM = "0ed116c089c9af2e24e1f2c6e399283eed461523ab7a6fbf7d423a4b503fa4a2"
VARIABLES_CHECKSUM = "ac1fa85289ad092e1752c17ad7afd49395c267522fbe4836dd8501330d1ae7d1"
CALLBACK = (
    b'{"id":7,"merchant_id":1,"order_id":"0001","accepted":true,"currency":"DKK",'
    b'"operations":[{"id":1,"type":"authorize","amount":100,"pending":false,'
    b'"qp_status_code":"20000"}],"test_mode":true}'
)
CALLBACK_CHECKSUM = "acff688e0b23a49a059638da96feb2b55282ea5e5ff940f514331b09f3ae441c"


class TestQuickpayConformance(IntegrationConformance):
    slug = "quickpay"
    merchant_settings = SETTINGS
    currency = "DKK"

    def secrets(self) -> list[str]:
        return [API_KEY, PRIVATE_KEY]


def inbound(body: bytes, checksum: str) -> Inbound:
    return Inbound(body, "application/json", headers={"Quickpay-Checksum-Sha256": checksum})


# -- known answers, on both sides of the wire ------------------------------------------------


def test_form_checksum_known_answers() -> None:
    assert quickpay.checksum(DOCS_FORM, API_KEY) == DOCS_FORM_CHECKSUM
    assert gateway_side.form_checksum(DOCS_FORM, API_KEY) == DOCS_FORM_CHECKSUM
    with_variables = {**DOCS_FORM, "variables[colour]": "blue"}
    assert quickpay.checksum(with_variables, API_KEY) == VARIABLES_CHECKSUM
    assert gateway_side.form_checksum(with_variables, API_KEY) == VARIABLES_CHECKSUM


def test_the_integrations_form_is_the_docs_form(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"quickpay": SETTINGS}
    given = {k: v for k, v in DOCS_FORM.items() if k not in ("version", "merchant_id")}
    final = quickpay.form({**given, "agreement_id": "ignored"}, ACCOUNT)
    assert final == {**DOCS_FORM, "checksum": DOCS_FORM_CHECKSUM}
    assert gateway_side.stand_in.check_form(final).total == Decimal("1.00")


def test_callback_checksum_known_answer() -> None:
    assert quickpay.body_checksum(CALLBACK, PRIVATE_KEY) == CALLBACK_CHECKSUM
    assert gateway_side.callback_checksum(CALLBACK, PRIVATE_KEY) == CALLBACK_CHECKSUM
    fields = quickpay.read(inbound(CALLBACK, CALLBACK_CHECKSUM))
    assert (
        quickpay.verify(fields, inbound(CALLBACK, CALLBACK_CHECKSUM), ACCOUNT) is Verification.VALID
    )
    note = quickpay.notification(fields, ACCOUNT, "quickpay")
    assert (note.reference, note.amount, note.currency) == ("0001", Decimal("1.00"), "DKK")
    assert (note.status, note.test, note.receiver) == (Status.PAID, True, "1")
    assert note.event_key == "7:authorize:20000"


@pytest.mark.parametrize(
    ("reference", "wire"),
    [
        ("ORDER1", "ORDER1"),
        ("KQ-AB12", "KQz2DAB12"),
        ("zone-9", "zzonez2D9"),
        ("Réf1", "RzC3zA9f1"),
    ],
)
def test_references_travel_as_order_ids_and_come_back(reference: str, wire: str) -> None:
    assert quickpay.order_id(reference) == wire
    assert quickpay.reference_of(wire) == reference


@pytest.mark.parametrize("reference", ["A1", "x" * 21, "ÉÉÉÉ-ÉÉÉÉ"])
def test_references_quickpay_cannot_take_are_refused(reference: str) -> None:
    with pytest.raises(InvalidData):
        quickpay.order_id(reference)


# -- what the callback says ------------------------------------------------------------------


def payment(accepted: bool = True, **operation: Any) -> dict[str, str]:
    body = json.loads(CALLBACK)
    body["accepted"] = accepted
    body["operations"].append({"id": 2, "amount": 100, "pending": False, **operation})
    return quickpay.read(Inbound(json.dumps(body).encode()))


@pytest.mark.parametrize(
    ("accepted", "operation", "status"),
    [
        (True, {"type": "capture", "qp_status_code": "20000"}, Status.PAID),
        (False, {"type": "authorize", "qp_status_code": "40000"}, Status.FAILED),
        (False, {"type": "authorize", "qp_status_code": "20000"}, Status.UNKNOWN),
        (True, {"type": "authorize", "qp_status_code": "30100"}, Status.PENDING),
        (True, {"type": "authorize", "qp_status_code": "20000", "pending": True}, Status.PENDING),
        (True, {"type": "refund", "qp_status_code": "20000"}, Status.REFUNDED),
        (True, {"type": "cancel", "qp_status_code": "20000"}, Status.CANCELLED),
        (True, {"type": "capture", "qp_status_code": "50300"}, Status.UNKNOWN),
    ],
)
def test_the_last_operation_decides(
    accepted: bool, operation: dict[str, Any], status: Status
) -> None:
    fields = payment(accepted, **operation)
    assert quickpay.notification(fields, ACCOUNT, "quickpay").status == status


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":7,"id":8,"order_id":"0001","accepted":true,"currency":"DKK","merchant_id":1}',
        b'{"id":NaN,"order_id":"0001","accepted":true,"currency":"DKK","merchant_id":1}',
        b'[{"id":7}]',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id":7,"order_id":"0001","accepted":true,"currency":"DKK"}',
        b"id=7&order_id=0001",
    ],
    ids=["duplicate-member", "nan", "not-an-object", "deep", "no-merchant", "form-encoded"],
)
def test_odd_callbacks_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedNotification):
        quickpay.read(Inbound(body))


@pytest.mark.parametrize("amount", ["1.5", '"1e9"', "-100"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    body = CALLBACK.replace(b'"amount":100', b'"amount":' + amount.encode())
    with pytest.raises(MalformedNotification):
        quickpay.notification(quickpay.read(Inbound(body)), ACCOUNT, "quickpay")


# -- attacks: each is tried, and changes nothing ----------------------------------------------


@pytest.fixture
def shop(settings: Any) -> TestQuickpayConformance:
    """The conformance suite's shop and gateway, to try attacks through notify/."""
    use_account(settings, "quickpay", SETTINGS)
    return TestQuickpayConformance()


def signed(body: bytes, key: str = PRIVATE_KEY) -> Delivery:
    checksum = gateway_side.callback_checksum(body, key)
    return Delivery(body, "application/json", headers={gateway_side.HEADER: checksum})


def send(shop: TestQuickpayConformance, delivery: Delivery, capture: Any) -> None:
    """Deliver it: the log says rejected, and ORDER-1 is still pending."""
    shop.deliver(delivery, capture)
    log = NotificationLog.objects.order_by("-pk").first()
    assert log is not None and log.outcome == Outcome.REJECTED
    assert log.verification == Verification.INVALID
    assert shop.payment().status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_signed_with_the_api_key_not_the_private_key(shop: Any, capture: Any) -> None:
    body = shop.gateway_notification(shop.form()).body
    send(shop, signed(body, API_KEY), capture)


@pytest.mark.django_db
def test_a_cheap_orders_callback_moved_onto_this_order(shop: Any, capture: Any) -> None:
    wire = shop.form()["order_id"].encode()
    cheap = shop.gateway_notification(shop.form("ORDER2", "1.00"))
    moved = cheap.body.replace(b'"order_id":"ORDER2"', b'"order_id":"' + wire + b'"')
    assert moved != cheap.body
    send(shop, Delivery(moved, cheap.content_type, headers=cheap.headers), capture)


@pytest.mark.django_db
def test_the_amounts_swapped_in_a_signed_body(shop: Any, capture: Any) -> None:
    """Charged 5.00 of 10.00: the operation's 500 and the link's 1000 change places."""
    real = shop.gateway_notification(shop.form(), amount=Decimal("5.00"))
    swapped = (
        real.body.replace(b'"amount":500', b'"amount":@')
        .replace(b'"amount":1000', b'"amount":500')
        .replace(b'"amount":@', b'"amount":1000')
    )
    assert swapped != real.body
    send(shop, Delivery(swapped, real.content_type, headers=real.headers), capture)


@pytest.mark.django_db
def test_another_callbacks_checksum_on_this_body(shop: Any, capture: Any) -> None:
    form = shop.form()
    real = shop.gateway_notification(form)
    other = shop.gateway_notification(form, transaction_id="999")
    send(shop, Delivery(real.body, real.content_type, headers=other.headers), capture)


@pytest.mark.django_db
def test_no_checksum_header(shop: Any, capture: Any) -> None:
    real = shop.gateway_notification(shop.form())
    send(shop, Delivery(real.body, real.content_type), capture)


@pytest.mark.django_db
def test_a_replayed_decline_after_payment_changes_nothing(shop: Any, capture: Any) -> None:
    form = shop.form()
    declined = shop.gateway_notification(form, status="failed", transaction_id="5")
    shop.deliver(shop.gateway_notification(form, transaction_id="5"), capture)
    shop.deliver(declined, capture)
    shop.deliver(declined, capture)
    assert shop.payment().status == PaymentStatus.PAID


@pytest.fixture
def capture(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


def test_the_gateway_refuses_a_form_changed_after_signing(settings: Any) -> None:
    from billing.sandbox.gateways.base import FormRejected

    settings.MERCHANT_SETTINGS = {"quickpay": SETTINGS}
    signed = quickpay.form(DOCS_FORM, ACCOUNT)
    with pytest.raises(FormRejected):
        gateway_side.stand_in.check_form({**signed, "amount": "1"})
