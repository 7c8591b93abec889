"""PayFast Custom Integration: the checkout form and the ITN (Instant Transaction Notification).

Implements PayFast's developer documentation, "Custom integration" (developers.payfast.co.za
/docs: Step 1 "Create your checkout form", Step 2 "Security signature", Step 4 "Confirm
payment" with its four security checks and "Ports and IP addresses"), checked 2026-12,
and the ITN handling of PayFast's own PHP SDK (github.com/Payfast/payfast-php-sdk,
``Notification.php``), whose test vector is a known answer in tests/test_pay_fast.py.

- The form's ``signature`` is lower-case hex MD5 of the non-blank fields (trimmed) in the
  order of the documented attribute table, as ``name=urlencode(value)`` joined by ``&``,
  then ``&passphrase=urlencode(passphrase)``. ``urlencode`` is PHP's: space is ``+``,
  every byte but ``A-Za-z0-9-_.`` is ``%XX`` in upper case. Today's table lists
  ``custom_int1..5`` before ``custom_str1..5`` (older pages had them the other way).
- The ITN's ``signature`` is the same MD5 over every received pair, in the order
  received, empty values included, ``signature`` left out, plus the passphrase. Pairs
  after ``signature`` are signed too (PayFast's sample stops at it; PayFast sends it
  last, so anything after it is not PayFast's and must fail).
- Then the ITN is confirmed by POSTing that same string, without the passphrase, to the
  validate URL (``/eng/query/validate``) of the shop's own mode; PayFast answers
  ``VALID`` or ``INVALID``. In live mode only, the sender must also be one of PayFast's
  published addresses (``ALLOWED_IPS`` replaces the list).
- ``amount_gross`` is what the customer paid (``amount_fee`` is negative and
  ``amount_net`` what the merchant receives): the payment is bound to ``amount_gross``.
  PayFast takes only ZAR, and the ITN names no currency: it is always ZAR.
- ``payment_status``: ``COMPLETE`` is paid. The documentation lists ``COMPLETE`` and
  ``CANCELLED`` (a subscription); PayFast's own shop plugins also handle ``FAILED`` and
  ``PENDING``, so those are mapped too. Anything else changes no payment.
- Mode binding: the ITN carries no test flag. A test shop confirms at the sandbox and a
  live shop at www.payfast.co.za, whatever the ITN says, and a live shop also checks the
  sender's address: a sandbox ITN is unknown to live PayFast, and sandbox merchant
  accounts and passphrases are not live ones. The notification's mode is the shop's.
- PayFast expects HTTP 200; the body is ignored.
"""

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus, unquote_to_bytes

import httpx

from ..exceptions import (
    IntegrationNotConfigured,
    InvalidData,
    VerificationUnavailable,
)
from . import postback
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
)

SPEC = "PayFast Custom Integration with ITN (developers.payfast.co.za/docs, checked 2026-12)"
LIVE_SERVICE_URL = "https://www.payfast.co.za/eng/process"
SANDBOX_SERVICE_URL = "https://sandbox.payfast.co.za/eng/process"
LIVE_VALIDATE_URL = "https://www.payfast.co.za/eng/query/validate"
SANDBOX_VALIDATE_URL = "https://sandbox.payfast.co.za/eng/query/validate"
CURRENCY = "ZAR"
# "Ports and IP addresses": where ITNs come from (live and sandbox alike).
ALLOWED_IPS = (
    "197.97.145.144/28",
    "41.74.179.192/27",
    "102.216.36.0/28",
    "102.216.36.128/28",
    "144.126.193.139/32",
)
# The checkout form's attributes in the documented order, which the signature follows.
FORM_ORDER = (
    "merchant_id",
    "merchant_key",
    "return_url",
    "cancel_url",
    "notify_url",
    "name_first",
    "name_last",
    "email_address",
    "cell_number",
    "m_payment_id",
    "amount",
    "item_name",
    "item_description",
    *(f"custom_int{n}" for n in range(1, 6)),
    *(f"custom_str{n}" for n in range(1, 6)),
    "email_confirmation",
    "confirmation_address",
    "payment_method",
)
STATUS_MAP = {
    "COMPLETE": Status.PAID,
    "PENDING": Status.PENDING,
    "FAILED": Status.FAILED,
    "CANCELLED": Status.CANCELLED,
}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ITN_FIELDS = ("m_payment_id", "pf_payment_id", "payment_status", "amount_gross", "merchant_id")


def urlencode(value: str | bytes) -> str:
    """PHP's urlencode, which PayFast signs with: ``~`` is escaped, space is ``+``."""
    return quote_plus(value, safe="").replace("~", "%7E")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()


def _with_passphrase(text: str, passphrase: str) -> str:
    return f"{text}&passphrase={urlencode(passphrase.strip())}" if passphrase.strip() else text


def form_signature(fields: Mapping[str, str], passphrase: str) -> str:
    pairs = [(name, fields.get(name, "").strip()) for name in FORM_ORDER]
    text = "&".join(f"{name}={urlencode(value)}" for name, value in pairs if value)
    return _md5(_with_passphrase(text, passphrase))


def param_string(body: bytes) -> str:
    """The received pairs, in order, re-encoded as PayFast signs them, less ``signature``."""
    pairs = []
    for pair in body.split(b"&"):
        name, sep, value = pair.partition(b"=")
        if not sep or name == b"signature":
            continue
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        pairs.append(
            f"{urlencode(raw_name)}={urlencode(unquote_to_bytes(value.replace(b'+', b' ')))}"
        )
    return "&".join(pairs)


def itn_signature(body: bytes, passphrase: str) -> str:
    return _md5(_with_passphrase(param_string(body), passphrase))


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    refuse_floats(fields, "amounts are Decimal or str, never float")
    given = {k: str(v).strip() for k, v in fields.items() if v is not None}
    unknown = sorted(set(given) - set(FORM_ORDER) - {"signature"})
    if unknown:
        raise InvalidData(f"PayFast signs no field named {', '.join(unknown)}")
    if not given.get("m_payment_id"):
        raise InvalidData("PayFast needs m_payment_id (the shop's order reference)")
    given.update(merchant_id=account["MERCHANT_ID"], merchant_key=account["MERCHANT_KEY"])
    given["amount"] = payable(given.get("amount", ""), CURRENCY)
    if not given.get("item_name"):
        given["item_name"] = f"Order {given['m_payment_id']}"
    final = {name: given[name] for name in FORM_ORDER if given.get(name)}
    final["signature"] = form_signature(final, account["PASSPHRASE"])
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    return PaymentTerms(
        form["m_payment_id"], Decimal(form["amount"]), CURRENCY, receiver=account["MERCHANT_ID"]
    )


def read(inbound: Inbound) -> dict[str, str]:
    return require(parse_utf8_or_latin1(inbound.body), (*ITN_FIELDS, "signature"), "a PayFast ITN")


def allowed_networks(setting: Any) -> list[Network]:
    """ALLOWED_IPS: a list (or comma-separated string) of addresses and networks; unset
    (or empty), PayFast's published ones. It cannot switch the check off."""
    if not setting:
        listed: Iterable[str] = ALLOWED_IPS
    elif isinstance(setting, str):
        listed = [part.strip() for part in setting.split(",") if part.strip()]
    else:
        listed = [str(part).strip() for part in setting]
    try:
        return [ipaddress.ip_network(entry, strict=False) for entry in listed]
    except (TypeError, ValueError) as exc:
        raise IntegrationNotConfigured(f"PayFast ALLOWED_IPS: {exc}") from exc


def sent_by_payfast(remote_addr: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def confirm(text: str, *, validate_url: str, client: httpx.Client | None) -> Verification:
    """Ask PayFast whether it sent these pairs. Network trouble is UNKNOWN, never VALID."""
    if client is None:
        raise VerificationUnavailable("no HTTP client to ask PayFast with")
    return postback.confirm(
        client,
        validate_url,
        text.encode("ascii"),
        {"Content-Type": "application/x-www-form-urlencoded"},
        valid="VALID",
        invalid="INVALID",
        what="PayFast validation",
    )


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    expected = itn_signature(inbound.body, account["PASSPHRASE"])
    received = fields.get("signature", "").strip().lower()
    if not same_digest(expected, received.encode("utf-8", "replace")):
        return Verification.INVALID
    if not account.test:
        networks = allowed_networks(account.settings.get("ALLOWED_IPS"))
        if not sent_by_payfast(inbound.remote_addr, networks):
            return Verification.INVALID
    # The shop's own mode picks the validate URL, never anything in the ITN.
    text = param_string(inbound.body)
    return confirm(text, validate_url=account.endpoint("VALIDATE_URL"), client=account.client)


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    status = limited(fields["payment_status"], "payment_status", 32)
    return Notification(
        integration=integration,
        reference=limited(fields["m_payment_id"], "m_payment_id"),
        transaction_id=limited(fields["pf_payment_id"], "pf_payment_id"),
        amount=parse_amount(fields["amount_gross"], "amount_gross"),
        currency=CURRENCY,
        status=STATUS_MAP.get(status, Status.UNKNOWN),
        gateway_status=status,
        test=account.test,
        raw=dict(fields),
        receiver=fields["merchant_id"],
    )


reply = empty_reply
