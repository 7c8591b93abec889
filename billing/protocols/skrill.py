"""Skrill Quick Checkout: the payment form and the status_url notification.

Implements Skrill's "Quick Checkout Integration Guide" (version 8.x, now published by
Paysafe as docs.paysafe.com "Digital wallets > Quick Checkout": "Parameters to be posted
to Quick Checkout", "Skrill status response", "Validating the status response"),
checked 2026-12.

- The form posts to ``https://pay.skrill.com`` and is not signed: ``pay_to_email`` names
  the merchant's account, ``transaction_id`` the shop's reference, ``amount`` (major units)
  and ``currency`` (ISO 4217) the price; ``status_url`` is where Skrill posts the status.
  Nothing secret is in it.
- The status response carries ``md5sig`` = upper-case hex MD5 of ``merchant_id`` +
  ``transaction_id`` + upper-case hex MD5 of the secret word + ``mb_amount`` +
  ``mb_currency`` + ``status``, compared in constant time (case-insensitively: it is hex).
  Only those fields are signed: ``amount``/``currency`` (as the merchant posted them) and
  ``pay_to_email`` are not, so the payment is bound to the signed ``mb_amount`` and
  ``mb_currency`` (the amount credited, in the merchant account's currency) and to the
  signed ``merchant_id``. A payment asked in another currency than the account's is then
  held for review, never paid at a converted amount that nobody checked.
- ``status``: ``2`` processed (paid), ``0`` pending, ``-1`` cancelled, ``-2`` failed,
  ``-3`` chargeback (reversed). ``mb_transaction_id`` is Skrill's transaction.
- Mode binding: Skrill has no test system and its status response no test flag; test
  payments are made with Skrill's separate test merchant accounts, each with its own
  merchant id and secret word. The notification's mode is therefore the shop's, and a
  test account's status response reaching a live shop fails ``md5sig`` (another secret
  word) and names another ``merchant_id``.
- Skrill expects HTTP 200; the body is ignored. The optional ``sha2sig`` (SHA-256 of the
  same string, enabled by Skrill on request) is not needed and not checked.
"""

import hashlib
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData
from ..money import currency_code
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    limited,
    parse_amount,
    parse_utf8_or_latin1,
    payable,
    refuse_floats,
    require,
    same_digest,
    verdict,
)

SPEC = "Skrill Quick Checkout Integration Guide 8.x (docs.paysafe.com, checked 2026-12)"
SERVICE_URL = "https://pay.skrill.com"
# Skrill has one URL: test accounts pay there too (the account decides the mode).
TEST_SERVICE_URL = SERVICE_URL
STATUS_MAP = {
    "2": Status.PAID,
    "0": Status.PENDING,
    "-1": Status.CANCELLED,
    "-2": Status.FAILED,
    "-3": Status.REVERSED,
}
SIGNED = ("merchant_id", "transaction_id", "mb_amount", "mb_currency", "status")
STATUS_FIELDS = (*SIGNED, "mb_transaction_id", "md5sig")


def _md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def md5sig(fields: Mapping[str, str], secret_word: str) -> str:
    parts = [fields.get(name, "") for name in SIGNED]
    parts.insert(2, _md5_upper(secret_word))
    return _md5_upper("".join(parts))


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    refuse_floats(fields, "amounts are Decimal or str, never float")
    final = {k: str(v) for k, v in fields.items() if v is not None}
    if not final.get("transaction_id"):
        raise InvalidData("Skrill needs transaction_id (the shop's order reference)")
    if len(final["transaction_id"]) > 100:
        raise InvalidData("Skrill's transaction_id has at most 100 characters")
    currency = currency_code(final.get("currency", ""))
    amount = payable(final.get("amount", ""), currency)
    final.update(pay_to_email=account["PAY_TO_EMAIL"], currency=currency)
    final["amount"] = amount
    if final.get("detail1_text"):
        final.setdefault("detail1_description", "Order")
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    amount, currency = Decimal(form["amount"]), form["currency"]
    return PaymentTerms(form["transaction_id"], amount, currency, receiver=account["MERCHANT_ID"])


def read(inbound: Inbound) -> dict[str, str]:
    return require(parse_utf8_or_latin1(inbound.body), STATUS_FIELDS, "a Skrill status response")


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    expected = md5sig(fields, account["SECRET_WORD"])
    received = fields.get("md5sig", "").strip().upper()
    return verdict(same_digest(expected, received.encode("utf-8", "replace")))


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    status = limited(fields["status"], "status", 8)
    return Notification(
        integration=integration,
        reference=limited(fields["transaction_id"], "transaction_id"),
        transaction_id=limited(fields["mb_transaction_id"], "mb_transaction_id"),
        amount=parse_amount(fields["mb_amount"], "mb_amount", signed=True),
        currency=limited(fields["mb_currency"], "mb_currency", 3),
        status=STATUS_MAP.get(status, Status.UNKNOWN),
        gateway_status=status,
        test=account.test,
        raw=dict(fields),
        receiver=fields["merchant_id"],
    )


reply = empty_reply
