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
    change_amount,
    random_digits,
)
from .kit import Problems, form_message, major, order_from, played_account


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

    def account(self) -> dict[str, str]:
        return played_account(self.slug, "MERCHANT_ID", "SECRET")

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        if problems.equals("merchant", account["MERCHANT_ID"], "the account"):
            problems.signature("signature", signature(fields, account["SECRET"]))
        currency = fields.get("currency", "")
        total = problems.amount("amount", currency)
        problems.http_urls("notify_url", "return_url", "cancel_url")
        problems.raise_if_any("The dummy gateway refuses this form")
        return order_from(
            fields,
            merchant=account["MERCHANT_ID"],
            reference=fields.get("reference", ""),
            currency=currency,
            total=total,
            notify="notify_url",
            back="return_url",
            cancel="cancel_url",
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
        amount, transaction_id = vary.amount, vary.transaction_id
        order = self.check_form(fields)
        currency = vary.currency or order.currency
        sent = {
            "merchant": vary.receiver or order.merchant,
            "reference": order.reference,
            "transaction": transaction_id or random_digits(12),
            "amount": major(order.total if amount is None else amount, currency),
            "currency": currency,
            "status": self.statuses[status],
            "test": "1" if vary.test else "0",
        }
        sent["signature"] = signature(sent, self.account()["SECRET"])
        return form_message(sent, transaction_id=sent["transaction"], status=sent["status"])

    def tamper(self, message: Message) -> Message:
        return change_amount(message, b"amount")

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        return fields.get("return_url", "")

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return fields.get("cancel_url", "")


stand_in = DummyStandIn()
