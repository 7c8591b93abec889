"""Stripe, from its side: the Checkout Sessions API, the hosted page and signed webhooks.

Written from Stripe's public API reference and webhook documents (docs.stripe.com,
"Create a Checkout Session", "Idempotent requests", "Check the webhook signatures"),
not from billing.protocols.stripe, so it can disagree with the shop's code.

- ``POST <API_URL>/v1/checkout/sessions``: Bearer secret key of the played account
  (MERCHANT_SETTINGS["stripe"]["SECRET_KEY"]); a form-encoded body with brackets;
  ``Idempotency-Key`` replays the first answer (another body with the same key is a 400
  ``idempotency_error``). Answers the session's JSON, whose ``url`` is the sandbox's
  hosted page for it.
- Approve / Decline / Cancel on that page are the shared sandbox's. Approve sends
  ``checkout.session.completed`` (``payment_status`` paid), Decline
  ``checkout.session.async_payment_failed`` (a delayed method that failed), and Cancel
  sends the customer to ``cancel_url`` and tells the shop nothing, as Stripe does.
- Webhooks go to the account's endpoint, which the sandbox takes to be billing's
  ``notify/`` on the shop's origin (the one ``success_url`` names): Stripe has no
  webhook URL per session. Each is signed as Stripe signs, ``Stripe-Signature:
  t=<unix>,v1=<hex HMAC-SHA256 of "t.body" keyed with the whsec_ secret>``, with one
  ``v1`` per secret while several are configured (a secret being rolled).
"""

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.utils import timezone

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
    shop_settings,
)
from .kit import Problems

if TYPE_CHECKING:
    from ..models import Checkout

# Stripe's minor units ("Supported currencies"), kept here apart from the shop's.
ZERO_DECIMAL = set("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = set("BHD JOD KWD OMR TND".split())
API_VERSION = "2026-06-24.dahlia"
MERCHANT = "Stripe test account"
SESSION_LIFETIME = 24 * 3600  # expires_at's default: 24 hours after the session was made


def stripe_exponent(currency: str) -> int:
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def stripe_id(prefix: str) -> str:
    return prefix + api_kit.random_string(24)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


# How old the testing option "sign it ten minutes ago" makes a signature.
STALE_SECONDS = 600


def signature_header(body: bytes, signing_secrets: list[str], timestamp: int) -> str:
    return ",".join(
        [f"t={timestamp}", *(f"v1={sign(body, s, timestamp)}" for s in signing_secrets)]
    )


def account() -> dict[str, Any]:
    """The played account: its secret key and the endpoint's signing secret(s)."""
    configured = shop_settings("stripe") or {}
    webhook = configured.get("WEBHOOK_SECRET") or []
    listed = [webhook] if isinstance(webhook, str) else [str(s) for s in webhook if s]
    return {"SECRET_KEY": str(configured.get("SECRET_KEY") or ""), "WEBHOOK_SECRETS": listed}


def _error(
    status: int, message: str, kind: str = "invalid_request_error", **extra: str
) -> HttpResponse:
    return JsonResponse({"error": {"type": kind, "message": message, **extra}}, status=status)


def _invalid(message: str) -> HttpResponse:
    return _error(400, message)


class StripeStandIn(StandIn):
    slug = "stripe"
    display_name = "Stripe"
    endpoints = {"API_URL": "api"}
    verified_by = "signature"
    statuses = {
        APPROVED: "checkout.session.completed",
        DECLINED: "checkout.session.async_payment_failed",
        CANCELLED: "checkout.session.expired",
    }
    accent = "#635bff"
    tamper_hint = (
        "amount_total is changed on the way to the shop, after Stripe signed the event: "
        "the Stripe-Signature no longer matches, so the shop must reject it."
    )

    def urlpatterns(self) -> list[URLPattern]:
        return [
            path("", api_root, name="api"),
            path("v1/checkout/sessions", sessions, name="sessions"),
            path("v1/checkout/sessions/<str:session_id>", session, name="session"),
        ]

    # -- the session's parameters -------------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        problems = Problems(fields)
        problems.check(fields.get("mode") == "payment", "mode must be payment.")
        item = "line_items[0]"
        price = f"{item}[price_data]"
        currency = fields.get(f"{price}[currency]", "")
        problems.check(
            bool(re.fullmatch("[a-z]{3}", currency)), f"{price}[currency] is not a currency."
        )
        unit = fields.get(f"{price}[unit_amount]", "")
        quantity = fields.get(f"{item}[quantity]", "")
        problems.check(
            unit.isascii() and unit.isdigit() and int(unit) > 0 and len(unit) <= 12,
            f"{price}[unit_amount] must be a positive integer in minor units.",
        )
        problems.check(
            quantity.isascii() and quantity.isdigit() and 0 < int(quantity or 0) < 1000,
            f"{item}[quantity] must be a positive integer.",
        )
        name = fields.get(f"{price}[product_data][name]", "")
        problems.check(bool(name), f"{price}[product_data][name] is required.")
        reference = fields.get("client_reference_id", "") or fields.get("metadata[reference]", "")
        problems.check(len(reference) <= 200, "client_reference_id is longer than 200.")
        success = problems.http_url("success_url")
        problems.http_url("cancel_url")
        problems.raise_if_any("Stripe refuses this Checkout Session")
        scale = Decimal(1).scaleb(-stripe_exponent(currency))
        each = (Decimal(int(unit)) * scale).quantize(scale)
        return Order(
            merchant=MERCHANT,
            reference=reference,
            currency=currency.upper(),
            total=each * int(quantity),
            items=(Item(name, int(quantity), each),),
            notify_url=fields.get("webhook_url") or api_kit.webhook_endpoint(self.slug, success),
            return_url=success,
            cancel_url=fields.get("cancel_url", ""),
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.lower()
        minor = amount.scaleb(stripe_exponent(currency))
        return {
            "mode": "payment",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": currency,
            "line_items[0][price_data][unit_amount]": str(int(minor)),
            "line_items[0][price_data][product_data][name]": f"Order {reference}",
            "client_reference_id": reference,
            "metadata[reference]": reference,
        }

    # -- the session and its events -------------------------------------------------------------

    def session(
        self,
        fields: Mapping[str, str],
        *,
        status: str = "open",
        payment_status: str = "unpaid",
        amount: Decimal | None = None,
        currency: str | None = None,
        payment_intent: str | None = None,
        livemode: bool = False,
    ) -> dict[str, Any]:
        order = self.check_form(fields)
        currency = (currency or order.currency).lower()
        total = order.total if amount is None else amount
        minor = int(total.scaleb(stripe_exponent(currency)))
        metadata = {
            key[len("metadata[") : -1]: value
            for key, value in fields.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        return {
            "id": fields.get("id") or stripe_id("cs_test_"),
            "object": "checkout.session",
            "amount_subtotal": minor,
            "amount_total": minor,
            "cancel_url": fields.get("cancel_url") or None,
            "client_reference_id": fields.get("client_reference_id") or None,
            "created": int(time.time()),
            "currency": currency,
            "customer_email": fields.get("customer_email") or None,
            "livemode": livemode,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": payment_intent,
            "payment_status": payment_status,
            "status": status,
            "success_url": fields.get("success_url") or None,
            "url": fields.get("url") or None,
        }

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        amount, transaction_id = vary.amount, vary.transaction_id
        kind = self.statuses[status]
        intent = None if status == CANCELLED else transaction_id or stripe_id("pi_")
        session = self.session(
            fields,
            status="expired" if status == CANCELLED else "complete",
            payment_status="paid" if status == APPROVED else "unpaid",
            amount=amount,
            currency=vary.currency,
            payment_intent=intent,
            livemode=not vary.test,
        )
        session["url"] = None
        event = {
            "id": stripe_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": session},
            "livemode": not vary.test,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        body = json.dumps(event, indent=2).encode()
        played = account()["WEBHOOK_SECRETS"]
        # Another account's endpoint has its own secret.
        signing_secrets = [f"whsec_{vary.receiver}"] if vary.receiver else played
        header = signature_header(body, signing_secrets, int(time.time()))
        return Message(
            body=body,
            transaction_id=intent or session["id"],
            status=kind,
            content_type="application/json; charset=utf-8",
            headers={
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )

    signs_time = True

    def stale(self, message: Message) -> Message:
        """The same event signed ten minutes ago: past the shop's 300 s tolerance."""
        header = signature_header(
            message.body, account()["WEBHOOK_SECRETS"], int(time.time()) - STALE_SECONDS
        )
        return replace(message, headers={**message.headers, "Stripe-Signature": header})

    def tamper(self, message: Message) -> Message:
        """amount_total changed in the bytes; the signature stays Stripe's."""
        return api_kit.change_json_integer(message, "amount_total")

    def forge(self, message: Message) -> Message:
        """The same event with v1 signatures Stripe never made (same length)."""
        header = message.headers.get("Stripe-Signature", "")
        forged = re.sub(r"v1=([0-9a-f]+)", lambda m: "v1=" + "0" * len(m.group(1)), header)
        return replace(message, headers={**message.headers, "Stripe-Signature": forged})

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        url = fields.get("success_url", "")
        return url.replace("{CHECKOUT_SESSION_ID}", fields.get("id", ""))

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return fields.get("cancel_url", "")


stand_in = StripeStandIn()


# -- the API ------------------------------------------------------------------------------------


@api_kit.api_view
def api_root(request: HttpRequest) -> HttpResponse:
    return _error(404, f"Unrecognized request URL ({request.method}: {request.path}).")


def _authorize(request: HttpRequest) -> None:
    """The played account's secret key as the Bearer token, else Stripe's 401."""
    expected = str(api_kit.account_or_refuse(account, _error)["SECRET_KEY"])
    key = api_kit.bearer_token(request)
    if not key:
        raise api_kit.Refusal(_error(401, "You did not provide an API key."))
    if not api_kit.same_secret(key, expected):
        # Stripe shows the key's last four characters only.
        raise api_kit.Refusal(_error(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}"))


@api_kit.api_view
def sessions(request: HttpRequest) -> HttpResponse:
    """``POST /v1/checkout/sessions``: create the session, remember it for the page."""
    if request.method != "POST":
        return _error(405, "Use POST to create a Checkout Session.")
    _authorize(request)
    try:
        params = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return _error(400, "The request body is not UTF-8.")
    key = request.headers.get("Idempotency-Key", "")
    first = api_kit.first_with(stand_in.slug, "idempotency_key", key)
    if first is not None:
        if api_kit.asked(first, _OURS) != params:
            return _error(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.",
                kind="idempotency_error",
            )
        response = JsonResponse(stand_in.session(first.fields))
        response["Idempotent-Replayed"] = "true"
        return response
    order = api_kit.checked_order(stand_in, params, _invalid)
    if not order.return_url:
        return _invalid("success_url is required.")
    api_kit.refuse_foreign_target(stand_in, order, _invalid)
    session_id = stripe_id("cs_test_")
    fields = {
        **params,
        "id": session_id,
        "url": api_kit.hosted_page(request, stand_in.slug, session_id),
        "webhook_url": order.notify_url,
        "idempotency_key": key,
    }
    api_kit.keep(stand_in.slug, session_id, fields)
    return JsonResponse(stand_in.session(fields))


# What the sandbox adds to a session's parameters when it keeps them.
_OURS = frozenset({"id", "url", "webhook_url", "idempotency_key"})


@api_kit.api_view
def session(request: HttpRequest, session_id: str) -> HttpResponse:
    """``GET /v1/checkout/sessions/{id}``: the session as it stands now."""
    if request.method != "GET":
        return _error(405, "Use GET to retrieve a Checkout Session.")
    _authorize(request)
    checkout = api_kit.stored(stand_in.slug, session_id)
    if checkout is None:
        return _error(
            404,
            f"No such checkout.session: '{session_id[:80]}'",
            code="resource_missing",
            param="session",
        )
    return JsonResponse(_as_it_stands(checkout))


def _as_it_stands(checkout: "Checkout") -> dict[str, Any]:
    """The session's state from the customer's decision and the event it sent."""
    fields = checkout.fields
    created = int(checkout.created_at.timestamp())
    if checkout.decision == "approved":
        sent = api_kit.last_sent(checkout, authentic=True)
        if sent is not None:  # the very session the event carried
            found = json.loads(bytes(sent.body))["data"]["object"]
        else:  # the event was tampered with on the way: Stripe's record is as asked
            found = stand_in.session(fields, status="complete", payment_status="paid")
            found["payment_intent"] = stripe_id("pi_")
            found["url"] = None
    elif checkout.decision == "declined":
        found = stand_in.session(fields, status="complete", payment_status="unpaid")
        found["url"] = None
    elif timezone.now().timestamp() >= created + SESSION_LIFETIME:
        found = stand_in.session(fields, status="expired")
        found["url"] = None
    else:  # not decided, or cancelled: Stripe keeps it open until it expires
        found = stand_in.session(fields)
    found["created"], found["expires_at"] = created, created + SESSION_LIFETIME
    return found
