"""QuickPay v10: the payment window reached by a signed form, and its JSON callback.

Implements two pages of QuickPay's "Tech Talk" documentation, as published at
learn.quickpay.net (read 2026):

- "Quickpay Form" (/tech-talk/payments/form): the form posts to
  ``https://payment.quickpay.net`` with ``version=v10``, ``merchant_id``,
  ``agreement_id``, ``order_id`` (``^[a-zA-Z0-9]{4,20}$``), ``amount`` (the smallest
  unit, ``^[0-9]{1,9}$``), ``currency`` (``^[A-Z]{3}$``), ``continueurl``,
  ``cancelurl``, ``callbackurl`` and ``checksum``. The checksum is the hex
  HMAC-SHA256, keyed with the payment window API key of that agreement, of the values
  of every other parameter, the parameters flattened to keys ``[name]`` (nested ones
  ``[variables][x]``), sorted by that key, joined with a single space.
- "Callback" (/tech-talk/api/callback): a POST of the payment resource as JSON (as
  ``GET /payments/<id>`` returns it) with the header ``QuickPay-Checksum-Sha256``, the
  hex HMAC-SHA256 of the raw body keyed with the account's private key. QuickPay
  expects 2xx (or 302/303); anything else is retried.
- "Errors and codes" (/tech-talk/appendixes/errors): ``qp_status_code`` 20000 is
  approved, 30100/30101 wait for 3-D Secure/SCA, 4xxxx are rejections, 5xxxx errors.

Where the documents are silent, this module chose:

- Paid: ``accepted`` is true and the last operation (``operations[-1]``) is an
  approved (20000) authorize, capture or recurring that is not ``pending``. Its
  ``amount`` (minor units) and the payment's ``currency`` are bound to the payment;
  ``merchant_id`` is the receiver and ``test_mode`` the mode (QuickPay says in the
  signed body whether a test card paid). An approved refund is a refund, an approved
  cancel a cancellation, a rejected authorize a failure; any other operation changes
  nothing. The event is ``<payment id>:<operation type>:<qp_status_code>``.
- ``order_id`` allows only ASCII letters and digits. A shop's reference made of those
  (and without ``z``) is sent unchanged; any other character is written ``z`` and two
  upper-case hex digits per UTF-8 byte (``-`` is ``z2D``, ``z`` is ``zz``), so
  ``KQ-AB12`` travels as ``KQz2DAB12`` and comes back as ``KQ-AB12``. A reference
  shorter than 4 or longer than 20 characters once written so is refused.
- Empty parameters are left out of the form, so none takes part in the checksum.
- ``read`` gives the JSON as flat string fields named as the form flattens them:
  ``accepted``, ``operations[0][qp_status_code]``, ``link[agreement_id]``; ``true`` and
  ``false`` for booleans, ``""`` for null. A name given twice is malformed.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..exceptions import InvalidData, MalformedNotification
from ..money import exponent, from_minor_units, parse_minor_units
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    header,
    is_text,
    limited,
    parse_amount,
    require,
    same_digest,
    verdict,
)

SPEC = "QuickPay v10 payment window form and callback (learn.quickpay.net Tech Talk, 2026)"
# QuickPay has no test host: an account's test mode decides, and the callback says it.
SERVICE_URL = "https://payment.quickpay.net"
CHECKSUM_HEADER = "QuickPay-Checksum-Sha256"
APPROVED = "20000"
WAITING = frozenset({"30100", "30101"})  # 3-D Secure / SCA required
PAYING_OPERATIONS = frozenset({"authorize", "capture", "recurring"})
REQUIRED = ("id", "order_id", "accepted", "currency", "merchant_id")

_ORDER_ID = re.compile(r"[a-zA-Z0-9]{4,20}")
_PLAIN = re.compile(r"[a-yA-Z0-9]")  # sent as is: every letter and digit but the escape z
_ESCAPE = re.compile(r"z(z|[0-9A-F]{2})")
_CURRENCY = re.compile(r"[A-Z]{3}")
_OPERATION = re.compile(r"operations\[([0-9]{1,6})\]\[")


# -- the form ------------------------------------------------------------------------------


def order_id(reference: str) -> str:
    """The reference as QuickPay's ``order_id`` (see the module docstring)."""
    wire = "".join(
        char if _PLAIN.fullmatch(char) else "zz" if char == "z" else _hex(char)
        for char in reference
    )
    if not _ORDER_ID.fullmatch(wire):
        raise InvalidData(
            f"QuickPay's order_id is 4 to 20 letters and digits: the reference {reference!r} "
            f"would be {wire!r}"
        )
    return wire


def _hex(char: str) -> str:
    return "".join(f"z{byte:02X}" for byte in char.encode("utf-8"))


def reference_of(wire: str) -> str:
    """The shop's reference of an ``order_id``; MalformedNotification for a broken escape."""
    out, i = bytearray(), 0
    while i < len(wire):
        if wire[i] != "z":
            out += wire[i].encode("utf-8")
            i += 1
            continue
        match = _ESCAPE.match(wire, i)
        if match is None:
            raise MalformedNotification(f"order_id {wire!r} is not one billing wrote")
        out += b"z" if match[1] == "z" else bytes.fromhex(match[1])
        i = match.end()
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNotification(f"order_id {wire!r} is not one billing wrote") from exc


def checksum_key(name: str) -> str:
    """The name as QuickPay flattens it before sorting: ``[amount]``, ``[variables][x]``."""
    head, bracket, rest = name.partition("[")
    return f"[{head}]{bracket}{rest}"


def checksum(fields: Mapping[str, str], api_key: str) -> str:
    names = sorted((name for name in fields if name != "checksum"), key=checksum_key)
    message = " ".join(fields[name] for name in names)
    return hmac.new(api_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    floats = sorted(name for name, value in fields.items() if isinstance(value, float))
    if floats:
        raise InvalidData(f"{', '.join(floats)}: QuickPay amounts are minor units, never float")
    final = {k: str(v) for k, v in fields.items() if v is not None and str(v) != ""}
    final.pop("checksum", None)
    if not final.get("order_id"):
        raise InvalidData("QuickPay needs an order_id (the shop's order reference)")
    currency = final.get("currency", "").strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise InvalidData("QuickPay needs a currency (ISO 4217 code)")
    units = parse_minor_units(final.get("amount", ""), "amount")
    if units > 999_999_999:
        raise InvalidData("QuickPay takes at most 9 digits of minor units")
    final.update(
        version="v10",
        merchant_id=account["MERCHANT_ID"],
        agreement_id=account["AGREEMENT_ID"],
        order_id=order_id(final["order_id"]),
        amount=str(units),
        currency=currency,
    )
    final["checksum"] = checksum(final, account["API_KEY"])
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    amount = from_minor_units(form["amount"], form["currency"])
    reference = reference_of(form["order_id"])
    return PaymentTerms(reference, amount, form["currency"], receiver=account["MERCHANT_ID"])


# -- the callback --------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise MalformedNotification("the JSON names a member twice")
    return dict(pairs)


def _no_constants(name: str) -> Any:
    raise MalformedNotification(f"the JSON holds {name}, which is not JSON")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)  # int, float


def _flatten(value: Any, name: str, into: dict[str, str]) -> None:
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            _flatten(item, f"{name}[{key}]" if name else str(key), into)
        return
    if name in into:
        raise MalformedNotification(f"{name} is given twice")
    into[name] = _text(value)


def read(inbound: Inbound) -> dict[str, str]:
    try:
        data = json.loads(
            inbound.body.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedNotification("the callback is not a JSON document") from exc
    if not isinstance(data, dict) or not is_text(data):
        raise MalformedNotification("the callback is not a JSON object")
    fields: dict[str, str] = {}
    try:
        _flatten(data, "", fields)
    except RecursionError as exc:
        raise MalformedNotification("the callback nests too deeply") from exc
    return require(fields, REQUIRED, "a QuickPay payment")


def body_checksum(body: bytes, private_key: str) -> str:
    return hmac.new(private_key.encode(), body, hashlib.sha256).hexdigest()


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    received = header(inbound.headers, CHECKSUM_HEADER).strip().lower()
    expected = body_checksum(inbound.body, account["PRIVATE_KEY"])
    return verdict(bool(received) and same_digest(expected, received.encode("utf-8")))


def last_operation(fields: Mapping[str, str]) -> dict[str, str]:
    """The last entry of ``operations``, by its flattened names (empty if none)."""
    indexes = {int(m[1]) for name in fields if (m := _OPERATION.match(name))}
    if not indexes:
        return {}
    prefix = f"operations[{max(indexes)}]["
    return {
        name[len(prefix) : -1]: value
        for name, value in fields.items()
        if name.startswith(prefix) and name.endswith("]")
    }


def status_of(accepted: bool, operation: Mapping[str, str]) -> Status:
    kind, code = operation.get("type", ""), operation.get("qp_status_code", "")
    if not operation or operation.get("pending") == "true" or code in WAITING:
        return Status.PENDING
    if code == APPROVED:
        if kind in PAYING_OPERATIONS:
            return Status.PAID if accepted else Status.UNKNOWN
        return {"refund": Status.REFUNDED, "cancel": Status.CANCELLED}.get(kind, Status.UNKNOWN)
    if code[:1] in ("4", "5") and kind in ("authorize", "recurring"):
        return Status.FAILED
    return Status.UNKNOWN


def _amount(text: str, currency: str) -> Decimal | None:
    units = parse_amount(text, "amount")
    if units is None:
        return None
    if not text.strip().isdigit():
        raise MalformedNotification("amount is not a whole number of minor units")
    return units.scaleb(-exponent(currency))


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    operation = last_operation(fields)
    currency = limited(fields["currency"], "currency", 3)
    if operation:
        kind = limited(operation.get("type", ""), "type", 32)
        gateway_status = f"{kind}:{limited(operation.get('qp_status_code', ''), 'code', 16)}"
    else:
        gateway_status = limited(fields.get("state", ""), "state", 32)
    return Notification(
        integration=integration,
        reference=limited(reference_of(fields["order_id"]), "order_id"),
        transaction_id=limited(fields["id"], "id"),
        amount=_amount(operation.get("amount", ""), currency),
        currency=currency,
        status=status_of(fields["accepted"] == "true", operation),
        gateway_status=gateway_status,
        test=fields.get("test_mode") == "true",
        raw=dict(fields),
        receiver=fields["merchant_id"],
    )


reply = empty_reply
