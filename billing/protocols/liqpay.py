"""LiqPay (PrivatBank) Checkout, API version 3, and its server_url callback.

Implements LiqPay's API 3 documentation (liqpay.ua/documentation, read 2026-12:
"Rules for the formation of a request for payment" (data_signature), "Checkout"
(api/aquiring/checkout/doc) and "Callback" (api/callback)):

- The checkout form is POSTed to ``https://www.liqpay.ua/api/3/checkout`` with two
  fields: ``data`` = base64 of a JSON object and ``signature`` = base64 of the binary
  SHA-1 of private_key + data + private_key. The JSON holds ``version`` (3),
  ``public_key``, ``action`` (``pay``), ``amount``, ``currency``, ``description``,
  ``order_id`` and optionally ``result_url`` (the customer's way back),
  ``server_url`` (the callback), ``language`` and ``sandbox`` (``1``: a test payment).
- The callback POSTs ``data`` and ``signature`` (form-encoded) to ``server_url``, signed
  the same way over the received ``data``. Its JSON has ``order_id``, ``payment_id``,
  ``status``, ``amount``, ``currency``, ``public_key``, ``action``, ``transaction_id``,
  ``err_code`` and more. Final statuses: ``success``, ``failure``, ``error`` (data
  incorrect), ``reversed`` (refunded), ``sandbox`` (a test payment), ``subscribed``,
  ``unsubscribed``; others (``*_verify``, ``wait_*``, ``processing``, ``prepared``,
  ``hold_wait``, ``invoice_wait``, ``cash_wait``) await something.
- The shop answers the callback with HTTP 200; no body is required.

Where the documents are silent, or this module chose:

- ``read`` decodes the JSON into string fields (numbers as their JSON text, ``true`` /
  ``false``, ``null`` as ""), beside the raw ``data`` and ``signature``; a JSON object
  with a repeated name is malformed. A ``+`` of base64 that a client sent unescaped
  (and form decoding turned into a space) is restored before verifying.
- The form's ``amount`` is a string with the currency's decimals, as in the document's
  example (``"amount":"3"``); the callback's is a JSON number.
- Mode binding: the status ``sandbox`` is LiqPay's own, signed, word for a test payment;
  a live shop never pays it. A shop in test mode sends ``sandbox=1`` and takes every
  callback as a test one.
- ``success`` and ``sandbox`` are paid; ``failure`` and ``error`` failed; ``reversed``
  refunded; waiting statuses pending; ``subscribed`` / ``unsubscribed`` and anything
  else are not mapped (UNKNOWN: no change).
- The transaction id is ``payment_id`` (else ``transaction_id``). The callback's amount
  (a JSON number: ``6.0``) is given the currency's decimals (``6.00``) where exact.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..exceptions import InvalidData, MalformedNotification
from ..money import quantize
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    is_text,
    limited,
    parse_amount,
    parse_utf8_or_latin1,
    payable,
    require,
    same_digest,
    verdict,
)

SPEC = "LiqPay API 3: Checkout and Callback (liqpay.ua/documentation, read 2026-12)"
LIVE_SERVICE_URL = "https://www.liqpay.ua/api/3/checkout"
# LiqPay has no test host: a test payment is the same checkout with "sandbox": 1.
TEST_SERVICE_URL = LIVE_SERVICE_URL
VERSION = 3
STATUS_MAP = {
    "success": Status.PAID,
    "sandbox": Status.PAID,
    "failure": Status.FAILED,
    "error": Status.FAILED,
    "reversed": Status.REFUNDED,
    "processing": Status.PENDING,
    "prepared": Status.PENDING,
    "hold_wait": Status.PENDING,
    "invoice_wait": Status.PENDING,
    "cash_wait": Status.PENDING,
}
TEST_STATUS = "sandbox"
CALLBACK_FIELDS = ("status", "order_id", "public_key", "amount", "currency")
# Only the JSON's names; the form's two fields are data and signature.
RAW_FIELDS = ("data", "signature")


def sign(data: str, private_key: str) -> str:
    # SHA-1 is LiqPay's documented signature; the shop cannot choose another.
    digest = hashlib.sha1((private_key + data + private_key).encode("utf-8")).digest()  # noqa: S324
    return base64.b64encode(digest).decode("ascii")


def encode(params: Mapping[str, Any]) -> str:
    return base64.b64encode(json.dumps(dict(params)).encode("utf-8")).decode("ascii")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise MalformedNotification(f"the JSON repeats {name!r}")
        found[name] = value
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))  # an object or list, as JSON


def decode(data: str) -> dict[str, str]:
    """The JSON object in ``data``, as strings; MalformedNotification if it is not one."""
    try:
        raw = base64.b64decode(data.replace(" ", "+"), validate=True)
        parsed = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_repeats,
            parse_float=str,
            parse_int=str,
            parse_constant=lambda name: name,  # NaN / Infinity: text, refused as amounts
        )
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedNotification("data is not base64 of a JSON object") from exc
    if not isinstance(parsed, dict) or not is_text(parsed):
        raise MalformedNotification("data is not base64 of a JSON object")
    return {str(name): _text(value) for name, value in parsed.items()}


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    params: dict[str, Any] = {k: str(v) for k, v in fields.items() if v is not None}
    if not params.get("order_id"):
        raise InvalidData("LiqPay needs an order_id (the shop's order reference)")
    for name in ("sandbox", "public_key", "version", *RAW_FIELDS):
        if name in params:
            raise InvalidData(f"{name} is set by the integration, not by the shop")
    currency = params.get("currency", "").upper()
    if not currency:
        raise InvalidData("LiqPay needs a currency")
    amount = payable(params.get("amount", ""), currency)
    params.update(
        version=VERSION,
        public_key=account["PUBLIC_KEY"],
        currency=currency,
        amount=amount,
    )
    params.setdefault("action", "pay")
    params.setdefault("description", f"Order {params['order_id']}")
    if account.test:
        params["sandbox"] = "1"
    data = encode(params)
    return {"data": data, "signature": sign(data, account["PRIVATE_KEY"])}


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    params = decode(form["data"])
    return PaymentTerms(
        params["order_id"],
        Decimal(params["amount"]),
        params["currency"],
        receiver=account["PUBLIC_KEY"],
    )


def read(inbound: Inbound) -> dict[str, str]:
    posted = require(parse_utf8_or_latin1(inbound.body), RAW_FIELDS, "a LiqPay callback")
    data, signature = (posted[name].replace(" ", "+") for name in RAW_FIELDS)
    fields = require(decode(data), CALLBACK_FIELDS, "a LiqPay callback")
    # The posted pair wins over any JSON name alike: verify always sees what was signed.
    return {**fields, "data": data, "signature": signature}


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    expected = sign(fields["data"], account["PRIVATE_KEY"])
    received = fields.get("signature", "").encode("utf-8", "replace")
    return verdict(same_digest(expected, received))


def _status(status: str) -> Status:
    if status in STATUS_MAP:
        return STATUS_MAP[status]
    if status.endswith("_verify") or status.startswith("wait_"):
        return Status.PENDING
    return Status.UNKNOWN


def _amount(fields: Mapping[str, str]) -> Decimal | None:
    """The JSON number (``6.0``) with the currency's decimals (``6.00``) where exact."""
    amount = parse_amount(fields["amount"], "amount")
    if amount is None or quantize(amount, fields["currency"]) != amount:
        return amount
    return quantize(amount, fields["currency"])


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    status = fields["status"]
    transaction = fields.get("payment_id") or fields.get("transaction_id") or ""
    return Notification(
        integration=integration,
        reference=limited(fields["order_id"], "order_id"),
        transaction_id=limited(transaction, "payment_id"),
        amount=_amount(fields),
        currency=limited(fields["currency"], "currency", 3),
        status=_status(status),
        gateway_status=limited(status, "status"),
        test=status == TEST_STATUS or account.test,
        raw={k: v for k, v in fields.items() if k not in RAW_FIELDS},
        receiver=limited(fields["public_key"], "public_key"),
    )


reply = empty_reply
