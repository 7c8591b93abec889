"""Authorize.Net Server Integration Method (SIM) and Direct Post Method (DPM), Signature Key.

Implements Authorize.Net's "Server Integration Method (SIM) Card-Not-Present
Transactions Developer Guide" (September 2017, the last revision; DPM posts the same
fields from the shop's own card form) with the Signature Key that replaced the MD5 hash:

- the transaction fingerprint of support article A1706 ("Do I need to upgrade my
  transaction fingerprint from HMAC-MD5 to HMAC-SHA512, and how?"): ``x_fp_hash`` =
  HMAC-SHA512, keyed with the Signature Key decoded from its 128 hex digits, over
  ``x_login^x_fp_sequence^x_fp_timestamp^x_amount^x_currency_code`` (five fields
  joined by carets: no leading caret, and a trailing one only when the currency is
  empty), hex as Authorize.Net's PHP SDK sends it (lower case);
- the relay response hash of the SIM guide, pages 73-75, to which the "Transaction
  Hash Upgrade Guide" (developer.authorize.net/support/hash_upgrade) sends SIM and DPM
  users: ``x_SHA2_Hash`` = upper-case hex HMAC-SHA512 with the same key over a caret,
  the 30 values of ``RESPONSE_HASH_FIELDS`` joined by carets, and a closing caret
  (absent fields count as empty), in ISO-8859-1 as the upgrade guide requires;
- ``x_response_code``: 1 approved, 2 declined, 3 error, 4 held for review.

The relay response names neither the merchant account (``x_login`` is not returned)
nor the currency: the account is proven by the Signature Key alone, and the currency is
the account's own (Authorize.Net refuses a currency the account does not process).
"""

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData, MalformedNotification
from ..money import format_amount, to_decimal, within_minor_unit
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
    parse_form_body,
    refuse_floats,
    verdict,
)

SPEC = "Authorize.Net SIM Developer Guide (September 2017) with the Signature Key (A1706)"

LIVE_SERVICE_URL = "https://secure.authorize.net/gateway/transact.dll"
TEST_SERVICE_URL = "https://test.authorize.net/gateway/transact.dll"

# The values covered by x_SHA2_Hash, in order (SIM guide, "Using the SHA-512 hash").
RESPONSE_HASH_FIELDS = (
    "x_trans_id",
    "x_test_request",
    "x_response_code",
    "x_auth_code",
    "x_cvv2_resp_code",
    "x_cavv_response",
    "x_avs_code",
    "x_method",
    "x_account_number",
    "x_amount",
    "x_company",
    "x_first_name",
    "x_last_name",
    "x_address",
    "x_city",
    "x_state",
    "x_zip",
    "x_country",
    "x_phone",
    "x_fax",
    "x_email",
    "x_ship_to_company",
    "x_ship_to_first_name",
    "x_ship_to_last_name",
    "x_ship_to_address",
    "x_ship_to_city",
    "x_ship_to_state",
    "x_ship_to_zip",
    "x_ship_to_country",
    "x_invoice_num",
)

# x_response_code -> state. 4 (held for review by the Fraud Detection Suite) is not
# money received: the merchant approves or voids it in the Merchant Interface, and no
# second relay response follows, so the payment stays pending until someone decides.
STATUS_MAP: Mapping[str, Status] = {
    "1": Status.PAID,
    "2": Status.FAILED,
    "3": Status.FAILED,
    "4": Status.PENDING,
}
# x_type, lower case as the relay response states it. It is in neither the fingerprint
# nor the hash, so only the exact value billing's form asks for counts as a capture.
CAPTURED_TYPE = "auth_capture"
AUTHORISED_TYPE = "auth_only"  # authorised, nothing captured: pending

_SIGNATURE_KEY = re.compile(r"[0-9A-Fa-f]{128}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def signature_key(hex_key: str) -> bytes:
    """The Signature Key as bytes; InvalidData (without the key) unless it is 128 hex digits."""
    text = str(hex_key).strip()
    if not _SIGNATURE_KEY.fullmatch(text):
        raise InvalidData(
            f"the Signature Key must be the 128 hexadecimal digits shown in the Merchant "
            f"Interface (got {len(text)} characters)"
        )
    return bytes.fromhex(text)


def fingerprint(
    *, login: str, sequence: str, timestamp: str, amount: str, currency: str, key: bytes
) -> str:
    """x_fp_hash for these exact field values."""
    message = "^".join([login, sequence, timestamp, amount, currency])
    return hmac.new(key, message.encode("iso-8859-1"), hashlib.sha512).hexdigest()


def build_fields(
    fields: Mapping[str, object],
    *,
    login: str,
    key: bytes,
    test: bool,
    account_currency: str,
    sequence: str,
    timestamp: str,
) -> dict[str, str]:
    """The final form: the shop's fields, the account, relay settings and the fingerprint.

    ``x_show_form`` defaults to ``PAYMENT_FORM`` (Authorize.Net hosts the card form, SIM);
    given as None it is left out for DPM, where the shop's own page posts the card fields
    and ``x_relay_always`` defaults to TRUE.
    """
    refuse_floats(fields, "money is Decimal or str, never float")
    direct_post = "x_show_form" in fields and fields["x_show_form"] is None
    final = {k: str(v) for k, v in fields.items() if v is not None}
    if not final.get("x_invoice_num"):
        raise InvalidData("Authorize.Net needs an x_invoice_num (the shop's order reference)")
    if not final.get("x_amount"):
        raise InvalidData("Authorize.Net needs an x_amount")
    currency = (final.get("x_currency_code") or account_currency).strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise InvalidData("x_currency_code must be an ISO 4217 code")
    amount = within_minor_unit(to_decimal(final["x_amount"]), currency)
    if amount <= 0:
        raise InvalidData("x_amount must be positive")
    transaction_type = final.get("x_type", "AUTH_CAPTURE").upper()
    if transaction_type != "AUTH_CAPTURE":
        raise InvalidData(
            "only x_type AUTH_CAPTURE is supported: an approved AUTH_ONLY is not money "
            "received, and the relay response does not sign which type was used"
        )
    final["x_type"] = "AUTH_CAPTURE"
    final["x_amount"] = format_amount(amount, currency)
    final["x_currency_code"] = currency
    final["x_login"] = login
    final["x_version"] = "3.1"
    final["x_relay_response"] = "TRUE"
    if direct_post:
        final.setdefault("x_relay_always", "TRUE")
    else:
        final.setdefault("x_show_form", "PAYMENT_FORM")
    if test:
        final["x_test_request"] = "TRUE"
    else:
        final.pop("x_test_request", None)
    final["x_fp_sequence"] = sequence
    final["x_fp_timestamp"] = timestamp
    final["x_fp_hash"] = fingerprint(
        login=login,
        sequence=sequence,
        timestamp=timestamp,
        amount=final["x_amount"],
        currency=currency,
        key=key,
    )
    return final


def expected_amount(fields: Mapping[str, str]) -> Decimal:
    """x_amount is the total (tax and freight are itemisations included in it)."""
    return to_decimal(fields["x_amount"])


def parse_relay(body: bytes) -> dict[str, str]:
    """Decode a relay response. Authorize.Net's values are ISO-8859-1."""
    if not body.strip():
        raise MalformedNotification("empty relay response")
    return parse_form_body(body, "iso-8859-1")


def response_hash(fields: Mapping[str, str], key: bytes) -> str:
    """The x_SHA2_Hash Authorize.Net computes for these values: upper-case hex."""
    message = "^" + "^".join(fields.get(name, "") for name in RESPONSE_HASH_FIELDS) + "^"
    data = message.encode("iso-8859-1")
    return hmac.new(key, data, hashlib.sha512).hexdigest().upper()


def verify_relay(fields: Mapping[str, str], key: bytes) -> bool:
    received = fields.get("x_SHA2_Hash", "").strip().upper()
    if not received:
        return False
    try:
        expected = response_hash(fields, key)
    except UnicodeEncodeError:  # not text Authorize.Net can have hashed
        return False
    return hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8"))


def to_notification(fields: Mapping[str, str], *, integration: str, currency: str) -> Notification:
    """A verified relay response; ``currency`` is the account's, ``receiver`` is empty.

    An approval is paid only if ``x_type`` is exactly ``auth_capture``: the type is not in
    the fingerprint, so the customer can change the form's. ``auth_only`` (authorised,
    not captured) is pending; any other value is unknown, which changes no payment.
    """
    gateway_status = limited(fields.get("x_response_code", ""), "x_response_code", 16)
    status = STATUS_MAP.get(gateway_status, Status.UNKNOWN)
    if status is Status.PAID:
        transaction_type = fields.get("x_type", "")
        if transaction_type == AUTHORISED_TYPE:
            status = Status.PENDING
        elif transaction_type != CAPTURED_TYPE:
            status = Status.UNKNOWN
    return Notification(
        integration=integration,
        reference=limited(fields.get("x_invoice_num", ""), "x_invoice_num"),
        transaction_id=limited(fields.get("x_trans_id", ""), "x_trans_id"),
        amount=parse_amount(fields.get("x_amount", ""), "x_amount"),
        currency=currency.upper(),
        status=status,
        gateway_status=gateway_status,
        test=fields.get("x_test_request", "").strip().lower() == "true",
        raw=dict(fields),
        receiver="",
    )


# -- the GatewayProtocol verbs ----------------------------------------------------------


def account_currency(account: Account) -> str:
    """The currency the account processes (relay responses imply it)."""
    return account.get("CURRENCY", "USD").upper()


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    return build_fields(
        fields,
        login=account["LOGIN_ID"],
        key=signature_key(account["SIGNATURE_KEY"]),
        test=account.test,
        account_currency=account_currency(account),
        sequence=str(secrets.randbelow(10**9)),
        timestamp=str(int(time.time())),
    )


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    return PaymentTerms(
        reference=form["x_invoice_num"],
        amount=expected_amount(form),
        currency=form["x_currency_code"],
        receiver=account["LOGIN_ID"],
    )


def read(inbound: Inbound) -> dict[str, str]:
    return parse_relay(inbound.body)


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    return verdict(verify_relay(fields, signature_key(account["SIGNATURE_KEY"])))


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    return to_notification(fields, integration=integration, currency=account_currency(account))


reply = empty_reply  # the integration shows the customer a page back to the shop
