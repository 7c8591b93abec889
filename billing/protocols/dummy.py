"""The dummy gateway: the reference a contributor copies when adding a real one.

SPEC: this docstring is the dummy gateway's whole specification, version 1.
- The form posts to the service URL: ``merchant``, ``reference``, ``amount`` (major
  units, the currency's decimals), ``currency`` (ISO 4217), ``notify_url``,
  ``return_url``, ``cancel_url`` and ``signature``.
- ``signature`` is hex HMAC-SHA256 with the shared secret over the other fields as
  ``name=value`` pairs sorted by name and joined by ``&`` (empty values included).
- The notification is a form POST to ``notify_url``: ``merchant``, ``reference``,
  ``transaction``, ``amount``, ``currency``, ``status`` (``paid``, ``failed``,
  ``cancelled``), ``test`` (``1`` or ``0``) and ``signature`` by the same rule. The
  gateway expects ``200`` and any body.
Vectors in tests/test_dummy.py are computed with ``openssl dgst -sha256 -hmac``.
"""

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData
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
    require,
    same_digest,
    verdict,
)

SPEC = "dummy gateway 1 (this module's docstring)"
LIVE_SERVICE_URL = "https://pay.dummy.invalid/checkout"
TEST_SERVICE_URL = "https://test.dummy.invalid/checkout"
STATUS_MAP = {"paid": Status.PAID, "failed": Status.FAILED, "cancelled": Status.CANCELLED}
NOTIFICATION_FIELDS = ("merchant", "reference", "transaction", "amount", "currency", "status")


def sign(fields: Mapping[str, str], secret: str) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    final = {k: str(v) for k, v in fields.items() if v is not None}
    currency = final.get("currency", "").upper()
    amount = payable(final.get("amount", ""), currency)
    if not final.get("reference"):
        raise InvalidData("the dummy gateway needs a reference")
    final.update(merchant=account["MERCHANT_ID"], currency=currency)
    final["amount"] = amount
    final["signature"] = sign(final, account["SECRET"])
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    amount, currency = Decimal(form["amount"]), form["currency"]
    return PaymentTerms(form["reference"], amount, currency, receiver=account["MERCHANT_ID"])


def read(inbound: Inbound) -> dict[str, str]:
    fields = parse_utf8_or_latin1(inbound.body)
    return require(fields, (*NOTIFICATION_FIELDS, "signature"), "a dummy notification")


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    received = fields.get("signature", "").lower().encode("utf-8")
    return verdict(same_digest(sign(fields, account["SECRET"]), received))


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    return Notification(
        integration=integration,
        reference=limited(fields["reference"], "reference"),
        transaction_id=limited(fields["transaction"], "transaction"),
        amount=parse_amount(fields["amount"], "amount"),
        currency=limited(fields["currency"], "currency", 3),
        status=STATUS_MAP.get(fields["status"], Status.UNKNOWN),
        gateway_status=limited(fields["status"], "status"),
        test=fields.get("test") == "1",
        raw=dict(fields),
        receiver=fields["merchant"],
    )


reply = empty_reply
