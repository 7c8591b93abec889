"""Worldpay Business Gateway, from Worldpay's side: the purchase page and Payment Response.

Written from Worldpay's "Business Gateway HTML Redirect Integration Guide" (the order
details form, ``testMode``, MD5 security with ``signatureFields``), the "Payment Response
Guide" V4.3 (the callback's parameters, the shopper response) and developer.worldpay.com
"Business Gateway > Enable payment responses" (which results are sent: successful and
cancelled payments, never declined ones), not from ``billing.protocols.world_pay``.

Worldpay knows the merchant's installation: its ID, MD5 secret, SignatureFields and
Payment Response password, set in the Merchant Interface. The stand-in plays that account
with the shop's own ``MERCHANT_SETTINGS["world_pay"]``, read when a form arrives.

A refused card is never reported to the shop: the shopper stays on Worldpay's page, may
try another card, or cancels, and only then does Worldpay post ``transStatus=C``. The
stand-in's Decline is that path in one click (the card is refused, the shopper gives up);
its Cancel is the shopper cancelling straight away. Both post the cancellation callback.
"""

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl

from .base import (
    APPROVED,
    AS_ASKED,
    CANCELLED,
    DECLINED,
    FormRejected,
    Message,
    Order,
    StandIn,
    Variation,
    exponent,
    played_account,
    random_digits,
)
from .kit import Problems, form_message, major

SETTINGS_KEY = "world_pay"
# What a billing shop signs unless told otherwise: the order and both URLs, since a
# shopper who could change MC_callback would receive the Payment Response password.
DEFAULT_SIGNATURE_FIELDS = "amount:currency:instId:cartId:MC_callback:MC_return"
TEST_MODES = ("100", "101")  # Worldpay's test system: 100 test, 101 always refused
# Custom parameters Worldpay passes back in the Payment Response (C_ ones only reach
# the result pages).
ECHOED_PREFIXES = ("M_", "MC_", "CM_")
# What an authorised Payment Response says of the card, after the amount.
AUTHORISED = (
    "rawAuthMessage=cardbe.msg.authorised&rawAuthCode=A&authMode=A&cardType=Visa&"
    "countryMatch=Y&AVS=2222"
)
_SYMBOLS = {"GBP": "&#163;", "EUR": "&#8364;", "USD": "$", "JPY": "&#165;"}
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_INVALID = "The information sent from the merchant's site is invalid or incomplete"


@dataclass(frozen=True)
class Installation:
    """What Worldpay holds for the merchant (Merchant Interface > Integration Setup)."""

    inst_id: str
    md5_secret: str
    signature_fields: str
    callback_password: str


def installation() -> Installation | None:
    """The shop's installation, as its settings describe it; None without settings."""
    keys = ("INSTALLATION_ID", "MD5_SECRET", "SIGNATURE_FIELDS", "CALLBACK_PASSWORD")
    played = played_account(SETTINGS_KEY, *keys)
    if not played["INSTALLATION_ID"]:
        return None
    fields = played["SIGNATURE_FIELDS"] or DEFAULT_SIGNATURE_FIELDS
    return Installation(
        played["INSTALLATION_ID"], played["MD5_SECRET"], fields, played["CALLBACK_PASSWORD"]
    )


def md5_signature(secret: str, values: list[str]) -> str:
    """Worldpay's MD5 security: lower-case hex MD5 of ``secret:value1:value2:...``."""
    text = ":".join([secret, *values])
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class WorldPayStandIn(StandIn):
    slug = "world_pay"
    display_name = "Worldpay"
    endpoints = {"SERVICE_URL": "purchase"}
    verified_by = "signature"  # the callback password; Worldpay answers no postback
    receiver_setting = "INSTALLATION_ID"
    # Worldpay has two Payment Responses: Y (authorised) and C (cancelled).
    statuses = {APPROVED: "Y", CANCELLED: "C"}
    shows_reply = True  # the shopper response: Worldpay shows the callback's page
    notifies_cancel = True
    accent = "#d40e2b"
    tamper_hint = (
        "The amount is changed on the way to the shop. Worldpay's callback is not signed: "
        "only its password vouches for it, and that travels on untouched, so the callback "
        "still looks authentic. Its amount is not the order's: the shop must hold the "
        "payment for review (and never pay it as it stands)."
    )

    checkout_paths = {"wcc/purchase": "purchase"}  # the order details, posted or as a link
    # The callback is not signed: a forged one is without the installation's password.
    signature_field = "callbackPW"
    # Tampering changes amount and authAmount on the wire; the password travels on
    # untouched. Whoever can change the callback's bytes can read the password in them,
    # so the result is a callback the shop cannot tell from an authentic one: only the
    # amount check stands in the way.
    amount_fields = ("amount", "authAmount")
    # Where the result page's link leads when the shop's page cannot be shown.
    return_field = cancel_field = "MC_return"

    # -- the order details form -------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        return self._check(fields, test_system=True)

    def _check(self, fields: Mapping[str, str], *, test_system: bool) -> Order:
        """The order details; ``test_system`` refuses a testMode for the production system
        (the Payment Response reports the mode a test asks for instead)."""
        problems, account = Problems(fields), installation()
        inst_id = fields.get("instId", "").strip()
        if not inst_id:
            problems.add("instId is missing: the form must name the installation.")
        elif account is None:
            problems.add(
                f"The sandbox knows no installation: it plays MERCHANT_SETTINGS"
                f"[{SETTINGS_KEY!r}] (run it with the shop's settings)."
            )
        else:
            problems.check(
                inst_id == account.inst_id,
                f"instId {inst_id!r} is not an installation this sandbox knows (it plays "
                f"MERCHANT_SETTINGS[{SETTINGS_KEY!r}]['INSTALLATION_ID']).",
            )
        reference = fields.get("cartId", "")
        if problems.check(bool(reference.strip()), "cartId is missing."):
            problems.check(len(reference) <= 255, "cartId is longer than 255 characters.")
        currency = fields.get("currency", "").strip()
        if problems.check(bool(currency), "currency is missing."):
            problems.check(
                bool(_CURRENCY.match(currency)), f"currency {currency!r} is not an ISO 4217 code."
            )
        total = Decimal(0)
        text = fields.get("amount", "").strip()
        if problems.check(bool(text), "amount is missing.") and problems.check(
            bool(_AMOUNT.match(text)),
            f"amount {text!r} is not a number in major units, such as 12.56.",
        ):
            total = Decimal(text)
            if currency and len(text.partition(".")[2]) > exponent(currency):
                problems.add(f"amount {text!r} has more decimal places than {currency} has.")
            else:
                problems.check(total > 0, "amount must be more than zero.")
        test_mode = fields.get("testMode", "0").strip()
        problems.check(
            test_mode in TEST_MODES or not test_system,
            f"testMode is {test_mode!r}: this is Worldpay's test system, which takes "
            "100 (or 101, always refused); 0 is for the production system.",
        )
        problems.http_urls("MC_callback", "MC_return")
        if account is not None and account.md5_secret and not problems.found:
            for problem in self._signature_problems(fields, account):
                problems.add(problem)
        problems.raise_if_any(_INVALID)
        notes = [
            "Worldpay reports no refused card: Decline here is a refused card after which "
            "the shopper cancels, so the shop gets the cancellation (transStatus C)."
        ]
        if account is not None and account.md5_secret:
            signed = (fields.get("signatureFields") or account.signature_fields).split(":")
            if not {"amount", "currency"} <= set(signed):
                notes.append("The signature does not cover amount and currency.")
        if not fields.get("MC_callback"):
            notes.append(
                "No MC_callback: Worldpay would post the Payment Response to the URL set in "
                "the Merchant Interface; the sandbox sends none."
            )
        if test_mode == "101":
            notes.append("testMode=101: Worldpay's test system would refuse any card.")
        if account is not None and not account.md5_secret:
            notes.append("The installation has no MD5 secret: anyone can change this order.")
        return self.order(
            fields,
            merchant=f"installation {inst_id}",
            reference=reference,
            currency=currency,
            total=total,
            description="desc",
            untitled="Cart",
            notify="MC_callback",
            notes=notes,
        )

    @staticmethod
    def _signature_problems(fields: Mapping[str, str], account: Installation) -> list[str]:
        """MD5 security: the form's signatureFields, else the installation's SignatureFields."""
        listed = fields.get("signatureFields") or account.signature_fields
        names = [name for name in listed.split(":") if name]
        if not names:
            return ["signatureFields names no field."]
        missing = [name for name in names if name not in fields]
        if missing:
            return [f"signatureFields names fields the form lacks: {', '.join(missing)}."]
        received = fields.get("signature", "").strip().lower()
        if not received:
            return ["signature is missing: the installation has an MD5 secret."]
        expected = md5_signature(account.md5_secret, [fields[n] for n in names])
        if not hmac.compare_digest(expected.encode(), received.encode()):
            return [
                "The signature does not match the order details: MD5 of the installation's "
                f"secret and {':'.join(names)}. Check the MD5 secret and the signed fields."
            ]
        return []

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.upper()
        form = {
            "instId": receiver,
            "cartId": reference,
            "amount": major(amount, currency),
            "currency": currency,
            "desc": f"Order {reference}",
            "testMode": "100",
        }
        account = installation()
        if account is not None and account.md5_secret:
            names = [name for name in account.signature_fields.split(":") if name]
            for name in names:
                form.setdefault(name, "")  # a signed field is sent, if only empty
            form["signatureFields"] = ":".join(names)
            form["signature"] = md5_signature(account.md5_secret, [form[n] for n in names])
        return form

    # -- the Payment Response -----------------------------------------------------------

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        order = self._check(fields, test_system=False)
        currency = vary.currency or order.currency
        test_mode = fields.get("testMode", "").strip()
        if not vary.test or test_mode not in TEST_MODES:
            test_mode = "100" if vary.test else "0"
        if status == DECLINED:
            status = CANCELLED  # refused, then cancelled by the shopper: see the docstring
        if status not in self.statuses:
            raise FormRejected(
                "Worldpay sends no such Payment Response",
                [f"{status!r}: Worldpay reports authorised (Y) and cancelled (C) payments."],
            )
        trans_status = self.statuses[status]
        charged = major(vary.charged(order.total), currency)
        account = installation()
        response: list[tuple[str, str]] = [("transStatus", trans_status)]
        txn_id = ""
        if trans_status == "Y":
            txn_id = vary.transaction_id or random_digits(10)
            response.append(("transId", txn_id))
        response += [
            ("transTime", str(int(time.time() * 1000))),
            ("instId", vary.receiver or fields.get("instId", "")),
            ("cartId", order.reference),
            ("desc", fields.get("desc", "")),
            ("amount", charged),
            ("currency", currency),
            ("testMode", test_mode),
        ]
        if trans_status == "Y":
            response += [("authAmount", charged), ("authCurrency", currency)]
            response += [("authAmountString", f"{_SYMBOLS.get(currency, '')}{charged}")]
            response += parse_qsl(AUTHORISED)
            response += [("name", fields.get("name", "") or "Sandy Buyer")]
            response += [("email", fields.get("email", "") or "buyer@sandbox.example")]
            response += [("country", fields.get("country", "") or "GB"), ("ipAddress", "127.0.0.1")]
        response.append(("charenc", "UTF-8"))
        response += [(k, v) for k, v in fields.items() if k.startswith(ECHOED_PREFIXES)]
        if account is not None and account.callback_password:
            response.append(("callbackPW", account.callback_password))
        return form_message(
            response,
            transaction_id=txn_id,
            status=trans_status,
            headers={
                "User-Agent": "WJHRO/1.0 (WorldPay Java HTTP Request Object, billing sandbox)"
            },
        )


stand_in = WorldPayStandIn()
