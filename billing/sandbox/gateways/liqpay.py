"""LiqPay Checkout (API 3), from LiqPay's side.

Written from LiqPay's API 3 documentation ("Rules for the formation of a request for
payment", "Checkout", "Callback"), not from ``billing.protocols.liqpay``:

- the checkout receives ``data`` (base64 of a JSON object with ``version`` 3,
  ``public_key``, ``action``, ``amount``, ``currency``, ``description``, ``order_id``,
  optional ``result_url``, ``server_url``, ``sandbox``) and ``signature`` =
  base64(sha1(private_key + data + private_key)), the SHA-1 taken as 20 raw bytes;
- the callback posts ``data`` and ``signature`` the same way to ``server_url``; a
  sandbox payment ends with status ``sandbox`` (a live one ``success``), a declined one
  with ``failure``;
- the customer goes back to ``result_url``. LiqPay tells the shop nothing of a
  customer who leaves the checkout, and has no cancel URL: Cancel here ends on the
  sandbox's own page.
"""

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .base import (
    APPROVED,
    AS_ASKED,
    DECLINED,
    FormRejected,
    Message,
    Order,
    StandIn,
    Variation,
    exponent,
    random_digits,
)
from .kit import Problems

CURRENCIES = ("UAH", "USD", "EUR")
ACTIONS = ("pay", "hold", "paydonate", "auth")
REFUSED = "LiqPay: the payment request is invalid"


def signature(data: str, private_key: str) -> str:
    text = f"{private_key}{data}{private_key}".encode()
    return base64.b64encode(hashlib.sha1(text).digest()).decode()  # noqa: S324 (LiqPay's own)


def _params(fields: Mapping[str, str]) -> dict[str, Any]:
    try:
        params = json.loads(base64.b64decode(fields.get("data", ""), validate=True))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError alike
        params = None
    if not isinstance(params, dict):
        raise FormRejected(REFUSED, ["data is not base64 of a JSON object."])
    return params


def _amount(text: str, currency: str, problems: Problems) -> Decimal:
    """A positive amount with at most the currency's decimals ("5" and "7.34" alike)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    places = len(text.partition(".")[2])
    if not value.is_finite() or value <= 0 or places > exponent(currency) or "e" in text.lower():
        problems.add(f"amount {text!r} is not a {currency} amount.")
        return Decimal(0)
    return value


def _json(sent: Mapping[str, Any], amount: Decimal) -> bytes:
    """The callback's JSON, its amount a JSON number as LiqPay writes it (10.0)."""
    number = f"{amount.normalize():f}"
    number = number if "." in number else f"{number}.0"
    text = json.dumps(dict(sent))
    return f'{text[:-1]}, "amount": {number}}}'.encode()


def _message(params: Mapping[str, Any], amount: Decimal, key: str) -> bytes:
    data = base64.b64encode(_json(params, amount)).decode()
    return urlencode({"data": data, "signature": signature(data, key)}).encode()


class LiqpayStandIn(StandIn):
    slug = "liqpay"
    display_name = "LiqPay"
    accent = "#7ab72b"
    endpoints = {"SERVICE_URL": "checkout"}
    checkout_paths = {"api/3/checkout": "checkout"}
    signature_field = "signature"
    verified_by = "signature"
    receiver_setting = "PUBLIC_KEY"
    statuses = {APPROVED: "success", DECLINED: "failure"}
    account_keys = ("PUBLIC_KEY", "PRIVATE_KEY")
    # A parameter inside data (see return_url); no cancel field: the checkout has none.
    return_field = "result_url"

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account = self.account()
        params = _params(fields)
        text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        problems = Problems(text)
        if problems.equals("public_key", account["PUBLIC_KEY"], "the public key"):
            problems.check(
                signature(fields.get("data", ""), account["PRIVATE_KEY"])
                == fields.get("signature", ""),
                "signature does not match data.",
            )
        problems.check(text.get("version") in ("3", "3.0"), "version is not 3.")
        problems.check(text.get("action") in ACTIONS, f"action {text.get('action')!r}.")
        problems.require("description", "order_id")
        currency = text.get("currency", "")
        problems.check(currency in CURRENCIES, f"currency {currency!r} is not accepted.")
        total = _amount(text.get("amount", ""), currency, problems)
        problems.http_urls("result_url", "server_url")
        problems.raise_if_any(REFUSED)
        return self.order(
            text,
            merchant=account["PUBLIC_KEY"],
            reference=text["order_id"],
            currency=currency,
            total=total,
            description="description",
            notify="server_url",
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        params = {"version": 3, "public_key": receiver, "action": "pay", "sandbox": 1}
        params.update(currency=currency.upper(), description=f"Order {reference}")
        params.update(amount=f"{amount:f}", order_id=reference)
        data = base64.b64encode(json.dumps(params).encode()).decode()
        return {"data": data, "signature": signature(data, self.account()["PRIVATE_KEY"])}

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        order = self.check_form(fields)
        params = _params(fields)
        code = self.statuses[status]
        if code == "success" and vary.test:
            code = "sandbox"
        charged = vary.charged(order.total)
        payment_id: Any = vary.transaction_id or int(random_digits(10))
        sent: dict[str, Any] = {
            "action": params.get("action", "pay"),
            "payment_id": payment_id,
            "status": code,
            "version": 3,
            "type": "buy",
            "paytype": "card",
            "public_key": vary.receiver or order.merchant,
            "acq_id": 414963,
            "order_id": order.reference,
            "liqpay_order_id": f"SB{secrets.token_hex(8).upper()}",
            "description": params.get("description", ""),
            "sender_card_mask2": "424242*42",
            "sender_card_type": "visa",
            "currency": vary.currency or order.currency,
            "is_3ds": False,
            "transaction_id": payment_id,
        }
        if code == "failure":
            sent.update(err_code="limit", err_description="Card limit exceeded")
        body = _message(sent, charged, self.account()["PRIVATE_KEY"])
        return Message(body=body, transaction_id=str(payment_id), status=code)

    def tamper(self, message: Message) -> Message:
        """Change the amount inside data after signing; the signature stays as sent."""
        pairs = dict(parse_qsl(message.body.decode("ascii")))
        params = json.loads(base64.b64decode(pairs["data"]), parse_float=Decimal)
        was = params.pop("amount", None)
        low = Decimal("0.01")
        pairs["data"] = base64.b64encode(_json(params, Decimal(1) if was == low else low)).decode()
        return replace(message, body=urlencode(pairs).encode())

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        return str(_params(fields).get(self.return_field, ""))


stand_in = LiqpayStandIn()
