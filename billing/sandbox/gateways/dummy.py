"""The dummy gateway, from its side: written from billing/protocols/dummy.py's docstring
(its specification), not from that module's code. The stand-in a contributor copies."""

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal

from .base import (
    APPROVED,
    AS_ASKED,
    CANCELLED,
    DECLINED,
    Message,
    Order,
    StandIn,
    Variation,
    random_digits,
)
from .kit import Problems, form_message, major


def signature(fields: Mapping[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in fields.items() if k != "signature")
    text = "&".join(f"{k}={v}" for k, v in pairs)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class DummyStandIn(StandIn):
    slug = "dummy"
    display_name = "Dummy gateway"
    endpoints = {"SERVICE_URL": "checkout"}
    checkout_paths = {"checkout": "checkout"}
    signature_field = "signature"
    verified_by = "signature"
    receiver_setting = "MERCHANT_ID"
    statuses = {APPROVED: "paid", DECLINED: "failed", CANCELLED: "cancelled"}
    account_keys = ("MERCHANT_ID", "SECRET")
    amount_fields = ("amount",)
    return_field = "return_url"
    cancel_field = "cancel_url"

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        if problems.equals("merchant", account["MERCHANT_ID"], "the account"):
            problems.signature("signature", signature(fields, account["SECRET"]))
        currency = fields.get("currency", "")
        total = problems.amount("amount", currency)
        problems.http_urls("notify_url", "return_url", "cancel_url")
        problems.raise_if_any("The dummy gateway refuses this form")
        return self.order(
            fields,
            merchant=account["MERCHANT_ID"],
            reference=fields.get("reference", ""),
            currency=currency,
            total=total,
            notify="notify_url",
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.upper()
        form = {"merchant": receiver, "reference": reference, "currency": currency}
        form["amount"] = major(amount, currency)
        form["signature"] = signature(form, self.account()["SECRET"])
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        order = self.check_form(fields)
        currency = vary.currency or order.currency
        sent = {
            "merchant": vary.receiver or order.merchant,
            "reference": order.reference,
            "transaction": vary.transaction_id or random_digits(12),
            "amount": major(vary.charged(order.total), currency),
            "currency": currency,
            "status": self.statuses[status],
            "test": "1" if vary.test else "0",
        }
        sent["signature"] = signature(sent, self.account()["SECRET"])
        return form_message(sent, transaction_id=sent["transaction"], status=sent["status"])


stand_in = DummyStandIn()
