"""QuickPay v10, from its side: written from QuickPay's Tech Talk pages "Quickpay Form",
"Callback" and "Errors and codes" (learn.quickpay.net), not from billing's protocol.

The payment window checks the form's checksum (hex HMAC-SHA256 with the agreement's
payment window API key over the parameter values, sorted by their flattened names
``[name]``, joined by one space), then calls back with the payment as JSON, signed in
the ``QuickPay-Checksum-Sha256`` header with the account's private key.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .base import (
    APPROVED,
    AS_ASKED,
    DECLINED,
    Message,
    Order,
    StandIn,
    Variation,
    exponent,
    random_digits,
)
from .kit import Problems

HEADER = "QuickPay-Checksum-Sha256"
# Field rules of the form's parameter table.
RULES = {
    "version": r"v[0-9]+b?",
    "merchant_id": r"[0-9]+",
    "agreement_id": r"[0-9]+",
    "order_id": r"[a-zA-Z0-9]{4,20}",
    "amount": r"[0-9]{1,9}",
    "currency": r"[A-Z]{3}",
}
# qp_status_code and message of each outcome ("Errors and codes").
OUTCOMES = {APPROVED: ("20000", "Approved"), DECLINED: ("40000", "Rejected By Acquirer")}


def flattened(name: str) -> str:
    """``amount`` -> ``[amount]``, ``variables[a]`` -> ``[variables][a]``."""
    if "[" not in name:
        return f"[{name}]"
    head, rest = name.split("[", 1)
    return f"[{head}][{rest}"


def form_checksum(fields: Mapping[str, str], api_key: str) -> str:
    signed = sorted((flattened(k), v) for k, v in fields.items() if k != "checksum")
    text = " ".join(value for _, value in signed)
    return hmac.new(api_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def callback_checksum(body: bytes, private_key: str) -> str:
    return hmac.new(private_key.encode(), body, hashlib.sha256).hexdigest()


def shop_order_id(reference: str) -> str:
    """A shop's reference as billing's QuickPay form writes it (docs/integrations/quickpay.md):
    letters and digits as they are, ``z`` as ``zz``, any other character ``z`` plus two
    upper-case hex digits per UTF-8 byte. For the forms this stand-in makes itself."""
    out = []
    for char in reference:
        if char == "z":
            out.append("zz")
        elif char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.extend(f"z{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _number(text: str) -> int | str:
    """Ids are JSON numbers at QuickPay; anything else a test asks for stays a string."""
    return int(text) if text.isdigit() and len(text) < 16 else text


class QuickpayStandIn(StandIn):
    slug = "quickpay"
    display_name = "QuickPay"
    endpoints = {"SERVICE_URL": "payment"}
    checkout_paths = {"": "payment"}
    signature_field = HEADER
    verified_by = "signature"
    receiver_setting = "MERCHANT_ID"
    statuses = {APPROVED: "20000", DECLINED: "40000"}
    accent = "#0b5cad"
    account_keys = ("MERCHANT_ID", "AGREEMENT_ID", "API_KEY", "PRIVATE_KEY")
    return_field = "continueurl"
    cancel_field = "cancelurl"

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        problems.require(*RULES, "continueurl", "cancelurl", "checksum")
        for name, rule in RULES.items():
            value = fields.get(name, "")
            if value and not re.fullmatch(rule, value):
                problems.add(f"{name} {value!r} does not match /^{rule}$/.")
        problems.check(fields.get("version") in (None, "", "v10"), "version must be v10.")
        problems.equals("merchant_id", account["MERCHANT_ID"], "the merchant account")
        if problems.equals("agreement_id", account["AGREEMENT_ID"], "the agreement"):
            problems.signature("checksum", form_checksum(fields, account["API_KEY"]))
        currency = fields.get("currency", "")
        total = problems.amount("amount", currency, minor_units=True)
        problems.http_urls("continueurl", "cancelurl", required=True)
        problems.http_url("callbackurl")
        problems.raise_if_any("QuickPay refuses this payment window request")
        return self.order(
            fields,
            merchant=account["MERCHANT_ID"],
            reference=fields.get("order_id", ""),
            currency=currency,
            total=total,
            description="description",
            notify="callbackurl",
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        account, currency = self.account(), currency.upper()
        form = {
            "version": "v10",
            "merchant_id": receiver,
            "agreement_id": account["AGREEMENT_ID"],
            "order_id": shop_order_id(reference),
            "amount": str(int(amount.scaleb(exponent(currency)))),
            "currency": currency,
            "continueurl": "https://shop.invalid/continue",
            "cancelurl": "https://shop.invalid/cancel",
        }
        form["checksum"] = form_checksum(form, account["API_KEY"])
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        order, account = self.check_form(fields), self.account()
        currency = vary.currency or order.currency
        charged = vary.charged(order.total)
        units = int(charged.scaleb(exponent(currency)))
        code, text = OUTCOMES[status]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        payment_id = vary.transaction_id or random_digits(9)
        operation = {
            "id": 1,
            "type": "authorize",
            "amount": units,
            "pending": False,
            "qp_status_code": code,
            "qp_status_msg": text,
            "aq_status_code": code,
            "aq_status_msg": text,
            "created_at": now,
        }
        link = {"agreement_id": _number(account["AGREEMENT_ID"]), "version": "v10"}
        link["amount"] = int(order.total.scaleb(exponent(order.currency)))
        payment: dict[str, Any] = {
            "id": _number(payment_id),
            "merchant_id": _number(vary.receiver or order.merchant),
            "order_id": order.reference,
            "accepted": status == APPROVED,
            "type": "Payment",
            "variables": {},
            "currency": currency,
            "state": "new" if status == APPROVED else "rejected",
            "metadata": {"type": "card", "origin": "form", "brand": "visa", "last4": "0008"},
            "link": link,
            "operations": [operation],
            "test_mode": vary.test,
            "acquirer": "clearhaus",
            "created_at": now,
            "balance": 0,
        }
        body = json.dumps(payment, separators=(",", ":")).encode("ascii")
        headers = {HEADER: callback_checksum(body, account["PRIVATE_KEY"])}
        headers.update({"QuickPay-Resource-Type": "Payment", "QuickPay-API-Version": "v10"})
        return Message(
            body=body,
            transaction_id=str(payment_id),
            status=code,
            content_type="application/json",
            headers=headers,
        )

    def tamper(self, message: Message) -> Message:
        """The operation's amount changed in the JSON bytes; the header stays as signed."""
        body = re.sub(
            rb'("type":"authorize","amount":)([0-9]+)',
            lambda m: m[1] + (b"100" if m[2] == b"1" else b"1"),
            message.body,
            count=1,
        )
        return replace(message, body=body)

    def forge(self, message: Message) -> Message:
        """A checksum QuickPay never made: the same length, other digits."""
        real = next((v for k, v in message.headers.items() if k.lower() == HEADER.lower()), "")
        fake = ("1" if real[:1] == "0" else "0") * max(len(real), 8)
        others = {k: v for k, v in message.headers.items() if k.lower() != HEADER.lower()}
        return replace(message, headers={**others, HEADER: fake})


stand_in = QuickpayStandIn()
