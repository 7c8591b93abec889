"""PayU India: PayU Hosted Checkout, the ``_payment`` API, with its SHA-512 hashes.

SPEC: docs.payu.in, "Web Integration - PayU Hosted", "Generate Hash" (hashing request
and response) and "Collect Additional Charges", as published in 2026 (checked 2026-12):

- the form posts to ``https://secure.payu.in/_payment`` (live) or
  ``https://test.payu.in/_payment`` (test; the ``.php`` suffix of older documents is
  gone): ``key``, ``txnid``, ``amount``, ``productinfo``, ``firstname``, ``email``,
  ``phone``, ``surl``, ``furl``, ``udf1``..``udf5`` and ``hash``;
- request ``hash`` = sha512 hex of
  ``key|txnid|amount|productinfo|firstname|email|udf1|udf2|udf3|udf4|udf5||||||SALT``
  (the five empty slots are udf6..udf10, which only ``api_version=19`` fills: this
  module refuses them in the form, so the slots stay empty);
- the response (the same fields whether PayU posts them through the customer's browser
  to surl/furl or server to server as a webhook to the shop's ``notify/``):
  ``mihpayid`` (PayU's id), ``txnid``, ``amount``, ``status`` (``success``,
  ``failure``, ``pending``), ``key``, ``productinfo``, ``firstname``, ``email``,
  ``udf1``..``udf10``, ``hash``;
- response ``hash`` = sha512 hex of
  ``SALT|status|udf10|udf9|udf8|udf7|udf6|udf5|udf4|udf3|udf2|udf1|email|firstname|productinfo|amount|txnid|key``;
  when the response carries additional charges (a convenience fee that PayU adds on
  top, named ``additional_charges`` in the current page and ``additionalCharges`` in
  the older one), their value and ``|`` come first: ``additional_charges|SALT|...``.

Where the document is silent or this module chose:

- ``amount`` stays what the shop asked for; a convenience fee is on top of it and is
  bound by the hash but not compared (the account's fee is agreed with PayU). Both
  spellings of the charges field are read; a response with both, differing, is
  malformed rather than guessed.
- ``mihpayid`` is not covered by the hash. It only names the event: every value that
  changes a payment (txnid, status, amount, key, udf5) is hashed, so an altered
  ``mihpayid`` can at most make a replay look new, and a replayed status cannot move a
  payment it already moved (the ledger calls it stale).
- Mode binding: the response says nothing of test or live, and PayU's test and live
  accounts have different keys and salts, so a test response fails a live salt. On
  top of that the integration writes its mode into ``udf5`` (``billing-test`` or
  ``billing-live``), which both hashes cover and PayU returns unchanged; a response
  whose udf5 says test is a test notification whatever the shop's mode. A response
  without the marker (a form not built by this module) takes the account's mode.
  ``udf5`` is therefore the integration's: a shop's own udf5 is refused.
- PayU India takes INR only here: the response names no currency, so it is INR.
- A hash is compared case-insensitively (PayU's samples lower-case it).
Vectors in tests/test_payu_in.py come from ``printf '%s' ... | sha512sum``.
"""

import hashlib
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData, MalformedNotification
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    limited,
    marked_test,
    parse_amount,
    parse_utf8_or_latin1,
    payable,
    require,
    same_digest,
    verdict,
)

SPEC = "PayU India Hosted Checkout, _payment API (docs.payu.in Generate Hash, 2026)"
LIVE_SERVICE_URL = "https://secure.payu.in/_payment"
TEST_SERVICE_URL = "https://test.payu.in/_payment"
CURRENCY = "INR"
MODE_FIELD = "udf5"
TEST_MARKER, LIVE_MARKER = "billing-test", "billing-live"
UDFS = tuple(f"udf{i}" for i in range(1, 11))
CHARGES_FIELDS = ("additional_charges", "additionalCharges")
STATUS_MAP = {"success": Status.PAID, "failure": Status.FAILED, "pending": Status.PENDING}
REQUIRED = ("key", "txnid", "amount", "status", "hash")


def request_hash(fields: Mapping[str, str], salt: str) -> str:
    names = ("key", "txnid", "amount", "productinfo", "firstname", "email", *UDFS)
    text = "|".join([*(fields.get(name, "") for name in names), salt])
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


def additional_charges(fields: Mapping[str, str]) -> str:
    """The response's additional charges ("" when none); malformed if they disagree."""
    given = {fields[name] for name in CHARGES_FIELDS if fields.get(name)}
    if len(given) > 1:
        raise MalformedNotification("additional_charges and additionalCharges differ")
    return given.pop() if given else ""


def response_hash(fields: Mapping[str, str], salt: str) -> str:
    names = ("email", "firstname", "productinfo", "amount", "txnid", "key")
    parts = [salt, fields.get("status", ""), *(fields.get(u, "") for u in reversed(UDFS))]
    parts += [fields.get(name, "") for name in names]
    charges = additional_charges(fields)
    text = "|".join([charges, *parts] if charges else parts)
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    final = {k: str(v) for k, v in fields.items() if v is not None}
    if final.get(MODE_FIELD):
        raise InvalidData(f"{MODE_FIELD} carries the shop's mode for billing: use udf1..udf4")
    extra = [name for name in UDFS[5:] if final.get(name)]
    if extra:
        raise InvalidData(f"{', '.join(extra)} need PayU's api_version 19, not used here")
    if not final.get("txnid"):
        raise InvalidData("PayU needs a txnid (the shop's order reference)")
    final["amount"] = payable(final.get("amount", ""), CURRENCY)
    final.setdefault("productinfo", f"Order {final['txnid']}")
    final.setdefault("firstname", "")
    final.setdefault("email", "")
    final["key"] = account["MERCHANT_KEY"]
    final[MODE_FIELD] = TEST_MARKER if account.test else LIVE_MARKER
    final.pop("hash", None)
    final["hash"] = request_hash(final, account["SALT"])
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    amount = Decimal(form["amount"])
    return PaymentTerms(form["txnid"], amount, CURRENCY, receiver=account["MERCHANT_KEY"])


def read(inbound: Inbound) -> dict[str, str]:
    fields = require(parse_utf8_or_latin1(inbound.body), REQUIRED, "a PayU response")
    additional_charges(fields)
    return fields


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    expected = response_hash(fields, account["SALT"])
    received = fields.get("hash", "").strip().lower().encode("utf-8")
    return verdict(same_digest(expected, received))


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    status = limited(fields["status"], "status", 32)
    test = marked_test(fields.get(MODE_FIELD, ""), (TEST_MARKER, LIVE_MARKER), account.test)
    return Notification(
        integration=integration,
        reference=limited(fields["txnid"], "txnid"),
        transaction_id=limited(fields.get("mihpayid") or fields["txnid"], "mihpayid"),
        amount=parse_amount(fields["amount"], "amount"),
        currency=CURRENCY,
        status=STATUS_MAP.get(status, Status.UNKNOWN),
        gateway_status=status,
        test=test,
        raw=dict(fields),
        receiver=limited(fields["key"], "key"),
    )


reply = empty_reply
