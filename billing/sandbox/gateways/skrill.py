"""Skrill Quick Checkout, from Skrill's side: the payment form and the status response.

Written from Skrill's "Quick Checkout Integration Guide" (8.x, now docs.paysafe.com),
not from ``billing.protocols.skrill``. The form is not signed: Skrill checks that it
names the account (``pay_to_email``), an order, an amount and a currency it takes. The
status response is signed with ``md5sig`` over merchant_id, transaction_id, the secret
word's MD5, mb_amount, mb_currency and status. The sandbox plays an account held in the
currency of each order, so ``mb_amount``/``mb_currency`` repeat ``amount``/``currency``.
"""

import hashlib
from collections.abc import Mapping
from decimal import Decimal

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
    random_digits,
)
from .kit import Problems, form_message, major

# The currencies Quick Checkout accepts (the guide's "ISO 4217 currencies" table).
CURRENCIES = frozenset(
    "EUR TWD USD THB GBP CZK HKD HUF SGD BGN JPY PLN CAD ISK AUD INR CHF KRW DKK ZAR SEK "
    "RON NOK HRK ILS JOD MYR OMR NZD RSD TRY TND AED MAD QAR SAR".split()
)


def upper_md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def md5sig(status: Mapping[str, str], secret_word: str) -> str:
    """The guide's "Validating the status response": merchant_id, transaction_id, the
    upper-case MD5 of the secret word, mb_amount, mb_currency and status, concatenated."""
    text = status["merchant_id"] + status["transaction_id"] + upper_md5(secret_word)
    return upper_md5(text + status["mb_amount"] + status["mb_currency"] + status["status"])


class SkrillStandIn(StandIn):
    slug = "skrill"
    display_name = "Skrill"
    endpoints = {"SERVICE_URL": "pay"}
    checkout_paths = {"": "pay"}  # https://pay.skrill.com/
    signature_field = "md5sig"
    verified_by = "signature"
    receiver_setting = "PAY_TO_EMAIL"
    statuses = {APPROVED: "2", "pending": "0", CANCELLED: "-1", DECLINED: "-2", "reversed": "-3"}
    accent = "#862165"
    account_keys = ("PAY_TO_EMAIL", "MERCHANT_ID", "SECRET_WORD")
    amount_fields = ("mb_amount", "amount")
    return_field = "return_url"
    cancel_field = "cancel_url"

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        problems.equals("pay_to_email", account["PAY_TO_EMAIL"], "the merchant account")
        if problems.require("transaction_id"):
            problems.check(len(fields["transaction_id"]) <= 100, "transaction_id is too long.")
        currency = fields.get("currency", "").upper()
        problems.check(currency in CURRENCIES, f"currency {currency!r} is not accepted.")
        total = problems.amount("amount", currency)
        problems.http_urls("status_url", "return_url", "cancel_url")
        problems.raise_if_any("Skrill cannot process this payment")
        return self.order(
            fields,
            merchant=account["PAY_TO_EMAIL"],
            reference=fields["transaction_id"],
            currency=currency,
            total=total,
            description="detail1_text",
            notify="status_url",
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.upper()
        if currency not in CURRENCIES:
            raise FormRejected("Skrill cannot process this payment", [f"{currency!r}?"])
        form = {"pay_to_email": receiver or self.account()["PAY_TO_EMAIL"]}
        form.update(transaction_id=reference, currency=currency)
        form["amount"] = major(amount, currency)
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        # No test flag: a test account's response is signed with its own secret word.
        order, account = self.check_form(fields), self.account()
        currency = vary.currency or order.currency
        charged = major(vary.charged(order.total), currency)
        sent = {
            "pay_to_email": order.merchant,
            "pay_from_email": "customer@sandbox.example",
            "merchant_id": vary.receiver or account["MERCHANT_ID"],
            "transaction_id": order.reference,
            "mb_transaction_id": vary.transaction_id or random_digits(10),
            "mb_amount": charged,
            "mb_currency": currency,
            "status": self.statuses[status],
        }
        sent["md5sig"] = md5sig(sent, account["SECRET_WORD"])
        sent.update(amount=fields["amount"], currency=order.currency, payment_type="WLT")
        return form_message(sent, transaction_id=sent["mb_transaction_id"], status=sent["status"])


stand_in = SkrillStandIn()
