"""Opayo Form (Elavon), from Opayo's side: written from Elavon's "Opayo Forms" reference
(Form fields, Crypt field, Transaction Completion; VPSProtocol 4.00) and the Sage Pay Form
3.00 guide, not from ``billing.protocols.opayo_form``.

- ``vspform-register.vsp`` takes ``VPSProtocol`` (3.00 or 4.00), ``TxType``, ``Vendor``
  (the account's) and ``Crypt``: ``@`` + hex of AES-128-CBC, key = IV = the account's
  encryption password, PKCS#7. Its plaintext is ``Name=Value`` pairs joined by ``&``,
  unescaped; a pair starts at ``&`` followed by a crypt field's name and ``=``, so
  ``SuccessURL`` can carry its own query parameters. The stand-in insists on
  ``VendorTxCode`` (Opayo's characters, at most 40), ``Amount``, ``Currency``,
  ``Description``, ``SuccessURL`` and ``FailureURL``; it does not insist on the Billing
  and Delivery names and addresses the 3.00 guide marks mandatory.
- Opayo calls no shop server. The result travels in the customer's browser: a GET of
  ``SuccessURL`` (OK) or ``FailureURL`` with ``crypt=@HEX``, encrypted the same way. The
  sandbox plays that browser: its delivery (once, twice, late, tampered, as the testing
  options ask) is that GET, to ``SuccessURL`` (billing points both at one page); the
  customer then goes back to the URL without the crypt. Cancel is Opayo's ABORT.
"""

import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse

from .base import (
    APPROVED,
    AS_ASKED,
    CANCELLED,
    DECLINED,
    Message,
    Order,
    StandIn,
    Variation,
)
from .kit import Problems, major

SLUG = "opayo_form"
NAMES = (  # the crypt fields a pair can start with (the 3.00 guide's, and 4.00's)
    "VendorTxCode Amount Currency Description SuccessURL FailureURL CustomerName CustomerEMail "
    "VendorEMail SendEMail EmailMessage Basket BasketXML AllowGiftAid ApplyAVSCV2 Apply3DSecure "
    "BillingAgreement ReferrerID CustomerXML SurchargeXML VendorData Language Website"
).split() + [
    f"{p}{n}"
    for p in ("Billing", "Delivery")
    for n in "Surname Firstnames Address1 "
    "Address2 Address3 City PostCode Country State Phone".split()
]
_PAIR_START = re.compile("&(?=(?:" + "|".join(NAMES) + ")=)")
CARD_RESULTS = dict(
    pair.split("=")
    for pair in "AVSCV2=ALL MATCH&AddressResult=MATCHED&PostCodeResult=MATCHED&CV2Result="
    "MATCHED&GiftAid=0&3DSecureStatus=OK&CardType=VISA&Last4Digits=0006&ExpiryDate=1230".split("&")
)
DETAILS = {
    "OK": "0000 : The Authorisation was Successful.",
    "NOTAUTHED": "2000 : The Authorisation was Declined by the bank.",
    "ABORT": "2016 : The transaction was cancelled by the customer.",
}


def _aes(key: bytes) -> Any:
    """AES-128-CBC with key = IV (imported here: the sandbox loads without cryptography)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(key))


def crypt(plaintext: str, password: str) -> str:
    from cryptography.hazmat.primitives import padding

    key = password.encode("utf-8")
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = _aes(key).encryptor()
    return "@" + (encryptor.update(data) + encryptor.finalize()).hex().upper()


def uncrypt(value: str, password: str) -> str | None:
    """The plaintext, or None if it is not hex encrypted with this password."""
    from cryptography.hazmat.primitives import padding

    key = password.encode("utf-8")
    try:
        data = bytes.fromhex(value.removeprefix("@"))
        decryptor = _aes(key).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except ValueError:  # not hex, not whole blocks, a wrong key's padding, not UTF-8
        return None


def crypt_fields(plaintext: str) -> dict[str, str]:
    return dict(pair.partition("=")[::2] for pair in _PAIR_START.split(plaintext))


def _guid(transaction_id: str | None) -> str:
    if transaction_id and re.fullmatch(r"\{[0-9A-F-]{36}\}", transaction_id):
        return transaction_id
    value = uuid.uuid5(uuid.NAMESPACE_URL, transaction_id) if transaction_id else uuid.uuid4()
    return "{" + str(value).upper() + "}"


class OpayoFormStandIn(StandIn):
    slug = SLUG
    display_name = "Opayo Form (Elavon)"
    endpoints = {"SERVICE_URL": "vspform-register"}
    checkout_paths = {"gateway/service/vspform-register.vsp": "vspform-register"}
    signature_field = "crypt"
    verified_by = "signature"
    receiver_setting = "VENDOR"
    statuses = {APPROVED: "OK", DECLINED: "NOTAUTHED", CANCELLED: "ABORT"}
    notifies_cancel = True  # ABORT comes back in the crypt like any other status
    accent = "#cc0033"
    account_keys = ("VENDOR", "ENCRYPTION_PASSWORD")
    # Fields of the crypt, not of the form: return_url and cancel_url decrypt it.
    return_field = "SuccessURL"
    cancel_field = "FailureURL"

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        problems.check(fields.get("VPSProtocol") in ("3.00", "4.00"), "VPSProtocol is not 4.00.")
        problems.check(fields.get("TxType") == "PAYMENT", "TxType is not PAYMENT.")
        plain: dict[str, str] = {}
        if problems.equals("Vendor", account["VENDOR"], "the vendor"):
            text = uncrypt(fields.get("Crypt", ""), account["ENCRYPTION_PASSWORD"])
            if problems.check(text is not None, "Crypt is not encrypted with the password."):
                plain = crypt_fields(text or "")
        problems.raise_if_any("3045 : The Crypt field is invalid (MALFORMED)")
        inner = Problems(plain)
        inner.require("VendorTxCode", "Description")
        code = plain.get("VendorTxCode", "")
        inner.check(bool(re.fullmatch(r"[A-Za-z0-9{}._-]{0,40}", code)), "VendorTxCode is bad.")
        currency = plain.get("Currency", "")
        inner.check(bool(re.fullmatch(r"[A-Z]{3}", currency)), "Currency is not 3 letters.")
        total = inner.amount("Amount", currency)
        inner.http_urls("SuccessURL", "FailureURL", required=True)
        inner.raise_if_any("The transaction was not registered (INVALID)")
        return self.order(
            plain,
            merchant=account["VENDOR"],
            reference=code,
            currency=currency,
            total=total,
            description="Description",
            notify=self.return_field,  # where the browser brings the crypt back
            notes=["Opayo calls no shop server: the customer's return carries the crypt."],
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        """A form as a billing shop writes it: its VendorTxCode binds mode and currency."""
        currency = currency.upper()
        try:
            back = "http://shop.invalid" + reverse("billing:return", kwargs={"integration": SLUG})
        except NoReverseMatch:
            back = "http://shop.invalid/return/"
        plain = (
            f"VendorTxCode={reference}{{T{currency}{secrets.token_hex(3).upper()}}}"
            f"&Amount={major(amount, currency)}&Currency={currency}&Description=Order"
            f"&SuccessURL={back}&FailureURL={back}"
        )
        password = self.account()["ENCRYPTION_PASSWORD"]
        return {
            "VPSProtocol": "4.00",
            "TxType": "PAYMENT",
            "Vendor": receiver,
            "Crypt": crypt(plain, password),
        }

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The return's crypt; another receiver's is encrypted with another password."""
        if vary.currency or not vary.test:
            raise NotImplementedError("Opayo's return names no currency and no mode")
        order = self.check_form(fields)
        code = self.statuses.get(status, status)
        charged = vary.charged(order.total)
        sent = {"VendorTxCode": order.reference, "VPSTxId": _guid(vary.transaction_id)}
        sent |= {"Status": code, "StatusDetail": DETAILS.get(code, code)}
        if code == "OK":
            sent["TxAuthNo"] = str(secrets.randbelow(9 * 10**7) + 10**7)
        sent |= CARD_RESULTS | {"DeclineCode": "00" if code == "OK" else "05"}
        sent["Amount"] = major(charged, order.currency, ",f")  # with thousands commas, as Opayo
        password = self.account()["ENCRYPTION_PASSWORD"]
        if vary.receiver:  # another vendor's password (any other 16 characters)
            password = uuid.uuid5(uuid.NAMESPACE_URL, vary.receiver).hex[:16]
        text = "&".join(f"{k}={v}" for k, v in sent.items())
        body = f"crypt={crypt(text, password)}".encode("ascii")
        return Message(body=body, transaction_id=sent["VPSTxId"], status=code, method="GET")

    def tamper(self, message: Message) -> Message:
        """Flip the ciphertext's bits so that Amount reads 0.01 (or 1.00): the attack CBC
        allows without the password. The block before it turns to noise."""
        value = message.body.decode("ascii").partition("crypt=")[2]
        text = uncrypt(value, self.account()["ENCRYPTION_PASSWORD"]) or ""
        start = text.index("&Amount=") + len("&Amount=")
        old = text[start:].partition("&")[0]
        new = ("1.00" if old.endswith("0.01") else "0.01").rjust(len(old), "0")[-len(old) :]
        data = bytearray(bytes.fromhex(value[1:]))
        for i, (a, b) in enumerate(zip(old.encode(), new.encode(), strict=True)):
            data[start + i - 16] ^= a ^ b  # the same byte of the block before
        return replace(message, body=b"crypt=@" + data.hex().upper().encode("ascii"))

    def forge(self, message: Message) -> Message:
        """The same plaintext encrypted with a guessed password."""
        value = message.body.decode("ascii").partition("crypt=")[2]
        text = uncrypt(value, self.account()["ENCRYPTION_PASSWORD"]) or "Status=OK"
        return replace(message, body=f"crypt={crypt(text, 'guessedPassword1')}".encode())

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        order = self.check_form(fields)
        ok = message is None or message.status == "OK"
        return order.return_url if ok else order.cancel_url

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return self.check_form(fields).cancel_url


stand_in = OpayoFormStandIn()
