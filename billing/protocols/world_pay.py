"""Worldpay Business Gateway hosted payment page ("HTML Redirect") and Payment Response.

Implements Worldpay's Business Gateway documents (checked 2026-11; of the guides only the
public copies' contents and excerpts could be read, so each rule was also cross-checked
with the project's gateway notes, taken from older open-source integrations):

- "Business Gateway HTML Redirect Integration Guide", V5.2 (September 2015): the order
  details form posted to ``/wcc/purchase`` (``instId``, ``cartId``, ``amount`` in major
  units, ``currency``, ``testMode`` 100/101/0, ``MC_*``/``M_*`` custom parameters) and
  "MD5 security": ``signature`` = lower-case hex MD5 of the MD5 secret and the values of
  the ``signatureFields``, joined by colons (``secret:v1:v2:...``);
- "Payment Response Guide", V4.3 (September 2012), and developer.worldpay.com
  "Business Gateway > Enable payment responses": the callback POSTed to the Payment
  Response URL (``<wpdisplay item=MC_callback>`` for a dynamic one) with ``transStatus``
  (``Y`` success, ``C`` cancelled; declines are not sent), ``transId``, ``cartId``,
  ``amount``/``currency`` as ordered, ``instId``, ``testMode`` and the Payment Response
  password ``callbackPW``; Worldpay shows the HTML the callback returns to the shopper
  ("shopper response"), where a META refresh with a short delay may send them back.

The callback carries no signature: the password, compared in constant time, is its only
authentication. The password must not be stored, so ``redact_password`` replaces it in
the raw body, before storage, by a keyed digest that ``password_matches`` checks.

``MC_callback`` and ``MC_return`` are always signed: with a Payment Response URL of
``<wpdisplay item=MC_callback>``, an unsigned one lets the shopper send the callback, and
its password, to a server of his own.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import unquote_to_bytes

from ..exceptions import InvalidData, MalformedNotification
from ..money import quantize, to_decimal
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
    refuse_floats,
    verdict,
)

SPEC = "Worldpay Business Gateway HTML Redirect Guide V5.2, Payment Response Guide V4.3"

LIVE_SERVICE_URL = "https://secure.worldpay.com/wcc/purchase"
TEST_SERVICE_URL = "https://secure-test.worldpay.com/wcc/purchase"
# The URLs are signed too: whoever can change MC_callback receives the callback password.
ALWAYS_SIGNED = ("MC_callback", "MC_return")
DEFAULT_SIGNATURE_FIELDS = "amount:currency:instId:cartId:MC_callback:MC_return"
TEST_MODES = ("100", "101")  # 100: test; 101: test that is always refused
LIVE_MODE = "0"
PASSWORD_FIELD = "callbackPW"
DIGEST_PREFIX = "hmac-sha256:"
_REDACTION_LABEL = b"billing.world_pay.callbackPW"

# transStatus -> state. Worldpay sends Payment Responses for successful and cancelled
# payments only; a refused card is retried on the payment page and never reported.
STATUS_MAP: Mapping[str, Status] = {"Y": Status.PAID, "C": Status.CANCELLED}


def signature(secret: str, values: Sequence[str]) -> str:
    """MD5 over ``secret:value1:value2:...``, lower-case hex, as the guide defines it."""
    text = ":".join([secret, *values])
    # MD5 is what the gateway mandates for this signature; it is not our choice.
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _amount(value: object, currency: str) -> str:
    if isinstance(value, float):
        raise InvalidData("amount: money is Decimal or str, never float")
    amount = to_decimal(value)
    if amount <= 0:
        raise InvalidData("amount must be positive")
    exact = quantize(amount, currency)
    if exact != amount:
        raise InvalidData(f"amount {value} has more decimals than {currency} allows")
    return f"{exact:f}"


def signature_field_names(signature_fields: str) -> list[str]:
    """The names of a ``signatureFields`` list; InvalidData unless it signs the URLs."""
    names = [name for name in signature_fields.split(":") if name]
    unsigned = [name for name in ALWAYS_SIGNED if name not in names]
    if unsigned:
        raise InvalidData(
            f"SIGNATURE_FIELDS must sign {' and '.join(unsigned)}: a shopper who changes "
            "the callback URL receives the callback password"
        )
    return names


def build_fields(
    fields: Mapping[str, object],
    *,
    installation_id: str,
    md5_secret: str,
    signature_fields: str,
    test: bool,
) -> dict[str, str]:
    """The final order form: the shop's fields, the installation, test mode and signature."""
    refuse_floats(fields, "money is Decimal or str, never float")
    final = {k: str(v) for k, v in fields.items() if v is not None}
    for required in ("cartId", "amount", "currency"):
        if not final.get(required):
            raise InvalidData(f"Worldpay needs {required}")
    final["currency"] = final["currency"].upper()
    final["amount"] = _amount(final["amount"], final["currency"])
    final["instId"] = installation_id
    if test:
        if final.get("testMode") not in TEST_MODES:
            final["testMode"] = TEST_MODES[0]
    else:
        final["testMode"] = LIVE_MODE
    final.pop("signature", None)
    names = signature_field_names(signature_fields)
    missing = [name for name in names if name not in final]
    if missing:
        raise InvalidData(f"signed fields missing from the form: {', '.join(missing)}")
    final["signatureFields"] = ":".join(names)
    final["signature"] = signature(md5_secret, [final[name] for name in names])
    return final


def parse_callback(body: bytes) -> dict[str, str]:
    """Decode a Payment Response body: UTF-8, or ISO-8859-1 for older installations."""
    if not body.strip():
        raise MalformedNotification("empty body")
    fields = parse_utf8_or_latin1(body)
    if not fields.get("transStatus", "").strip() or not fields.get("cartId"):
        raise MalformedNotification("not a Worldpay Payment Response (transStatus, cartId)")
    return fields


# -- the callback password, never stored ------------------------------------------------


def redaction_key(secret: bytes) -> bytes:
    """The key of the stored password digests, derived from a secret the shop holds."""
    return hmac.new(secret, _REDACTION_LABEL, hashlib.sha256).digest()


def password_digest(password: bytes, key: bytes) -> str:
    return DIGEST_PREFIX + hmac.new(key, password, hashlib.sha256).hexdigest()


def redact_password(body: bytes, key: bytes) -> bytes:
    """Replace every ``callbackPW`` value in a raw body or query string by its keyed digest.

    Both shapes a parser may read are covered, whatever the content type says: form
    pairs (names matched after percent-decoding, as the body will be parsed) and
    multipart/form-data parts. A value cut off by truncation is digested as far as it
    goes. Whatever the value is, it is digested: a digest sent on the wire is digested
    again and can never match a stored one. Everything else keeps its exact bytes.
    """
    if b"\n" in body:  # form pairs never hold a raw line break; multipart always does
        body = _redact_parts(body, key)
    pairs = body.split(b"&")
    for index, pair in enumerate(pairs):
        name, sep, value = pair.partition(b"=")
        if not sep or unquote_to_bytes(name.replace(b"+", b" ")) != PASSWORD_FIELD.encode():
            continue
        password = unquote_to_bytes(value.replace(b"+", b" "))
        digest = password_digest(password, key).replace(":", "%3A")
        pairs[index] = name + b"=" + digest.encode("ascii")
    return b"&".join(pairs)


# A part starts after each delimiter line ("--" + boundary). Splitting at every line
# that starts with "--" finds all of them without knowing the boundary, which a stored
# body does not state: a spurious split only makes a part end early, and no password
# contains a line break.
_DELIMITER = re.compile(rb"(?:\A|\r?\n)--")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _redact_parts(body: bytes, key: bytes) -> bytes:
    """multipart/form-data: the content of every part named ``callbackPW``, digested."""
    out = bytearray()
    start = 0
    for match in [*_DELIMITER.finditer(body), None]:
        end = len(body) if match is None else match.start()
        out += _redact_part(body[start:end], key)
        if match is not None:
            out += match.group()
            start = match.end()
    return bytes(out)


def _redact_part(part: bytes, key: bytes) -> bytes:
    header_end = _HEADER_END.search(part)
    if header_end is None or _part_name(part[: header_end.start()]) != PASSWORD_FIELD:
        return part
    password = part[header_end.end() :]
    return part[: header_end.end()] + password_digest(password, key).encode("ascii")


def _part_name(headers: bytes) -> str | None:
    """The ``name`` of a part's Content-Disposition, read as Django's parser reads it
    (email's parameter parsing, RFC 2231 included, then stripped)."""
    for line in re.split(rb"\r?\n", headers):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        header, _, value = text.partition(":")
        if header.strip().lower() != "content-disposition":
            continue
        message = Message()
        message["content-disposition"] = value
        params = message.get_params(header="content-disposition") or []
        # The last name wins, as in the dict Django builds from these parameters.
        names = [v for k, v in params if k.lower() == "name"]
        if names:
            return collapse_rfc2231_value(names[-1]).strip()
    return None


def password_matches(stored: str, password: str, keys: Iterable[bytes]) -> bool:
    """Whether the stored (redacted) callbackPW is the digest of the configured password.

    A value that is not a digest (a body that was not redacted) never matches.
    """
    if not password or not stored.startswith(DIGEST_PREFIX):
        return False
    received = stored.encode("utf-8")
    matched = False
    for key in keys:
        expected = password_digest(password.encode("utf-8"), key).encode("ascii")
        matched |= hmac.compare_digest(expected, received)
    return matched


# -- the notification -------------------------------------------------------------------


def to_notification(fields: Mapping[str, str], *, integration: str) -> Notification:
    gateway_status = limited(fields.get("transStatus", ""), "transStatus", 16)
    status = STATUS_MAP.get(gateway_status.strip().upper(), Status.UNKNOWN)
    reference = limited(fields.get("cartId", ""), "cartId")
    transaction_id = limited(fields.get("transId", ""), "transId")
    if not transaction_id and status is Status.CANCELLED:
        # A cancelled order has no Worldpay transaction; the order is the event.
        transaction_id = f"cancelled:{reference}"
    return Notification(
        integration=integration,
        reference=reference,
        transaction_id=transaction_id,
        # The amount ordered, echoed: never negative.
        amount=parse_amount(fields.get("amount", ""), "amount"),
        currency=fields.get("currency", "").upper(),
        status=status,
        gateway_status=gateway_status,
        # Anything but an explicit live mode (0) is a test: a missing flag is not "live".
        test=fields.get("testMode", "").strip() != LIVE_MODE,
        raw=dict(fields),
        receiver=fields.get("instId", ""),
    )


# -- the GatewayProtocol verbs ----------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    # Both URLs are signed (see above): the shopper cannot replace them.
    return build_fields(
        fields,
        installation_id=account["INSTALLATION_ID"],
        md5_secret=account["MD5_SECRET"],
        signature_fields=account.get("SIGNATURE_FIELDS", DEFAULT_SIGNATURE_FIELDS),
        test=account.test,
    )


def check_signature_fields(value: object) -> None:
    """The SIGNATURE_FIELDS setting, if set, signs both URLs (InvalidData if not)."""
    signature_field_names(str(value or DEFAULT_SIGNATURE_FIELDS))


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    amount, currency = Decimal(form["amount"]), form["currency"]
    return PaymentTerms(form["cartId"], amount, currency, receiver=account["INSTALLATION_ID"])


def read(inbound: Inbound) -> dict[str, str]:
    return parse_callback(inbound.body)


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    """The password, stored as a digest under the shop's key (or a fallback key)."""
    keys = [redaction_key(key) for key in account.shop_keys]
    stored = fields.get(PASSWORD_FIELD, "")
    valid = password_matches(stored, account["CALLBACK_PASSWORD"], keys)
    return verdict(valid)


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    return to_notification(fields, integration=integration)


reply = empty_reply  # the integration shows the shopper a page back to the shop
