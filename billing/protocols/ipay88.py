"""iPay88 Malaysia: the Online Payment Switching Gateway (OPSG) hosted payment page.

Implements iPay88's "Online Payment Switching Gateway (OPSG) Technical Specification
v1.6.4 (For Malaysia Only)" (2018), cross-checked with the public copy of the
"OPSG Technical Specification (Merchant Tokenization) v1.0.6" (2016), whose section 3
("Security Control") gives both worked examples used as known answers in the tests:

- The form is POSTed to ``https://payment.ipay88.com.my/epayment/entry.asp`` with
  ``MerchantCode``, ``PaymentId`` (optional), ``RefNo``, ``Amount`` (two decimals),
  ``Currency``, ``ProdDesc``, ``UserName``, ``UserEmail``, ``UserContact``, ``Remark``,
  ``Lang``, ``SignatureType`` (``SHA256``), ``Signature``, ``ResponseURL`` and
  ``BackendURL``.
- Request ``Signature`` = lower-case hex SHA-256 of MerchantKey + MerchantCode + RefNo +
  Amount digits + Currency, where the Amount digits are the amount with "." and ","
  removed (``1.00`` -> ``100``). Spec example: ``appleM00003A00000001100MYR``.
- The response (to ResponseURL through the browser, and server to server to BackendURL)
  carries ``MerchantCode``, ``PaymentId``, ``RefNo``, ``Amount`` (two decimals, may carry
  thousands commas: ``1,278.99``), ``Currency``, ``Remark``, ``TransId``, ``AuthCode``,
  ``Status`` (``1`` success, ``0`` fail), ``ErrDesc`` and ``Signature`` = hex SHA-256 of
  MerchantKey + MerchantCode + PaymentId + RefNo + Amount digits + Currency + Status.
  Spec example: ``appleM000032A00000001100MYR1``.
- The BackendURL page must print ``RECEIVEOK``, else iPay88 posts again.

Where the documents are silent, or this module chose:

- ``ErrDesc`` ``Customer Cancel Transaction`` on a ``Status`` 0 is a cancellation; any
  other ``Status`` 0 a failure; any other status is not mapped (UNKNOWN: no change).
- The v1.0.6 document says the backend post is sent for successful payments only; a
  signed ``Status`` 0 backend post is nevertheless read and applied as a failure.
- Mode binding. iPay88 has no separate test host and its response does not say whether
  a payment was a test: the same MerchantCode and key serve before and after go-live.
  So a shop in test mode sends ``RefNo`` as the reference plus ``-TEST`` (``RefNo`` is
  signed both ways). A notification whose signed RefNo carries the marker is a test
  one, which a live shop never pays; a live shop refuses to send a reference that ends
  with the marker. A shop in test mode takes every notification as a test one.
- The signature is compared case-insensitively as hex (the spec prints it lower-case).
- ``TransId`` is the transaction id; when a failed payment has none, ``RefNo`` stands in.
"""

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Reply,
    Status,
    Verification,
    grouped_amount,
    limited,
    parse_utf8_or_latin1,
    payable,
    require,
    same_digest,
    verdict,
)

SPEC = "iPay88 OPSG Technical Specification v1.6.4 (Malaysia), SHA-256 signatures"
LIVE_SERVICE_URL = "https://payment.ipay88.com.my/epayment/entry.asp"
# iPay88 has no test host: test payments go to the same page with the test account.
TEST_SERVICE_URL = LIVE_SERVICE_URL
SIGNATURE_TYPE = "SHA256"
TEST_MARKER = "-TEST"
CANCELLED_BY_CUSTOMER = "customer cancel transaction"
NOTIFICATION_FIELDS = ("MerchantCode", "RefNo", "Amount", "Currency", "Status", "Signature")
ACKNOWLEDGEMENT = b"RECEIVEOK"
# Two decimals, optionally with thousands commas (1,278.99), as the response sends them.
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def amount_digits(amount: str) -> str:
    """The amount as the signature takes it: "." and "," removed (``1,278.99`` -> 127899)."""
    return amount.replace(".", "").replace(",", "")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_signature(fields: Mapping[str, str], merchant_key: str) -> str:
    parts = [fields.get(k, "") for k in ("MerchantCode", "RefNo")]
    tail = amount_digits(fields.get("Amount", "")) + fields.get("Currency", "")
    return _sha256(merchant_key + "".join(parts) + tail)


def response_signature(fields: Mapping[str, str], merchant_key: str) -> str:
    head = "".join(fields.get(k, "") for k in ("MerchantCode", "PaymentId", "RefNo"))
    amount = amount_digits(fields.get("Amount", ""))
    return _sha256(merchant_key + head + amount + fields.get("Currency", "") + fields["Status"])


def reference_of(ref_no: str) -> tuple[str, bool]:
    """The shop's reference in a RefNo, and whether the RefNo carries the test marker."""
    if ref_no.endswith(TEST_MARKER) and len(ref_no) > len(TEST_MARKER):
        return ref_no[: -len(TEST_MARKER)], True
    return ref_no, False


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    final = {k: str(v) for k, v in fields.items() if v is not None}
    reference = final.get("RefNo", "")
    if not reference:
        raise InvalidData("iPay88 needs a RefNo (the shop's order reference)")
    if reference.endswith(TEST_MARKER):
        raise InvalidData(f"an iPay88 RefNo may not end with {TEST_MARKER} (the test marker)")
    currency = final.get("Currency", "").upper()
    if not currency:
        raise InvalidData("iPay88 needs a Currency")
    amount = payable(final.get("Amount", ""), currency)
    final.update(
        MerchantCode=account["MERCHANT_CODE"],
        RefNo=reference + TEST_MARKER if account.test else reference,
        Currency=currency,
        Amount=amount,
        SignatureType=SIGNATURE_TYPE,
    )
    final.setdefault("ProdDesc", f"Order {reference}")
    final.pop("Signature", None)
    final["Signature"] = request_signature(final, account["MERCHANT_KEY"])
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    reference, _ = reference_of(form["RefNo"])
    return PaymentTerms(
        reference, Decimal(form["Amount"]), form["Currency"], receiver=account["MERCHANT_CODE"]
    )


def read(inbound: Inbound) -> dict[str, str]:
    return require(parse_utf8_or_latin1(inbound.body), NOTIFICATION_FIELDS, "an iPay88 response")


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    expected = response_signature(fields, account["MERCHANT_KEY"])
    received = fields.get("Signature", "").strip().lower()
    return verdict(same_digest(expected, received.encode("utf-8", "replace")))


def parse_response_amount(text: str) -> Decimal | None:
    """``Amount`` as sent: plain, or with thousands commas (``1,278.99``)."""
    return grouped_amount(text, _GROUPED, "Amount")


def _status(fields: Mapping[str, str]) -> Status:
    code = fields["Status"]
    if code == "1":
        return Status.PAID
    if code == "0":
        cancelled = fields.get("ErrDesc", "").strip().lower() == CANCELLED_BY_CUSTOMER
        return Status.CANCELLED if cancelled else Status.FAILED
    return Status.UNKNOWN


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    ref_no = limited(fields["RefNo"], "RefNo")
    reference, marked = reference_of(ref_no)
    return Notification(
        integration=integration,
        reference=reference,
        transaction_id=limited(fields.get("TransId") or ref_no, "TransId"),
        amount=parse_response_amount(fields["Amount"]),
        currency=limited(fields["Currency"], "Currency", 5),
        status=_status(fields),
        gateway_status=limited(fields["Status"], "Status"),
        test=marked or account.test,
        raw=dict(fields),
        receiver=limited(fields["MerchantCode"], "MerchantCode"),
    )


def reply(fields: Mapping[str, str], account: Account) -> Reply:
    return Reply(ACKNOWLEDGEMENT)
