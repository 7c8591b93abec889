"""Opayo Form (Elavon; formerly Sage Pay Form): an encrypted form out, an encrypted return.

Implements Elavon's "Opayo Forms" API reference (developer-eu.elavon.com/docs/opayo-forms:
"Form fields", "Crypt field", "Transaction Completion" and "Status field"; VPSProtocol
4.00, as published in 2026) and the "Sage Pay Form Integration and Protocol Guidelines
3.00" (27/08/2015), whose example (A1.2, password ``55a51621a6648525``) is a vector in
tests/test_opayo_form.py, as is a real test-server return published with omnipay-sagepay.

- The form posts four fields to ``vspform-register.vsp``: ``VPSProtocol`` (4.00; 3.00 with
  the ``VPS_PROTOCOL`` setting), ``TxType=PAYMENT``, ``Vendor`` and ``Crypt``.
- ``Crypt`` = ``@`` + upper-case hex of AES-128-CBC, key = IV = the 16-byte encryption
  password, PKCS#7 padding, over ``Name=Value`` pairs joined by ``&``. The plaintext has
  no escaping: a value cannot hold ``&`` (refused), except ``SuccessURL`` and
  ``FailureURL``, which the document lets carry query parameters (they go last).
- Opayo sends nothing server to server. The browser comes back to ``SuccessURL`` (status
  OK) or ``FailureURL`` with ``?crypt=@HEX``, encrypted the same way: that return is the
  notification. Both URLs point at billing's return page, which processes the crypt.

Where the document is silent, or where CBC (which has no MAC) needs care:

- Authenticity is decryption with the shop's password, checked strictly: the padding,
  printable ASCII only, ``Name=Value`` pairs with unique names, and the exact shapes of
  ``VendorTxCode``, ``VPSTxId`` (a GUID), ``Status`` and ``Amount``. Any change to the
  ciphertext (a flipped bit to change the amount, spliced or dropped blocks, another
  key) turns at least one 16-byte block into noise, which passes those checks with odds
  below 1 in 10**7 per attempt; the first block cannot be changed cleanly at all, since
  the IV is the key.
- ``VendorTxCode`` must be unique per attempt at Opayo, and its return names neither the
  currency nor the mode (test or live). The shop's reference gets a suffix that binds
  both: ``ORDER-1{TEUR4F9A2C}`` = reference ``{``, ``T`` (test) or ``L`` (live), the
  currency, six random hex digits, ``}``. Opayo echoes it inside its own encryption, so
  a test return replayed on a live shop says ``T`` and is never paid, and a return for
  an attempt in another currency says so. References are therefore 1-28 characters of
  letters, digits, ``-``, ``.``, ``_``.
- A ``VendorTxCode`` without the suffix (written by other software on the same vendor
  account) is taken as the reference, in the shop's mode and the ``CURRENCY`` setting's
  currency (default GBP).
- ``Amount`` may carry thousands commas (``1,231.47``). ``Status`` OK is paid,
  NOTAUTHED and REJECTED failed, ABORT cancelled, PENDING pending; anything else
  (MALFORMED, INVALID, ERROR, ...) changes nothing. The transaction id is ``VPSTxId``,
  else ``VendorTxCode``.
- The return does not name the vendor: only its password proves the account.
- Shop fields that are not Opayo crypt fields are left out of the crypt. The plaintext is
  UTF-8 (the 4.00 reference names no character set).
"""

import re
import secrets
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData, MalformedNotification
from ..money import exact_amount, format_amount, to_decimal
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    grouped_amount,
    limited,
    parse_utf8_or_latin1,
)

try:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError:  # pragma: no cover - cryptography is installed with billing's extras
    Cipher = None  # type: ignore[assignment,misc]

SPEC = "Opayo Forms API reference, VPSProtocol 4.00 (Elavon, 2026); Sage Pay Form 3.00"
LIVE_SERVICE_URL = "https://live.opayo.eu.elavon.com/gateway/service/vspform-register.vsp"
TEST_SERVICE_URL = "https://sandbox.opayo.eu.elavon.com/gateway/service/vspform-register.vsp"
PROTOCOLS = ("4.00", "3.00")
STATUS_MAP = {
    "OK": Status.PAID,
    "NOTAUTHED": Status.FAILED,
    "REJECTED": Status.FAILED,
    "ABORT": Status.CANCELLED,
    "PENDING": Status.PENDING,
}
DEFAULT_CURRENCY = "GBP"
MAX_AMOUNT = Decimal("100000.00")
URL_FIELDS = ("SuccessURL", "FailureURL")
# The crypt fields of the 3.00 guide and the 4.00 reference that a shop may add.
CRYPT_FIELDS = (
    *"""VendorTxCode Amount Currency Description CustomerName CustomerEMail VendorEMail
    SendEMail EmailMessage BillingSurname BillingFirstnames BillingAddress1 BillingAddress2
    BillingAddress3 BillingCity BillingPostCode BillingCountry BillingState BillingPhone
    DeliverySurname DeliveryFirstnames DeliveryAddress1 DeliveryAddress2 DeliveryAddress3
    DeliveryCity DeliveryPostCode DeliveryCountry DeliveryState DeliveryPhone Basket
    BasketXML AllowGiftAid ApplyAVSCV2 Apply3DSecure BillingAgreement ReferrerID
    CustomerXML SurchargeXML VendorData Language Website FIRecipientAcctNumber
    FIRecipientSurname FIRecipientPostcode FIRecipientDoB COFUsage InitiatedType MITType
    """.split(),
    *URL_FIELDS,
)
_REFERENCE = re.compile(r"[A-Za-z0-9._-]{1,28}")
_VENDOR_TX_CODE = re.compile(r"[A-Za-z0-9{}._-]{1,40}")
_MARKED = re.compile(r"(?P<ref>[A-Za-z0-9._-]{1,28})\{(?P<mode>[TL])(?P<cur>[A-Z]{3})[0-9A-F]{6}\}")
_CRYPT = re.compile(r"@(?:[0-9A-Fa-f]{32}){1,1024}")
_NAME = re.compile(r"[A-Za-z0-9]{1,40}")
_PRINTABLE = re.compile(r"[ -~]*")
_GUID = re.compile(r"\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}")
_STATUS = re.compile(r"[A-Z0-9]{2,15}")
_RETURNED_AMOUNT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")
_DIGITS = re.compile(r"[0-9]{1,20}")


# -- the cipher ---------------------------------------------------------------------------


def password_key(password: object) -> bytes:
    """The AES-128 key (and IV): the encryption password's 16 bytes."""
    if Cipher is None:
        raise InvalidData("Opayo Form needs the cryptography package (pip install cryptography)")
    key = str(password or "").encode("utf-8")
    if len(key) != 16:
        raise InvalidData("the Form encryption password is 16 characters (an AES-128 key)")
    return key


def encrypt(plaintext: str, password: str) -> str:
    key = password_key(password)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return "@" + (encryptor.update(data) + encryptor.finalize()).hex().upper()


def decrypt(crypt: str, password: str) -> bytes | None:
    """The plaintext, or None when it was not encrypted with this password (bad padding)."""
    if not _CRYPT.fullmatch(crypt):
        raise MalformedNotification("crypt is not @ and whole AES blocks of hex")
    key = password_key(password)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
    data = decryptor.update(bytes.fromhex(crypt[1:])) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(data) + unpadder.finalize()
    except ValueError:
        return None


def pairs(plaintext: str) -> dict[str, str]:
    """``Name=Value&...`` as Opayo writes it (no escaping); the first of a repeated name."""
    found: dict[str, str] = {}
    for pair in plaintext.split("&"):
        name, _, value = pair.partition("=")
        if name:
            found.setdefault(name, value)
    return found


def strict_pairs(plaintext: bytes) -> dict[str, str] | None:
    """The pairs of a plaintext Opayo could have written, else None (see the docstring)."""
    try:
        text = plaintext.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text or not _PRINTABLE.fullmatch(text):
        return None
    found: dict[str, str] = {}
    for pair in text.split("&"):
        name, sep, value = pair.partition("=")
        if not sep or not _NAME.fullmatch(name) or name in found:
            return None
        found[name] = value
    return found


# -- the form -----------------------------------------------------------------------------


def vendor_tx_code(reference: str, currency: str, test: bool) -> str:
    """The reference with this attempt's mode, currency and a nonce (see the docstring)."""
    if not _REFERENCE.fullmatch(reference):
        raise InvalidData(
            "Opayo Form needs a reference of 1-28 letters, digits, '-', '.' or '_' "
            f"(VendorTxCode, with billing's suffix, is at most 40): {reference!r}"
        )
    return f"{reference}{{{'T' if test else 'L'}{currency}{secrets.token_hex(3).upper()}}}"


def read_vendor_tx_code(code: str, account: Account) -> tuple[str, str, bool]:
    """The reference, currency and test mode a VendorTxCode says."""
    marked = _MARKED.fullmatch(code)
    if marked is None:
        return code, account.get("CURRENCY", DEFAULT_CURRENCY).upper(), account.test
    return marked["ref"], marked["cur"], marked["mode"] == "T"


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    """The outer fields and the crypt's plaintext fields, in order (``seal`` encrypts)."""
    given = {k: str(v) for k, v in fields.items() if v is not None}
    reference = given.get("VendorTxCode", "")
    currency = given.get("Currency", "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidData("Opayo Form needs Currency, an ISO 4217 code")
    amount = exact_amount(to_decimal(given.get("Amount", "")), currency)
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise InvalidData("Opayo Form takes amounts from 0.01 to 100000.00")
    protocol = account.get("VPS_PROTOCOL", PROTOCOLS[0])
    if protocol not in PROTOCOLS:
        raise InvalidData(f"VPS_PROTOCOL is 4.00 or 3.00, not {protocol!r}")
    plain = {
        "VendorTxCode": vendor_tx_code(reference, currency, account.test),
        "Amount": format_amount(amount, currency),
        "Currency": currency,
        "Description": (given.get("Description") or f"Order {reference}")[:100],
    }
    for name in CRYPT_FIELDS:
        if name not in plain and name not in URL_FIELDS and given.get(name):
            plain[name] = given[name]
    for name, value in plain.items():
        if "&" in value:
            raise InvalidData(f"Opayo's crypt cannot carry '&' in {name}")
    for name in URL_FIELDS:
        url = given.get(name, "")
        if not re.match(r"https?://[^/?#\s]+", url):
            raise InvalidData(f"Opayo Form needs {name}, an http(s) URL")
        plain[name] = url
    outer = {"VPSProtocol": protocol, "TxType": "PAYMENT", "Vendor": account["VENDOR"]}
    return {**outer, **plain}


def seal(final: Mapping[str, str], account: Account) -> dict[str, str]:
    """The four posted fields: the plaintext fields encrypted into ``Crypt``."""
    outer = ("VPSProtocol", "TxType", "Vendor")
    text = "&".join(f"{k}={v}" for k, v in final.items() if k not in outer)
    return {**{k: final[k] for k in outer}, "Crypt": encrypt(text, account["ENCRYPTION_PASSWORD"])}


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    reference, currency, _ = read_vendor_tx_code(form["VendorTxCode"], account)
    return PaymentTerms(reference, Decimal(form["Amount"]), currency, receiver=account["VENDOR"])


# -- the return -----------------------------------------------------------------------------


def find_crypt(data: bytes) -> str | None:
    """The ``crypt`` of a form body or query string (Opayo writes ``crypt``), if any."""
    if not data:
        return None
    fields = parse_utf8_or_latin1(data)
    value = fields.get("crypt", fields.get("Crypt"))
    return None if value is None else value.strip()


def read(inbound: Inbound) -> dict[str, str]:
    """The crypt, from the body (notify/, or a stored return) or else the query string."""
    crypt = find_crypt(bytes(inbound.body))
    if crypt is None:
        # getattr: the demo shop hands a stored log here, which names it query_string.
        query = getattr(inbound, "query", None) or getattr(inbound, "query_string", "") or ""
        crypt = find_crypt(query.encode("utf-8"))
    if not crypt:
        raise MalformedNotification("not an Opayo return: no crypt")
    if not _CRYPT.fullmatch(crypt):
        raise MalformedNotification("crypt is not @ and whole AES blocks of hex")
    return {"crypt": crypt}


def opened(fields: Mapping[str, str], account: Account) -> dict[str, str]:
    """The crypt and what it decrypts to, read leniently (``verify`` is strict)."""
    plaintext = decrypt(fields["crypt"], account["ENCRYPTION_PASSWORD"])
    found = {} if plaintext is None else pairs(plaintext.decode("latin-1"))
    return {**found, "crypt": fields["crypt"]}


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    plaintext = decrypt(fields.get("crypt", ""), account["ENCRYPTION_PASSWORD"])
    found = None if plaintext is None else strict_pairs(plaintext)
    if found is None or not _well_formed(found):
        return Verification.INVALID
    return Verification.VALID


def _well_formed(found: Mapping[str, str]) -> bool:
    status = found.get("Status", "")
    shapes = [
        bool(_VENDOR_TX_CODE.fullmatch(found.get("VendorTxCode", ""))),
        bool(_STATUS.fullmatch(status)),
        "VPSTxId" not in found or bool(_GUID.fullmatch(found["VPSTxId"])),
        "Amount" not in found or bool(_RETURNED_AMOUNT.fullmatch(found["Amount"])),
        "TxAuthNo" not in found or bool(_DIGITS.fullmatch(found["TxAuthNo"])),
    ]
    if status == "OK":  # a payment: Opayo's id and the amount it took
        shapes += ["VPSTxId" in found, "Amount" in found]
    return all(shapes)


def returned_amount(text: str) -> Decimal | None:
    """``Amount`` as Opayo returns it, thousands commas and all (``1,231.47``)."""
    return grouped_amount(text, _RETURNED_AMOUNT, "Amount")


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    found = opened(fields, account)
    code = found.get("VendorTxCode", "")
    status = found.get("Status", "")
    if not code or not status:
        raise MalformedNotification("the crypt names no VendorTxCode and Status")
    reference, currency, test = read_vendor_tx_code(limited(code, "VendorTxCode", 40), account)
    raw = {k: v for k, v in found.items() if k != "crypt"}
    return Notification(
        integration=integration,
        reference=reference,
        transaction_id=limited(found.get("VPSTxId") or code, "VPSTxId", 40),
        amount=returned_amount(found.get("Amount", "")),
        currency=currency,
        status=STATUS_MAP.get(status, Status.UNKNOWN),
        gateway_status=limited(status, "Status", 15),
        test=test,
        raw=raw,
        receiver="",  # not named: the password proves the vendor (receiver_setting)
    )


# Nobody at Opayo reads it: a return is the customer's browser.
reply = empty_reply
