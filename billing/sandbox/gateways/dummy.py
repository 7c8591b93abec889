"""The dummy gateway, from its side: written from billing/protocols/dummy.py's docstring
(its specification), not from that module's code. The stand-in a contributor copies."""

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from .base import (
    APPROVED,
    CANCELLED,
    DECLINED,
    FormRejected,
    Item,
    Message,
    Order,
    StandIn,
    change_amount,
    exponent,
    first_values,
    gateway_view,
    random_digits,
    shop_settings,
)


def signature(fields: Mapping[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in fields.items() if k != "signature")
    text = "&".join(f"{k}={v}" for k, v in pairs)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _account() -> tuple[str, str]:
    account = shop_settings("dummy") or {}
    return str(account.get("MERCHANT_ID") or ""), str(account.get("SECRET") or "")


class DummyStandIn(StandIn):
    slug = "dummy"
    display_name = "Dummy gateway"
    endpoints = {"SERVICE_URL": "checkout"}
    verified_by = "signature"
    receiver_setting = "MERCHANT_ID"
    statuses = {APPROVED: "paid", DECLINED: "failed", CANCELLED: "cancelled"}

    def urlpatterns(self) -> list[URLPattern]:
        return [path("checkout", checkout, name="checkout")]

    def check_form(self, fields: Mapping[str, str]) -> Order:
        merchant, secret = _account()
        problems = []
        if not merchant or fields.get("merchant") != merchant:
            problems.append("merchant is not the account this sandbox plays.")
        elif not hmac.compare_digest(signature(fields, secret), fields.get("signature", "")):
            problems.append("signature does not match the form.")
        currency, text = fields.get("currency", ""), fields.get("amount", "")
        try:
            total = Decimal(text)
        except InvalidOperation:
            total = Decimal(0)
        if total <= 0 or len(text.partition(".")[2]) != exponent(currency):
            problems.append(f"amount {text!r} is not a {currency} amount in major units.")
        if problems:
            raise FormRejected("The dummy gateway refuses this form", problems)
        return Order(
            merchant=merchant,
            reference=fields.get("reference", ""),
            currency=currency,
            total=total,
            items=(Item(f"Order {fields.get('reference', '')}", 1, total),),
            notify_url=fields.get("notify_url", ""),
            return_url=fields.get("return_url", ""),
            cancel_url=fields.get("cancel_url", ""),
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        places = Decimal(1).scaleb(-exponent(currency.upper()))
        form = {"merchant": receiver, "reference": reference, "currency": currency.upper()}
        form["amount"] = f"{amount.quantize(places):f}"
        form["signature"] = signature(form, _account()[1])
        return form

    def notification(
        self,
        fields: Mapping[str, str],
        *,
        status: str,
        amount: Decimal | None = None,
        transaction_id: str | None = None,
    ) -> Message:
        order = self.check_form(fields)
        charged = order.total if amount is None else amount
        places = Decimal(1).scaleb(-exponent(order.currency))
        sent = {
            "merchant": order.merchant,
            "reference": order.reference,
            "transaction": transaction_id or random_digits(12),
            "amount": f"{charged.quantize(places):f}",
            "currency": order.currency,
            "status": self.statuses[status],
            "test": "1",
        }
        sent["signature"] = signature(sent, _account()[1])
        body = urlencode(sent).encode("ascii")
        return Message(body=body, transaction_id=sent["transaction"], status=sent["status"])

    def tamper(self, message: Message) -> Message:
        return change_amount(message, b"amount")

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        return fields.get("return_url", "")

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return fields.get("cancel_url", "")


@gateway_view
def checkout(request: HttpRequest) -> HttpResponse:
    from .. import views

    return views.begin_checkout(request, stand_in, first_values(request))


stand_in = DummyStandIn()
