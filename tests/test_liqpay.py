"""LiqPay API 3: the conformance suite, known-answer vectors and attacks.

Known answers, computed with the openssl and base64 CLIs:
- the ``data`` of LiqPay's own Checkout example (version 3, public key
  ``your_public_key``, 1 USD, ``order_id_1``), as the document prints it, signed with
  ``printf '%s' "your_private_key${DATA}your_private_key" | openssl dgst -binary -sha1 |
  base64``. (The document prints ``QvJD5u9Fg55PCx/Hdz6lzWtYwcI=`` beside it, made with
  a private key it does not show: it does not reproduce with ``your_private_key``.)
- a callback: ``printf '%s' '<CALLBACK_JSON>' | base64 -w0`` for ``data``, then
  ``printf '%s' "priv-k3y${DATA}priv-k3y" | openssl dgst -binary -sha1 | base64``.
"""

import base64
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, PaymentStatus
from billing.protocols import liqpay
from billing.protocols.base import Account, Inbound, Status, Verification
from billing.sandbox.gateways import liqpay as gateway
from billing.testing.conformance import IntegrationConformance
from tests.helpers import form_renderer, payment_status, poster, settings_fixture

PRIVATE = "conformance-liqpay-private-key"
SETTINGS = {"PUBLIC_KEY": "i00000000", "PRIVATE_KEY": PRIVATE}
NOTIFY = "/billing/liqpay/notify/"

GUIDE_DATA = (
    "eyAidmVyc2lvbiIgOiAzLCAicHVibGljX2tleSIgOiAieW91cl9wdWJsaWNfa2V5IiwgImFjdGlv"
    "biIgOiAicGF5IiwgImFtb3VudCIgOiAxLCAiY3VycmVuY3kiIDogIlVTRCIsICJkZXNjcmlwdGlv"
    "biIgOiAiZGVzY3JpcHRpb24gdGV4dCIsICJvcmRlcl9pZCIgOiAib3JkZXJfaWRfMSIgfQ=="
)
GUIDE_SIGNATURE = "MPgGw632itnbRVDSd/KyNEGrAsQ="
CALLBACK_DATA = (
    "eyJhY3Rpb24iOiJwYXkiLCJwYXltZW50X2lkIjoxMjM0NTY3ODkwLCJzdGF0dXMiOiJzdWNjZXNzIiwidmVy"
    "c2lvbiI6MywicHVibGljX2tleSI6ImkwMDAwMDAwMCIsIm9yZGVyX2lkIjoiT1JERVItNyIsImFtb3VudCI6"
    "MjUuNSwiY3VycmVuY3kiOiJVQUgiLCJpc18zZHMiOmZhbHNlfQ=="
)
CALLBACK_SIGNATURE = "GN0IjkgCwNR6hLBS6j+2ot+xs2M="


def account(test: bool = True, private: str = PRIVATE) -> Account:
    return Account({**SETTINGS, "PRIVATE_KEY": private}, test=test, endpoint=str)


class TestLiqpayConformance(IntegrationConformance):
    slug = "liqpay"
    merchant_settings = SETTINGS
    currency = "UAH"
    other_currency = "USD"

    def secrets(self) -> list[str]:
        return [PRIVATE]


def test_guide_example_on_both_sides() -> None:
    assert liqpay.sign(GUIDE_DATA, "your_private_key") == GUIDE_SIGNATURE
    assert gateway.signature(GUIDE_DATA, "your_private_key") == GUIDE_SIGNATURE
    assert liqpay.decode(GUIDE_DATA)["amount"] == "1"


def test_callback_known_answer() -> None:
    assert gateway.signature(CALLBACK_DATA, "priv-k3y") == CALLBACK_SIGNATURE
    body = urlencode({"data": CALLBACK_DATA, "signature": CALLBACK_SIGNATURE}).encode()
    fields = liqpay.read(Inbound(body))
    assert liqpay.verify(fields, Inbound(body), account(private="priv-k3y")) is Verification.VALID
    assert liqpay.verify(fields, Inbound(body), account()) is Verification.INVALID
    n = liqpay.notification(fields, account(test=False), "liqpay")
    assert (n.reference, n.transaction_id, n.amount) == ("ORDER-7", "1234567890", Decimal("25.5"))
    assert (n.status, n.test, n.receiver, fields["is_3ds"]) == (
        Status.PAID,
        False,
        "i00000000",
        "false",
    )


def test_form_carries_only_data_and_signature() -> None:
    fields = {"order_id": "A-1", "amount": Decimal("12"), "currency": "uah"}
    final = liqpay.form(fields, account(test=True))
    assert set(final) == {"data", "signature"}
    assert final["signature"] == gateway.signature(final["data"], PRIVATE)
    params = json.loads(base64.b64decode(final["data"]))
    assert params == {
        "order_id": "A-1",
        "amount": "12.00",
        "currency": "UAH",
        "version": 3,
        "public_key": "i00000000",
        "action": "pay",
        "description": "Order A-1",
        "sandbox": "1",
    }
    assert "sandbox" not in liqpay.decode(liqpay.form(fields, account(test=False))["data"])
    with pytest.raises(InvalidData):
        liqpay.form({**fields, "sandbox": "0"}, account(test=False))


def callback(private: str = PRIVATE, **changes: Any) -> bytes:
    params: dict[str, Any] = {
        "action": "pay",
        "payment_id": 998877,
        "status": "success",
        "version": 3,
        "public_key": "i00000000",
        "order_id": "ORDER-1",
        "amount": 10.0,
        "currency": "UAH",
    }
    params.update(changes)
    data = base64.b64encode(json.dumps(params).encode()).decode()
    return urlencode({"data": data, "signature": gateway.signature(data, private)}).encode()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("success", Status.PAID),
        ("sandbox", Status.PAID),
        ("failure", Status.FAILED),
        ("error", Status.FAILED),
        ("reversed", Status.REFUNDED),
        ("wait_accept", Status.PENDING),
        ("3ds_verify", Status.PENDING),
        ("subscribed", Status.UNKNOWN),
    ],
)
def test_statuses(status: str, expected: Status) -> None:
    n = liqpay.notification(liqpay.read(Inbound(callback(status=status))), account(), "liqpay")
    assert n.status is expected and n.gateway_status == status


@pytest.mark.parametrize(
    "body",
    [
        b"data=%%%&signature=x",
        b"data=bm90IGpzb24%3D&signature=x",  # "not json"
        b"data=WzEsMl0%3D&signature=x",  # [1,2]
        urlencode({"data": base64.b64encode(b'{"status":"a","status":"b"}'), "signature": "x"}),
        callback(amount="1e9"),
        callback(amount=float("nan")),
        callback(order_id=""),
    ],
)
def test_malformed_callbacks(body: Any) -> None:
    body = body.encode() if isinstance(body, str) else body
    with pytest.raises(MalformedNotification):
        fields = liqpay.read(Inbound(body))
        liqpay.notification(fields, account(), "liqpay")


# -- attacks, through notify/ ------------------------------------------------------------------


shop = settings_fixture("liqpay", SETTINGS)
order = form_renderer("liqpay", "UAH", result_url="https://shop.test/r", server_url=NOTIFY)
post = poster("liqpay")
status_of = payment_status("liqpay")


@pytest.mark.django_db
def test_paid_reply_is_empty_200(shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    order()
    answer = post(callback(status="sandbox"), django_capture_on_commit_callbacks)
    assert (answer.status_code, answer.content) == (200, b"")
    assert status_of() == PaymentStatus.PAID


@pytest.mark.django_db
def test_public_key_as_secret_is_rejected(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Signed with the wrong one of the two keys (the public one, which anyone knows)."""
    order()
    post(callback(private="i00000000"), django_capture_on_commit_callbacks)
    assert status_of() == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


@pytest.mark.django_db
def test_swapped_data_is_rejected(shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    """A cheap order's authentic data, under the signature of a dear order's callback."""
    order("ORDER-1", "500.00")
    order("ORDER-2", "1.00")
    cheap = dict(pair.split("=", 1) for pair in callback(order_id="ORDER-2").decode().split("&"))
    dear = dict(pair.split("=", 1) for pair in callback(amount=500.0).decode().split("&"))
    swapped = f"data={dear['data']}&signature={cheap['signature']}".encode()
    post(swapped, django_capture_on_commit_callbacks)
    assert status_of("ORDER-1") == status_of("ORDER-2") == PaymentStatus.PENDING


@pytest.mark.django_db
def test_sandbox_on_live_shop_is_never_paid(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    shop.MERCHANT_TEST_MODE = False
    order()
    post(callback(status="sandbox"), django_capture_on_commit_callbacks)
    assert status_of() != PaymentStatus.PAID
    post(callback(status="success"), django_capture_on_commit_callbacks)
    assert status_of() == PaymentStatus.REVIEW  # the sandbox payment held it first


@pytest.mark.django_db
def test_replayed_callback_is_applied_once(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order()
    body = callback()
    for _ in range(3):
        post(body, django_capture_on_commit_callbacks)
    outcomes = list(NotificationLog.objects.values_list("outcome", flat=True).order_by("pk"))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]
