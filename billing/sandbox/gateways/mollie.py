"""Mollie, from its side: the Payments API, the hosted checkout and the id-only webhook.

Written from Mollie's public API reference (docs.mollie.com: "Create payment", "Get
payment", "Webhooks", "API idempotency"), not from billing.protocols.mollie, so it can
disagree with the shop's code.

- ``POST <API_URL>/v2/payments``: JSON, Bearer API key of the played account
  (MERCHANT_SETTINGS["mollie"]["API_KEY"]); ``amount.value`` must be a string with the
  currency's decimals; ``description`` and ``redirectUrl`` are required. An
  ``Idempotency-Key`` seen before answers the first payment again (another body with
  the same key is a 422). Answers 201 with the payment, ``_links.checkout.href`` being
  the sandbox's hosted page.
- ``GET <API_URL>/v2/payments/{id}``: the payment as it is now, for the played key only;
  a payment of another account, or none, is a 404.
- Approve / Decline / Cancel are the shared hosted page's. Approve makes the payment
  ``paid``, Decline ``failed``; each then calls ``webhookUrl`` with the body
  ``id=tr_...`` and nothing else (unsigned: the shop must fetch). Cancel sends the
  customer to ``cancelUrl`` and calls nothing now (the payment expires later).
- Testing options: "different amount" makes Mollie's record of the payment another
  amount (the shop fetches it and must hold it); "tamper" adds an amount to the webhook
  on the way, which Mollie never sends: the shop must reject that body.
"""

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, reverse

from . import api_kit
from .base import (
    APPROVED,
    AS_ASKED,
    CANCELLED,
    DECLINED,
    Item,
    Message,
    Order,
    StandIn,
    Variation,
    exponent,
)
from .kit import Problems, played_account

MERCHANT = "Mollie test profile"
_DECISION_STATUS = {"approved": "paid", "declined": "failed", "cancelled": "canceled"}


def mollie_id(prefix: str = "tr_") -> str:
    return prefix + api_kit.random_string(10)


def value(amount: Decimal, currency: str) -> str:
    """Mollie's amount value: exactly the currency's decimals."""
    return format(amount.quantize(Decimal(1).scaleb(-exponent(currency))), "f")


def played_key() -> str:
    return played_account("mollie", "API_KEY")["API_KEY"]


def _error(status: int, title: str, detail: str, field: str = "") -> HttpResponse:
    body: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status, content_type="application/hal+json")


def _not_found(status: int, detail: str) -> HttpResponse:
    return _error(status, "Not Found", detail)


def _unprocessable(detail: str) -> HttpResponse:
    return _error(422, "Unprocessable Entity", detail)


def _bad_target(detail: str) -> HttpResponse:
    return _error(422, "Unprocessable Entity", detail, "webhookUrl")


def _hal(data: dict[str, Any], status: int = 200) -> HttpResponse:
    """A resource as Mollie answers it: HAL JSON."""
    response = JsonResponse(data, status=status)
    response["Content-Type"] = "application/hal+json"
    return response


class MollieStandIn(StandIn):
    slug = "mollie"
    display_name = "Mollie"
    endpoints = {"API_URL": "api"}
    # Asked of the gateway: the shop fetches what the webhook names.
    verified_by = "postback"
    statuses = {APPROVED: "paid", DECLINED: "failed", CANCELLED: "canceled"}
    accent = "#0a0a0a"
    other_amount_hint = (
        "Mollie's record of the payment says another amount than the order's; the shop "
        "fetches it: the shop must hold the payment for review."
    )
    tamper_hint = (
        "An amount is added to the webhook on the way to the shop. Mollie sends only "
        "id=tr_... and the shop reads no amount from it: the shop must reject it."
    )

    def urlpatterns(self) -> list[URLPattern]:
        return [
            path("", api_root, name="api"),
            path("v2/payments", payments, name="payments"),
            path("v2/payments/<str:payment_id>", payment_view, name="payment"),
        ]

    # -- the payment's parameters (flat: amount.value, metadata.reference) ----------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        problems = Problems(fields)
        currency = fields.get("amount.currency", "")
        problems.check(bool(re.fullmatch("[A-Z]{3}", currency)), "amount.currency is invalid.")
        text = fields.get("amount.value", "")
        places = exponent(currency)
        pattern = r"\d{1,10}" + (rf"\.\d{{{places}}}" if places else "")
        total = Decimal(0)
        if problems.check(
            bool(re.fullmatch(pattern, text)),
            f"amount.value {text!r} must be a string with {places} decimals.",
        ):
            total = Decimal(text)
            problems.check(total > 0, "amount.value must be positive.")
        description = fields.get("description", "")
        problems.check(bool(description), "description is required.")
        redirect = problems.http_url("redirectUrl", required=True)
        problems.http_url("cancelUrl")
        problems.http_url("webhookUrl")
        problems.raise_if_any("Mollie refuses this payment")
        reference = fields.get("metadata.reference", "")
        return Order(
            merchant=MERCHANT,
            reference=reference,
            currency=currency,
            total=total,
            items=(Item(description, 1, total),),
            notify_url=fields.get("webhookUrl", ""),
            return_url=redirect,
            cancel_url=fields.get("cancelUrl", "") or redirect,
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.upper()
        return {
            "amount.currency": currency,
            "amount.value": value(amount, currency),
            "description": f"Order {reference}",
            "redirectUrl": "http://shop.test/billing/mollie/return/",
            "metadata.reference": reference,
        }

    # -- the payment as Mollie keeps it -----------------------------------------------------------

    def payment(self, fields: Mapping[str, Any], *, base: str = "") -> dict[str, Any]:
        """The payment resource for the fields the sandbox keeps (its current state)."""
        currency = fields["amount.currency"]
        status = fields.get("status") or "open"
        created = fields.get("createdAt") or _now()
        data: dict[str, Any] = {
            "resource": "payment",
            "id": fields["id"],
            "mode": fields.get("mode") or "test",
            "createdAt": created,
            "amount": {"value": fields["amount.value"], "currency": currency},
            "description": fields.get("description", ""),
            "method": fields.get("method") or None,
            "metadata": {"reference": fields["metadata.reference"]}
            if fields.get("metadata.reference")
            else None,
            "status": status,
            "isCancelable": status == "open",
            "expiresAt": fields.get("expiresAt") or _later(created),
            "profileId": fields.get("profileId") or "pfl_sandbox",
            "sequenceType": "oneoff",
            "redirectUrl": fields.get("redirectUrl"),
            "cancelUrl": fields.get("cancelUrl") or None,
            "webhookUrl": fields.get("webhookUrl") or None,
            "_links": {
                "self": {
                    "href": f"{base}v2/payments/{fields['id']}",
                    "type": "application/hal+json",
                },
            },
        }
        if status == "paid":
            data["paidAt"] = fields.get("decidedAt") or _now()
            data["amountRefunded"] = {"value": value(Decimal(0), currency), "currency": currency}
            data["amountRemaining"] = dict(data["amount"])
        if status in ("failed", "canceled", "expired"):
            data[f"{status}At"] = fields.get("decidedAt") or _now()
        if status == "open" and fields.get("url"):
            data["_links"]["checkout"] = {"href": fields["url"], "type": "text/html"}
        return data

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """Mollie's record of the payment becomes ``status`` (and, asked otherwise, another
        amount, currency, mode or account); the webhook says only its id."""
        amount, transaction_id = vary.amount, vary.transaction_id
        order = self.check_form(fields)
        payment_id = fields.get("id") or _wire_id(transaction_id) or mollie_id()
        checkout = api_kit.stored(self.slug, payment_id)
        kept: dict[str, Any] = dict(checkout.fields) if checkout is not None else dict(fields)
        currency = (vary.currency or order.currency).upper()
        kept.update(
            {
                "id": payment_id,
                "status": self.statuses[status],
                "decidedAt": _now(),
                "amount.currency": currency,
                "amount.value": value(order.total if amount is None else amount, currency),
                "mode": "test" if vary.test else "live",
                # Another account's payment: the played key does not see it.
                "account": f"other:{vary.receiver}" if vary.receiver else "",
            }
        )
        if checkout is None:
            api_kit.keep(self.slug, payment_id, kept)
        else:
            api_kit.save_fields(checkout, kept)
        return Message(
            body=urlencode({"id": payment_id}).encode("ascii"),
            transaction_id=payment_id,
            status=self.statuses[status],
            headers={"User-Agent": "Mollie HTTP client/1.0"},
        )

    def tamper(self, message: Message) -> Message:
        """An amount added to the webhook on the way; Mollie sends nothing but the id."""
        return replace(message, body=message.body + b"&amount=0.01")

    def forge(self, message: Message) -> Message:
        """A webhook for a payment Mollie never made (an id of the same shape)."""
        return replace(message, body=urlencode({"id": mollie_id()}).encode("ascii"))

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        return fields.get("redirectUrl", "")

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return fields.get("cancelUrl", "") or fields.get("redirectUrl", "")


stand_in = MollieStandIn()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _later(created: str) -> str:
    try:
        start = datetime.fromisoformat(created)
    except ValueError:
        start = datetime.now(UTC)
    return (start + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _wire_id(transaction_id: str | None) -> str:
    """A test's transaction id as a Mollie payment id (``TX-1`` -> ``tr_TX1``)."""
    if not transaction_id:
        return ""
    if re.fullmatch(r"tr_[A-Za-z0-9]+", transaction_id):
        return transaction_id
    cleaned = re.sub(r"[^A-Za-z0-9]", "", transaction_id)[:40]
    return f"tr_{cleaned}" if cleaned else ""


# -- the API ------------------------------------------------------------------------------------


@api_kit.api_view
def api_root(request: HttpRequest) -> HttpResponse:
    return _not_found(404, f"The resource {request.path} does not exist.")


def _authorize(request: HttpRequest) -> None:
    """The played account's API key as the Bearer token, else Mollie's 401."""
    expected = api_kit.account_or_refuse(played_key, _not_found)
    if not api_kit.same_secret(api_kit.bearer_token(request), expected):
        raise api_kit.Refusal(
            _error(401, "Unauthorized Request", "Missing authentication, or failed to authenticate")
        )


def _flat(body: Mapping[str, Any]) -> dict[str, str]:
    """The JSON body's parameters, flat as the sandbox keeps them."""
    flat: dict[str, str] = {}
    for key, item in body.items():
        if isinstance(item, dict):
            for inner, text in item.items():
                flat[f"{key}.{inner}"] = str(text)
        elif item is not None:
            flat[str(key)] = str(item)
    amount = body.get("amount")
    if isinstance(amount, dict) and not isinstance(amount.get("value"), str):
        flat["amount.value"] = ""  # a number, not a string: Mollie refuses it
    return flat


def _api_base(request: HttpRequest) -> str:
    """The API's root, which a payment's self link starts with."""
    return request.build_absolute_uri(reverse("billing_sandbox:mollie:api"))


@api_kit.api_view
def payments(request: HttpRequest) -> HttpResponse:
    """``POST /v2/payments``: create the payment, remember it for the page."""
    if request.method != "POST":
        return _error(405, "Method Not Allowed", "Use POST to create a payment.")
    _authorize(request)
    data = api_kit.json_object(request)
    if data is None:
        return _error(400, "Bad Request", "The request body is not a JSON object.")
    params = _flat(data)
    key = request.headers.get("Idempotency-Key", "")
    first = api_kit.first_with(stand_in.slug, "idempotency_key", key)
    if first is not None:
        if api_kit.asked(first, _OURS) != params:
            return _unprocessable("The Idempotency-Key was used before with another request body.")
        return _hal(stand_in.payment(first.fields, base=_api_base(request)), status=201)
    order = api_kit.checked_order(stand_in, params, _unprocessable)
    api_kit.refuse_foreign_target(stand_in, order, _bad_target)
    try:
        Decimal(params["amount.value"])
    except InvalidOperation:  # pragma: no cover - check_form refused it already
        return _error(422, "Unprocessable Entity", "The amount is invalid.", "amount")
    payment_id = mollie_id()
    fields = {
        **params,
        "id": payment_id,
        "url": api_kit.hosted_page(request, stand_in.slug, payment_id),
        "createdAt": _now(),
        "idempotency_key": key,
    }
    api_kit.keep(stand_in.slug, payment_id, fields)
    return _hal(stand_in.payment(fields, base=_api_base(request)), status=201)


@api_kit.api_view
def payment_view(request: HttpRequest, payment_id: str) -> HttpResponse:
    """``GET /v2/payments/{id}``: the payment now, for the played account's key only."""
    if request.method != "GET":
        return _error(405, "Method Not Allowed", "Use GET to retrieve a payment.")
    _authorize(request)
    checkout = api_kit.stored(stand_in.slug, payment_id)
    if checkout is None or checkout.fields.get("account"):
        return _not_found(404, f"No payment exists with token {payment_id}.")
    fields = dict(checkout.fields)
    if not fields.get("status") and checkout.decision:
        fields["status"] = _DECISION_STATUS.get(checkout.decision, "open")
    return _hal(stand_in.payment(fields, base=_api_base(request)))


# What the sandbox adds to a payment's parameters when it keeps them.
_OURS = frozenset(
    {"id", "url", "createdAt", "idempotency_key", "status", "decidedAt", "mode", "account"}
)
