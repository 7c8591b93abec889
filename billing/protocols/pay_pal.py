"""PayPal Payments Standard (Website Payments Standard) with IPN and PDT.

Implements PayPal's "HTML Variables for PayPal Payments Standard", the
"IPN Integration Guide" (listener request-response flow: the listener answers
an empty HTTP 200, then posts ``cmd=_notify-validate&`` followed by the
unchanged message to ``ipnpb.paypal.com``) and "Payment Data Transfer"
(``cmd=_notify-synch``), as documented on developer.paypal.com (NVP/SOAP
legacy section, checked 2026-11).

The charsets are those of PayPal's Help Center answer "What is the charset variable in
my PayPal button code, and what character sets are supported?" (as republished by PayPal
Japan's merchant support, qiita.com/PayPal_MTS, 2017), less the ones whose bytes for
ASCII text are not ASCII (UTF-7, UTF-16/32, EBCDIC), the stateful escape codes
(ISO-2022-*, HZ) and EUC-TW, which Python cannot decode: an IPN is form-encoded ASCII
names and values, which those cannot carry faithfully.
"""

import re
from collections.abc import Mapping
from decimal import Decimal

import httpx

from ..exceptions import InvalidData, MalformedNotification, VerificationUnavailable
from ..money import format_amount, to_decimal, within_minor_unit
from . import postback
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    find_raw_field,
    limited,
    parse_amount,
    parse_form_body,
    refuse_floats,
)

SPEC = "PayPal Payments Standard: HTML Variables, IPN Integration Guide, PDT (checked 2026-11)"

LIVE_SERVICE_URL = "https://www.paypal.com/cgi-bin/webscr"
SANDBOX_SERVICE_URL = "https://www.sandbox.paypal.com/cgi-bin/webscr"
LIVE_POSTBACK_URL = "https://ipnpb.paypal.com/cgi-bin/webscr"
SANDBOX_POSTBACK_URL = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"
USER_AGENT = "django-billing IPN verifier"

# payment_status -> state. Only Completed is money received; Canceled_Reversal gives
# back funds taken by a reversal: reinstated, which only ever follows a reversal.
STATUS_MAP: Mapping[str, Status] = {
    "Completed": Status.PAID,
    "Canceled_Reversal": Status.REINSTATED,
    "Pending": Status.PENDING,
    "Created": Status.PENDING,
    "Processed": Status.PENDING,
    "Denied": Status.FAILED,
    "Failed": Status.FAILED,
    "Expired": Status.FAILED,
    "Voided": Status.CANCELLED,
    "Refunded": Status.REFUNDED,
    "Reversed": Status.REVERSED,
}

# The IPN's charset (lower case) -> Python codec; anything else is refused.
DEFAULT_CHARSET = "windows-1252"
CHARSETS: Mapping[str, str] = {
    "big5": "big5",
    "euc-jp": "euc_jp",
    "euc-kr": "euc_kr",
    "gb2312": "gb2312",
    "gbk": "gbk",
    "ibm-862": "cp862",
    "iso-8859-1": "iso8859_1",
    "iso-8859-2": "iso8859_2",
    "iso-8859-3": "iso8859_3",
    "iso-8859-4": "iso8859_4",
    "iso-8859-5": "iso8859_5",
    "iso-8859-6": "iso8859_6",
    "iso-8859-7": "iso8859_7",
    "iso-8859-8": "iso8859_8",
    "iso-8859-9": "iso8859_9",
    "iso-8859-13": "iso8859_13",
    "iso-8859-15": "iso8859_15",
    "koi8-r": "koi8_r",
    "shift_jis": "shift_jis",
    "us-ascii": "ascii",
    "utf-8": "utf_8",
    "windows-874": "cp874",
    "windows-949": "cp949",
    "windows-1250": "cp1250",
    "windows-1251": "cp1251",
    "windows-1252": "cp1252",
    "windows-1253": "cp1253",
    "windows-1254": "cp1254",
    "windows-1255": "cp1255",
    "windows-1256": "cp1256",
    "windows-1257": "cp1257",
    "windows-1258": "cp1258",
    "x-mac-centraleurroman": "mac_latin2",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-greek": "mac_greek",
    "x-mac-turkish": "mac_turkish",
}

_PDT_LINE = re.compile(rb"[^=&\s]+=[^&]*")
_MONEY_EXTRAS = ("tax", "shipping", "handling")
_CART_EXTRAS = ("tax_cart", "handling_cart")


def build_fields(fields: Mapping[str, object], *, receiver_email: str) -> dict[str, str]:
    """The final form: the shop's fields plus the account and defaults PayPal needs."""
    refuse_floats(fields, "money is Decimal or str, never float")
    final = {k: str(v) for k, v in fields.items() if v is not None}
    is_cart = "item_name_1" in final or "amount_1" in final
    final.setdefault("cmd", "_cart" if is_cart else "_xclick")
    if final["cmd"] == "_cart":
        final.setdefault("upload", "1")
    final["business"] = receiver_email
    final.setdefault("charset", "utf-8")
    final.setdefault("currency_code", "USD")
    final.setdefault("no_shipping", "1")
    return final


def expected_total(fields: Mapping[str, str]) -> Decimal:
    """What PayPal will report as mc_gross for this form (items, quantities, tax, shipping)."""
    currency = fields.get("currency_code", "USD")

    def money(name: str) -> Decimal:
        if fields.get(name, "") == "":
            return Decimal(0)
        return within_minor_unit(to_decimal(fields[name]), currency)  # PayPal would round

    def quantity(name: str) -> Decimal:
        value = fields.get(name, "") or "1"
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise InvalidData(f"{name} must be a positive whole number")
        return Decimal(value)

    if fields.get("cmd") == "_cart":
        total = Decimal(0)
        n = 1
        while f"amount_{n}" in fields:
            total += money(f"amount_{n}") * quantity(f"quantity_{n}")
            total += money(f"shipping_{n}") + money(f"tax_{n}") + money(f"handling_{n}")
            n += 1
        if n == 1:
            raise InvalidData("a cart upload needs amount_1")
        total += sum((money(name) for name in _CART_EXTRAS), Decimal(0))
        total -= money("discount_amount_cart")
    else:
        if not fields.get("amount"):
            raise InvalidData("PayPal needs an amount")
        total = money("amount") * quantity("quantity")
        total += sum((money(name) for name in _MONEY_EXTRAS), Decimal(0))
    if total <= 0:
        raise InvalidData("the total must be positive")
    return to_decimal(format_amount(total, currency))


def parse_ipn(body: bytes) -> dict[str, str]:
    """Decode an IPN body in the charset it names (PayPal often sends windows-1252).

    Bytes invalid in that charset become U+FFFD rather than a 400: PayPal would resend
    the same bytes forever, and the postback verifies the bytes, not this decoding.
    """
    if not body.strip():
        raise MalformedNotification("empty body")
    declared = (find_raw_field(body, b"charset") or b"").strip()
    name = declared.decode("ascii", errors="replace").lower() or DEFAULT_CHARSET
    codec = CHARSETS.get(name)
    if codec is None:
        raise MalformedNotification(f"charset {name[:40]!r} is not one PayPal sends")
    return parse_form_body(body, codec, errors="replace")


def verify_ipn(body: bytes, *, postback_url: str, client: httpx.Client) -> Verification:
    """Ask PayPal whether it sent this exact body. Network trouble is UNKNOWN, never VALID."""
    return postback.confirm(
        client,
        postback_url,
        b"cmd=_notify-validate&" + body,
        {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
        valid="VERIFIED",
        invalid="INVALID",
        what="PayPal postback",
    )


def fetch_pdt(
    transaction_id: str, *, identity_token: str, postback_url: str, client: httpx.Client
) -> bytes | None:
    """Payment Data Transfer: PayPal's record of a transaction as a form body, None on FAIL."""
    try:
        reply = client.post(
            postback_url,
            data={"cmd": "_notify-synch", "tx": transaction_id, "at": identity_token},
            headers={"User-Agent": USER_AGENT},
        )
    except httpx.HTTPError as exc:
        raise VerificationUnavailable(f"PayPal PDT failed: {type(exc).__name__}") from exc
    if reply.status_code != 200:
        raise VerificationUnavailable(f"PayPal PDT answered HTTP {reply.status_code}")
    first, _, rest = reply.content.partition(b"\n")
    if first.strip() != b"SUCCESS":
        return None
    # One form-encoded name=value per line; anything else (a blank or stray line) is
    # left out rather than failing the whole record.
    lines = (line.strip() for line in rest.split(b"\n"))
    return b"&".join(line for line in lines if _PDT_LINE.fullmatch(line))


def to_notification(fields: Mapping[str, str], *, integration: str) -> Notification:
    gateway_status = limited(fields.get("payment_status", ""), "payment_status", 32)
    return Notification(
        integration=integration,
        reference=limited(fields.get("invoice", ""), "invoice"),
        transaction_id=limited(fields.get("txn_id", ""), "txn_id"),
        # Negative for refunds and reversals.
        amount=parse_amount(fields.get("mc_gross", ""), "mc_gross", signed=True),
        currency=fields.get("mc_currency", ""),
        status=STATUS_MAP.get(gateway_status, Status.UNKNOWN),
        gateway_status=gateway_status,
        test=fields.get("test_ipn", "") == "1",
        raw=dict(fields),
        receiver=fields.get("receiver_email") or fields.get("business", ""),
    )


# -- the GatewayProtocol verbs ----------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    final = build_fields(fields, receiver_email=account["RECEIVER_EMAIL"])
    if account.get("PDT_TOKEN"):
        final.setdefault("rm", "2")
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    return PaymentTerms(
        reference=form["invoice"],
        amount=expected_total(form),
        currency=form["currency_code"].upper(),
        receiver=account["RECEIVER_EMAIL"],
    )


def read(inbound: Inbound) -> dict[str, str]:
    return parse_ipn(inbound.body)


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    if inbound.kind == "pdt":
        # PayPal's own answer to our PDT request over TLS: authentic by construction.
        return Verification.VALID
    if account.client is None:
        raise VerificationUnavailable("no HTTP client to ask PayPal with")
    # The endpoint follows the shop's mode, never the posted test_ipn.
    return verify_ipn(
        inbound.body, postback_url=account.endpoint("POSTBACK_URL"), client=account.client
    )


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    return to_notification(fields, integration=integration)


reply = empty_reply
