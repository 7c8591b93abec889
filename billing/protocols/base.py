"""Types and helpers shared by every protocol module."""

import enum
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

import httpx

from ..exceptions import InvalidData, MalformedNotification
from ..money import exact_amount, format_amount, to_decimal


class Verification(enum.StrEnum):
    PENDING = "pending"  # not yet asked
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"  # the gateway could not be asked; retried, never trusted


class Status(enum.StrEnum):
    """Payment states; a notification carries the state it asks the payment to move to."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    REVERSED = "reversed"
    # A reversal the gateway took back (PayPal's Canceled_Reversal): paid again, but only
    # ever after a reversal, never from pending.
    REINSTATED = "reinstated"
    REVIEW = "review"  # held: authentic but not matching what the shop asked for
    UNKNOWN = "unknown"  # a gateway status this library does not map


@dataclass(frozen=True)
class PaymentTerms:
    """What the shop asks for; every notification is bound against these."""

    reference: str
    amount: Decimal
    currency: str
    receiver: str


@dataclass(frozen=True)
class Notification:
    """What an authentic gateway message says, in the library's vocabulary."""

    integration: str
    reference: str
    transaction_id: str
    amount: Decimal | None
    currency: str
    status: Status
    gateway_status: str
    test: bool
    raw: Mapping[str, str] = field(repr=False)
    receiver: str = ""

    @property
    def event_key(self) -> str:
        """Identifies one gateway event: a repeat of it must not be applied twice."""
        return f"{self.transaction_id}:{self.gateway_status}"


@dataclass(frozen=True)
class Inbound:
    """One request from the gateway as it was stored: what a protocol reads and verifies.

    ``body`` is the stored body; for a gateway that signs fields, a multipart/form-data
    body arrives here already rewritten as the same application/x-www-form-urlencoded
    pairs.
    """

    body: bytes
    content_type: str = "application/x-www-form-urlencoded"
    method: str = "POST"
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    kind: str = "notify"  # "notify", or a return the gateway signs ("return", "pdt", ...)
    remote_addr: str = ""  # the sender's address, as capture recorded it
    # When billing received it (Unix seconds), never the sender's word: a timestamped
    # signature is judged by when it came, however much later it is verified again.
    received_at: float | None = None


@dataclass(frozen=True)
class Account:
    """The shop's account at the gateway, as one request sees it.

    ``settings`` is the integration's MERCHANT_SETTINGS entry; ``endpoint`` resolves a
    gateway URL (settings override, sandbox, live or test); ``client`` is the HTTP client
    for gateways that are asked whether a notification is theirs.
    """

    settings: Mapping[str, Any]
    test: bool
    endpoint: Callable[[str], str] = field(repr=False)
    client: httpx.Client | None = field(default=None, repr=False)
    # The shop's own secret and its fallbacks (Django's SECRET_KEY, for rotation): keys
    # of digests billing stores in place of a secret the gateway sends in the body.
    shop_keys: tuple[bytes, ...] = field(default=(), repr=False)

    def __getitem__(self, key: str) -> str:
        return str(self.settings[key])

    def get(self, key: str, default: str = "") -> str:
        value = self.settings.get(key)
        return default if value is None or value == "" else str(value)


@dataclass(frozen=True)
class Reply:
    """What the shop answers the gateway once a notification is stored."""

    content: bytes = b""
    status: int = 200
    content_type: str = "text/plain"


class GatewayProtocol(Protocol):
    """What every gateway module (``billing.protocols.<slug>``) provides, with these verbs
    and types. mypy checks each module against it where an integration names it."""

    SPEC: str  # the document and version implemented

    def form(self, fields: Mapping[str, object], account: Account) -> dict[str, str]:
        """The final form: the shop's fields plus account fields and signatures."""
        ...

    def terms(self, form: Mapping[str, str], account: Account) -> PaymentTerms:
        """What the final form asks for."""
        ...

    def read(self, inbound: Inbound) -> dict[str, str]:
        """The notification's fields; raise MalformedNotification when it has none."""
        ...

    def verify(self, fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
        """Authenticity; raise VerificationUnavailable when the gateway cannot be asked."""
        ...

    def notification(
        self, fields: Mapping[str, str], account: Account, integration: str
    ) -> Notification:
        """The fields in the library's words (only trusted once verify says VALID)."""
        ...

    def reply(self, fields: Mapping[str, str], account: Account) -> Reply:
        """The answer the gateway expects."""
        ...


def parse_form_body(body: bytes, charset: str = "utf-8", errors: str = "strict") -> dict[str, str]:
    """Decode an application/x-www-form-urlencoded body in the given charset.

    Percent-escapes are decoded to bytes first and then to text, so a body
    sent in windows-1252 keeps its exact characters. A repeated name keeps its
    first value. Raises MalformedNotification on anything undecodable; with
    ``errors="replace"``, bytes invalid in the charset become U+FFFD instead.
    """
    try:
        "".encode(charset)
    except (LookupError, ValueError) as exc:  # ValueError: "undefined" codec, NUL in the name
        raise MalformedNotification(f"unknown charset {charset!r}") from exc
    fields: dict[str, str] = {}
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, sep, value = pair.partition(b"=")
        if not sep:
            raise MalformedNotification("body is not application/x-www-form-urlencoded")
        try:
            key = unquote_to_bytes(name.replace(b"+", b" ")).decode(charset, errors)
            text = unquote_to_bytes(value.replace(b"+", b" ")).decode(charset, errors)
        except UnicodeError as exc:  # idna and punycode raise UnicodeError, not ...DecodeError
            raise MalformedNotification(f"body is not valid {charset}") from exc
        if not key:
            raise MalformedNotification("a field without a name")
        fields.setdefault(key, text)
    return fields


def parse_utf8_or_latin1(body: bytes) -> dict[str, str]:
    """A form body in UTF-8, or ISO-8859-1 from accounts still set to it.

    ISO-8859-1 decodes any byte, so a body that is not form-encoded at all still fails.
    """
    try:
        return parse_form_body(body, "utf-8")
    except MalformedNotification:
        return parse_form_body(body, "iso-8859-1")


def find_raw_field(body: bytes, name: bytes) -> bytes | None:
    """The undecoded value of one field, e.g. to learn the charset before decoding."""
    for pair in body.split(b"&"):
        key, sep, value = pair.partition(b"=")
        if sep and key == name:
            return unquote_to_bytes(value.replace(b"+", b" "))
    return None


# Plain digits with an optional fraction: what gateways send. Decimal would also take
# exponents (1e999999), NaN, Infinity, "1_000" and non-ASCII digits.
_AMOUNT = re.compile(r"(-?)[0-9]{1,15}(?:\.[0-9]{1,8})?")


def parse_amount(text: str, field: str, *, signed: bool = False) -> Decimal | None:
    """A notification's amount as Decimal, None when absent; MalformedNotification if it
    is not a plain number, or is negative where the gateway never sends one."""
    text = text.strip()
    if not text:
        return None
    match = _AMOUNT.fullmatch(text)
    if match is None or (match[1] and not signed):
        raise MalformedNotification(f"{field} is not an amount")
    return Decimal(text)


def flat_fields(value: Any, prefix: str = "", *, max_depth: int = 16) -> dict[str, str]:
    """A parsed JSON document as string fields with dotted names (``data.object.id``,
    ``items.0.amount``): how a JSON notification is kept in ``Notification.raw`` and read.
    null is "", booleans are "true"/"false"; deeper than ``max_depth`` is malformed."""
    fields: dict[str, str] = {}

    def walk(value: Any, name: str, depth: int) -> None:
        if depth > max_depth:
            raise MalformedNotification("the JSON is nested too deeply")
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                walk(item, f"{name}.{key}" if name else str(key), depth + 1)
        elif value is None:
            fields[name] = ""
        elif isinstance(value, bool):
            fields[name] = "true" if value else "false"
        else:
            fields[name] = str(value)

    walk(value, prefix, 0)
    return fields


def limited(text: str, field: str, size: int = 127) -> str:
    """A reference, id or status as the ledger can store it: no gateway sends one longer
    than ``size`` or with NUL (which PostgreSQL text refuses); such a value is malformed."""
    if len(text) > size:
        raise MalformedNotification(f"{field} is longer than {size} characters")
    if "\x00" in text:
        raise MalformedNotification(f"{field} contains NUL")
    if not is_text(text):
        raise MalformedNotification(f"{field} is not text (a lone surrogate)")
    return text


def is_text(value: object) -> bool:
    """Whether a decoded value (a string, or parsed JSON) is all real text. JSON's
    ``"\\ud800"`` escape parses into a lone surrogate, a str that no encoder takes and no
    database column holds: such a body is malformed, however it is signed."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def require(fields: dict[str, str], names: Iterable[str], what: str) -> dict[str, str]:
    """The fields, when none of ``names`` is missing or empty; else MalformedNotification
    ("not <what>: no A, B"), naming every one that is."""
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise MalformedNotification(f"not {what}: no {', '.join(missing)}")
    return fields


def refuse_floats(fields: Mapping[str, object], message: str) -> None:
    """InvalidData naming every float among the shop's fields: money is never float."""
    floats = sorted(k for k, v in fields.items() if isinstance(v, float))
    if floats:
        raise InvalidData(f"{', '.join(floats)}: {message}")


def verdict(valid: bool) -> Verification:
    return Verification.VALID if valid else Verification.INVALID


def same_digest(expected: str, received: bytes) -> bool:
    """A received digest against the expected one, in constant time. Bytes, encoded by
    the caller: compare_digest refuses str with non-ASCII (a garbled signature)."""
    return hmac.compare_digest(expected.encode("ascii"), received)


def header(headers: Mapping[str, str], name: str) -> str:
    """A request header by name, in whatever case it was stored."""
    wanted = name.lower()
    return next((str(value) for key, value in headers.items() if key.lower() == wanted), "")


def agreed(fields: Mapping[str, str], names: Iterable[str], disagree: str) -> str:
    """The one value billing put under each of ``names`` (a reference it sent more than
    once), "" when none; MalformedNotification(disagree) when they differ."""
    found = {fields[name] for name in names if fields.get(name)}
    if len(found) > 1:
        raise MalformedNotification(disagree)
    return limited(found.pop() if found else "", "reference")


def grouped_amount(text: str, grouped: re.Pattern[str], field: str) -> Decimal | None:
    """An amount sent plain or with thousands commas (``1,278.99``, when ``grouped``
    matches it), as parse_amount reads it."""
    text = text.strip()
    if "," in text:
        if not grouped.fullmatch(text):
            raise MalformedNotification(f"{field} is not an amount")
        text = text.replace(",", "")
    return parse_amount(text, field)


def payable(value: object, currency: str) -> str:
    """The shop's amount in major units as a form carries it ("10.00"), refused unless a
    customer can pay exactly that (never a float, never rounded)."""
    return format_amount(exact_amount(to_decimal(value), currency), currency)


def marked_test(marker: str, markers: tuple[str, str], default: bool) -> bool:
    """Whether a notification is a test, by the (signed) mode marker billing put in the
    form: ``markers`` is (test, live); any other value leaves the shop's own mode."""
    test, live = markers
    return marker == test if marker in (test, live) else default


def to_minor_units(amount: Decimal, places: int, refusal: str) -> int:
    """An amount in the currency's minor units; InvalidData(refusal) when it is finer."""
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise InvalidData(refusal)
    return int(minor)


def from_minor_units(value: str, places: int, field: str) -> Decimal:
    """A whole number of minor units, as a gateway sends it (ASCII digits, at most 15)."""
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise MalformedNotification(f"{field} is not an amount in minor units")
    return Decimal(int(value)).scaleb(-places)


def empty_reply(fields: Mapping[str, str], account: Account) -> Reply:
    """200 with an empty body: for gateways that only want the notification taken."""
    return Reply()
