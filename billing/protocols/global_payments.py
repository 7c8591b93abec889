"""Global Payments (formerly Realex Payments) e-commerce Hosted Payment Page, HPP_VERSION 2.

Implements the HPP as Global Payments documents it (developer.globalpay.com, "Hosted
Payment Page" > card payments, hashing, response handling; the live pages could not be
fetched while this was written, 2026-11, so every rule below was checked against Global
Payments' own published material instead: the Realex "RealAuth HPP Developer's Guide"
v1.1.4 (January 2015), Realex's worked hash example as quoted in Global Payments'
java-sdk ``GenerationUtils``, the HPP stand-in and response tests of their java-sdk and
dotnet-sdk, and their HPP_VERSION 2 sample forms):

- the request form POSTed to ``https://pay.realexpayments.com/pay`` (sandbox
  ``https://pay.sandbox.realexpayments.com/pay``): ``TIMESTAMP`` (``YYYYMMDDHHMMSS``),
  ``MERCHANT_ID``, ``ACCOUNT``, ``ORDER_ID`` (1-50 of ``A-Z a-z 0-9 _ -``, unique per
  attempt), ``AMOUNT`` in minor units, ``CURRENCY``, ``AUTO_SETTLE_FLAG``, ``HPP_VERSION``,
  ``MERCHANT_RESPONSE_URL``;
- the request hash: ``H(H("TIMESTAMP.MERCHANT_ID.ORDER_ID.AMOUNT.CURRENCY") + "." +
  shared secret)``, lower-case hex, where H is SHA-1 (field ``SHA1HASH``, the SDKs'
  default) or SHA-256 (field ``SHA256HASH``); the guide's worked example
  (``20120926112654.thestore.ORD453-11.29900.EUR``, secret ``mysecret`` ->
  ``3c3cac74...``) is one of the tests' vectors;
- the response POSTed to ``MERCHANT_RESPONSE_URL`` as a form, hashed the same way over
  ``TIMESTAMP.MERCHANT_ID.ORDER_ID.RESULT.MESSAGE.PASREF.AUTHCODE`` (an absent field is
  the empty string); ``RESULT`` ``00`` is success, ``1xx`` declined or referred, ``2xx``
  bank errors, ``3xx`` gateway errors, ``5xx`` request errors, ``666`` account
  deactivated. The HPP shows the customer the page the response URL returns.

The response hash covers neither ``AMOUNT`` nor ``CURRENCY`` (the response does not even
echo the currency), so this module writes both into the ``ORDER_ID`` it sends,
``<reference>_<AMOUNT><CURRENCY>_<nonce>``, which the response hash does cover: the
notification's amount and currency come from there, and an ``AMOUNT`` that disagrees
with it is a forgery. The nonce makes every form a new attempt, as the HPP requires.

Not supported (refused, since they change the hash rules): card storage
(``CARD_STORAGE_ENABLE``, ``OFFER_SAVE_CARD``, ``PAYER_REF``, ``PMT_REF``, ...), the
fraud filter (``HPP_FRAUDFILTER_MODE``), delayed settlement (``AUTO_SETTLE_FLAG`` other
than 1), and the base64-encoded JSON that the rxp-js lightbox posts.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..exceptions import InvalidData, MalformedNotification
from ..money import from_minor_units, parse_minor_units
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    limited,
    parse_utf8_or_latin1,
    refuse_floats,
)

SPEC = "Global Payments HPP, HPP_VERSION 2 (RealAuth HPP Developer's Guide v1.1.4 rules)"

LIVE_SERVICE_URL = "https://pay.realexpayments.com/pay"
SANDBOX_SERVICE_URL = "https://pay.sandbox.realexpayments.com/pay"
HASH_FIELDS: Mapping[str, str] = {"sha1": "SHA1HASH", "sha256": "SHA256HASH"}
DEFAULT_HASH_ALGORITHM = "sha1"
REQUEST_HASH_FIELDS = ("TIMESTAMP", "MERCHANT_ID", "ORDER_ID", "AMOUNT", "CURRENCY")
RESPONSE_HASH_FIELDS = (
    "TIMESTAMP",
    "MERCHANT_ID",
    "ORDER_ID",
    "RESULT",
    "MESSAGE",
    "PASREF",
    "AUTHCODE",
)
PAID_RESULT = "00"
MAX_ORDER_ID = 50
UNSUPPORTED_FIELDS = (
    "CARD_STORAGE_ENABLE",
    "OFFER_SAVE_CARD",
    "PAYER_EXIST",
    "PAYER_REF",
    "PMT_REF",
    "HPP_SELECT_STORED_CARD",
    "HPP_FRAUDFILTER_MODE",
)

_REFERENCE = re.compile(r"[A-Za-z0-9_-]+")
# Bounded: int() of a longer run of digits is slow, and over 4300 a ValueError.
_MINOR_UNITS = re.compile(r"[0-9]{1,15}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_NONCE = re.compile(r"[0-9a-f]{8}")
_ORDER_ID = re.compile(
    r"(?P<reference>[A-Za-z0-9_-]+)_(?P<amount>[0-9]{1,15})(?P<currency>[A-Z]{3})_(?P<nonce>[0-9a-f]{8})"
)
_RESULT = re.compile(r"[0-9]{2,3}")


def hash_values(values: Sequence[str], secret: str, algorithm: str) -> str:
    """``H(H(v1.v2....) + "." + secret)`` in lower-case hex, H being SHA-1 or SHA-256."""
    if algorithm not in HASH_FIELDS:
        raise InvalidData(f"HASH_ALGORITHM must be one of {', '.join(HASH_FIELDS)}")
    first = hashlib.new(algorithm, ".".join(values).encode("utf-8")).hexdigest()
    return hashlib.new(algorithm, f"{first}.{secret}".encode()).hexdigest()


def timestamp(now: datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S")


# -- ORDER_ID: the reference plus what the response hash must vouch for ---------------


@dataclass(frozen=True)
class OrderId:
    reference: str
    amount_minor: int
    currency: str
    nonce: str

    def __str__(self) -> str:
        return f"{self.reference}_{self.amount_minor}{self.currency}_{self.nonce}"


def make_order_id(reference: str, amount_minor: int, currency: str, nonce: str) -> str:
    if not _REFERENCE.fullmatch(reference):
        raise InvalidData("ORDER_ID may only contain A-Z, a-z, 0-9, _ and -")
    if not _NONCE.fullmatch(nonce):
        raise InvalidData("the ORDER_ID nonce is 8 lower-case hex digits")
    value = str(OrderId(reference, amount_minor, currency, nonce))
    if len(value) > MAX_ORDER_ID:
        room = MAX_ORDER_ID - (len(value) - len(reference))
        raise InvalidData(f"ORDER_ID {reference!r} is too long: at most {room} characters")
    return value


def parse_order_id(value: str) -> OrderId | None:
    if len(value) > MAX_ORDER_ID:
        return None
    match = _ORDER_ID.fullmatch(value)
    if match is None:
        return None
    return OrderId(
        reference=match["reference"],
        amount_minor=int(match["amount"]),
        currency=match["currency"],
        nonce=match["nonce"],
    )


def build_fields(
    fields: Mapping[str, object],
    *,
    merchant_id: str,
    account: str,
    secret: str,
    algorithm: str,
    now: datetime,
    nonce: str,
) -> dict[str, str]:
    """The final HPP form: account, the attempt's ORDER_ID, timestamp, settle flag, hash."""
    refuse_floats(fields, "money is minor units, never float")
    unsupported = sorted(name for name in UNSUPPORTED_FIELDS if name in fields)
    if unsupported:
        raise InvalidData(f"not supported by this integration: {', '.join(unsupported)}")
    reference = str(fields.get("ORDER_ID") or "")
    if not reference:
        raise InvalidData("Global Payments needs an ORDER_ID (the shop's order reference)")
    if fields.get("AMOUNT") is None:
        raise InvalidData("Global Payments needs an AMOUNT (minor units)")
    amount = parse_minor_units(fields["AMOUNT"])
    currency = str(fields.get("CURRENCY") or "").strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise InvalidData("Global Payments needs a CURRENCY (ISO 4217 code)")
    settle = str(fields.get("AUTO_SETTLE_FLAG", "1"))
    if settle != "1":
        raise InvalidData("AUTO_SETTLE_FLAG must be 1: delayed settlement is not supported")
    final = {k: str(v) for k, v in fields.items() if v is not None}
    for name in HASH_FIELDS.values():
        final.pop(name, None)
    final.update(
        {
            "TIMESTAMP": timestamp(now),
            "MERCHANT_ID": merchant_id,
            "ACCOUNT": account,
            "ORDER_ID": make_order_id(reference, amount, currency, nonce),
            "AMOUNT": str(amount),
            "CURRENCY": currency,
            "AUTO_SETTLE_FLAG": "1",
        }
    )
    final.setdefault("HPP_VERSION", "2")
    values = [final[name] for name in REQUEST_HASH_FIELDS]
    final[HASH_FIELDS[algorithm]] = hash_values(values, secret, algorithm)
    return final


# -- the response -----------------------------------------------------------------------


def parse_response(body: bytes) -> dict[str, str]:
    """Decode the response form: UTF-8, or ISO-8859-1 when it is not valid UTF-8."""
    if not body.strip():
        raise MalformedNotification("empty body")
    fields = parse_utf8_or_latin1(body)
    if not fields.get("ORDER_ID") or not fields.get("RESULT"):
        raise MalformedNotification("not a Global Payments HPP response (ORDER_ID, RESULT)")
    return fields


def verify_response(fields: Mapping[str, str], *, secret: str, algorithm: str) -> Verification:
    """The response hash (only the configured algorithm's), then AMOUNT against ORDER_ID."""
    received = fields.get(HASH_FIELDS[algorithm], "").strip().lower()
    values = [fields.get(name, "") for name in RESPONSE_HASH_FIELDS]
    expected = hash_values(values, secret, algorithm)
    if not hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8")):
        return Verification.INVALID
    order = parse_order_id(fields.get("ORDER_ID", ""))
    amount = fields.get("AMOUNT", "").strip()
    if order is not None and amount:
        # The hash does not cover AMOUNT; the ORDER_ID it covers says what was charged.
        if not _MINOR_UNITS.fullmatch(amount) or int(amount) != order.amount_minor:
            return Verification.INVALID
    return Verification.VALID


def to_notification(fields: Mapping[str, str], *, integration: str, test: bool) -> Notification:
    """``test`` is the shop's mode: the response carries no test flag of its own."""
    order = parse_order_id(fields.get("ORDER_ID", ""))
    if order is None:
        raise MalformedNotification("ORDER_ID was not made by this integration")
    result = limited(fields.get("RESULT", "").strip(), "RESULT", 16)
    if result == PAID_RESULT:
        status = Status.PAID
    elif _RESULT.fullmatch(result):
        status = Status.FAILED
    else:
        status = Status.UNKNOWN
    return Notification(
        integration=integration,
        reference=order.reference,
        transaction_id=limited(fields.get("PASREF", "").strip(), "PASREF") or str(order),
        amount=from_minor_units(order.amount_minor, order.currency),
        currency=order.currency,
        status=status,
        gateway_status=result,
        test=test,
        raw=dict(fields),
        receiver=receiver(fields.get("MERCHANT_ID", ""), fields.get("ACCOUNT", "")),
    )


def receiver(merchant_id: str, account: str) -> str:
    """The merchant account a payment goes to: ``MERCHANT_ID:ACCOUNT``."""
    return f"{merchant_id}:{account}"


# -- the GatewayProtocol verbs ----------------------------------------------------------


def hash_algorithm(value: object) -> str:
    """The HASH_ALGORITHM setting: sha1 (the default, as in the SDKs) or sha256."""
    algorithm = str(value or DEFAULT_HASH_ALGORITHM).lower()
    if algorithm not in HASH_FIELDS:
        raise InvalidData(f"must be {' or '.join(HASH_FIELDS)}, not {value!r}")
    return algorithm


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    return build_fields(
        fields,
        merchant_id=account["MERCHANT_ID"],
        account=account["ACCOUNT"],
        secret=account["SHARED_SECRET"],
        algorithm=hash_algorithm(account.get("HASH_ALGORITHM")),
        now=datetime.now(UTC),
        nonce=secrets.token_hex(4),
    )


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    order = parse_order_id(form["ORDER_ID"])
    if order is None:  # form always makes a parsable one
        raise InvalidData(f"ORDER_ID {form['ORDER_ID']!r} was not made here")
    return PaymentTerms(
        reference=order.reference,
        amount=from_minor_units(order.amount_minor, order.currency),
        currency=order.currency,
        receiver=receiver(account["MERCHANT_ID"], account["ACCOUNT"]),
    )


def read(inbound: Inbound) -> dict[str, str]:
    return parse_response(inbound.body)


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    algorithm = hash_algorithm(account.get("HASH_ALGORITHM"))
    return verify_response(fields, secret=account["SHARED_SECRET"], algorithm=algorithm)


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    # The response has no test flag: it is the shop's mode. A sandbox response on a
    # live shop fails the hash, as the sandbox and production secrets differ.
    return to_notification(fields, integration=integration, test=account.test)


reply = empty_reply  # the integration shows the customer a page back to the shop
