"""PayPal Checkout, from PayPal's side: OAuth2 tokens, Orders v2, the approval page,
the capture, signed webhooks and verify-webhook-signature.

Written from PayPal's public references (developer.paypal.com: "Authentication",
"Orders v2" create / show / capture, "Idempotency", "Webhook event names",
"verify-webhook-signature" and "Integrate webhooks"), not from
billing.protocols.pay_pal_checkout, so it can disagree with the shop's code.

- ``POST <API_URL>/v1/oauth2/token``: HTTP Basic with the played account's CLIENT_ID
  and CLIENT_SECRET (MERCHANT_SETTINGS["pay_pal_checkout"]), ``grant_type=
  client_credentials``. The token is stateless here: the expiry and an HMAC of it keyed
  with the client secret, so any process of the sandbox accepts it until it expires.
- ``POST /v2/checkout/orders``: a Bearer token; JSON with ``intent`` CAPTURE, one
  purchase unit (``amount.currency_code``, ``amount.value`` as a decimal string) and
  ``payment_source.paypal.experience_context`` (or the legacy ``application_context``)
  naming ``return_url`` and ``cancel_url``. ``PayPal-Request-Id`` replays the first
  answer. Answers 201 and the order, ``PAYER_ACTION_REQUIRED`` with a ``payer-action``
  link to the sandbox's approval page (``CREATED`` and ``approve`` without
  payment_source).
- The approval page is the shared sandbox's. Approve sends ``PAYMENT.CAPTURE.COMPLETED``
  (the sandbox decides at the page what the capture will be), Decline
  ``PAYMENT.CAPTURE.DENIED``; Cancel sends the customer to ``cancel_url?token=...`` and
  tells the shop nothing. Approve and Decline then send the customer to
  ``return_url?token=<order id>&PayerID=...``.
- ``POST /v2/checkout/orders/{id}/capture``: 201 and the order COMPLETED, with
  ``purchase_units[0].payments.captures[0]`` the capture the webhook named (same id,
  amount and status). Another capture: the first answer again for the same
  PayPal-Request-Id, else 422 ``ORDER_ALREADY_CAPTURED``. Not approved: 422
  ``ORDER_NOT_APPROVED``; declined: 422 ``INSTRUMENT_DECLINED``. With the page's tamper
  option the capture is answered ``PENDING`` (``status_details.reason``
  PENDING_REVIEW, as PayPal holds some captures), so the webhook alone decides.
- ``GET /v2/checkout/orders/{id}``: the order as it stands (APPROVED once approved and
  not captured yet).
- Webhooks go to billing's notify/ on the shop's origin (PayPal registers listeners per
  app, not per order), signed as PayPal signs: ``PAYPAL-TRANSMISSION-SIG`` is base64
  SHA256withRSA over ``<transmission id>|<time>|<webhook id>|<crc32 of the body,
  decimal>``, with this process's key, whose self-signed certificate is served at
  ``PAYPAL-CERT-URL``. Another account's event is signed for its own webhook id.
- ``POST /v1/notifications/verify-webhook-signature``: SUCCESS when the signature checks
  out for the event as posted (its raw bytes within the request), or for an event this
  sandbox sent whose JSON equals it; FAILURE otherwise.
"""

import base64
import datetime
import hashlib
import hmac
import json
import re
import string
import threading
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, reverse

from . import api_kit
from .base import (
    APPROVED,
    AS_ASKED,
    DECLINED,
    FormRejected,
    Item,
    Message,
    Order,
    StandIn,
    Variation,
    with_query,
)
from .kit import Problems, played_account

if TYPE_CHECKING:
    from ..models import Checkout, SentNotification

SLUG = "pay_pal_checkout"
MERCHANT = "PayPal sandbox business account"
CERT_NAME = "CERT-sandbox-billing-0001"
ZERO_DECIMAL = {"HUF", "JPY", "TWD"}
_ID_CHARS = string.ascii_uppercase + string.digits
_VALUE = re.compile(rb'("value": ")([0-9.]+)(")')
TOKEN_SECONDS = 32400


def paypal_id(length: int = 17) -> str:
    return api_kit.random_string(length, _ID_CHARS)


def capture_id_for(order_id: str) -> str:
    """The capture an order will have: fixed by the order, so the webhook sent at the
    decision and the capture's answer name the same one."""
    digest = hashlib.sha256(f"capture:{order_id}".encode()).digest()
    return "".join(_ID_CHARS[b % len(_ID_CHARS)] for b in digest[:17])


def account() -> dict[str, str]:
    return played_account(SLUG, "CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_ID")


# -- the signing key --------------------------------------------------------------------------

_key_lock = threading.Lock()
_key: Any = None
_cert_pem: bytes = b""


def signing_key() -> Any:
    """This process's RSA key and its self-signed certificate (made on first use)."""
    global _key, _cert_pem
    with _key_lock:
        if _key is None:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
            from cryptography.x509.oid import NameOID

            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name(
                [
                    x509.NameAttribute(
                        NameOID.COMMON_NAME, "messageverificationcerts.sandbox.paypal.test"
                    )
                ]
            )
            now = datetime.datetime.now(datetime.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365))
                .sign(key, hashes.SHA256())
            )
            _cert_pem = cert.public_bytes(serialization.Encoding.PEM)
            _key = key
        return _key


def certificate_pem() -> bytes:
    signing_key()
    return _cert_pem


def signed_message(transmission_id: str, when: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{when}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()


def sign(transmission_id: str, when: str, webhook_id: str, body: bytes) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = signed_message(transmission_id, when, webhook_id, body)
    signature = signing_key().sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def signature_holds(signature: str, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        raw = base64.b64decode(signature, validate=True)
        signing_key().public_key().verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def cert_url() -> str:
    try:
        from ..endpoints import base_url

        return base_url() + reverse(f"billing_sandbox:{SLUG}:cert", kwargs={"name": CERT_NAME})
    except Exception:  # no URLconf or settings (the CLI): PayPal's own form of it
        return f"https://api-m.sandbox.paypal.com/v1/notifications/certs/{CERT_NAME}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PayPalCheckoutStandIn(StandIn):
    slug = SLUG
    display_name = "PayPal Checkout"
    endpoints = {"API_URL": "api"}
    verified_by = "postback"  # asked of PayPal: verify-webhook-signature
    statuses = {APPROVED: "PAYMENT.CAPTURE.COMPLETED", DECLINED: "PAYMENT.CAPTURE.DENIED"}
    accent = "#003087"
    tamper_hint = (
        "The webhook's amount is changed on the way to the shop, after PayPal signed it: "
        "verify-webhook-signature answers FAILURE, so the shop must reject it (the sandbox "
        "holds this capture PENDING, so the webhook alone decides)."
    )

    def urlpatterns(self) -> list[URLPattern]:
        return [
            path("", api_root, name="api"),
            path("v1/oauth2/token", token_view, name="token"),
            path("v2/checkout/orders", orders, name="orders"),
            path("v2/checkout/orders/<str:order_id>", order_view, name="order"),
            path("v2/checkout/orders/<str:order_id>/capture", capture_view, name="capture"),
            path("v1/notifications/verify-webhook-signature", verify_view, name="verify"),
            path("v1/notifications/certs/<str:name>", cert_view, name="cert"),
        ]

    # -- the order's parameters, flat --------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        problems = Problems(fields)
        currency = fields.get("currency_code", "")
        problems.check(
            bool(re.fullmatch("[A-Z]{3}", currency)), "amount.currency_code is not a currency."
        )
        value = fields.get("value", "")
        places = r"" if currency in ZERO_DECIMAL else r"(\.[0-9]{1,2})?"
        problems.check(
            bool(re.fullmatch(r"[0-9]{1,10}" + places, value)) and _decimal(value) > 0,
            "amount.value must be a positive decimal string (no decimals in "
            f"{currency or 'this currency'}).",
        )
        reference = fields.get("custom_id", "") or fields.get("reference_id", "")
        problems.check(len(fields.get("custom_id", "")) <= 127, "custom_id is longer than 127.")
        back = problems.http_url("return_url", required=True)
        problems.http_url("cancel_url", required=True)
        problems.raise_if_any("PayPal refuses this order (UNPROCESSABLE_ENTITY)")
        total = _decimal(value)
        name = fields.get("description", "") or f"Order {reference}"
        return Order(
            merchant=MERCHANT,
            reference=reference,
            currency=currency,
            total=total,
            items=(Item(name, 1, total),),
            notify_url=fields.get("webhook_url") or api_kit.webhook_endpoint(SLUG, back),
            return_url=back,
            cancel_url=fields.get("cancel_url", ""),
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        places = 0 if currency.upper() in ZERO_DECIMAL else 2
        return {
            "intent": "CAPTURE",
            "reference_id": reference,
            "custom_id": reference,
            "currency_code": currency.upper(),
            "value": f"{amount.quantize(Decimal(1).scaleb(-places)):f}",
            "description": f"Order {reference}",
            "return_url": "http://shop.test/billing/pay_pal_checkout/return/",
            "cancel_url": "http://shop.test/billing/pay_pal_checkout/cancel/",
        }

    # -- captures and their webhooks -------------------------------------------------------------

    def capture_resource(
        self,
        fields: Mapping[str, str],
        *,
        status: str,
        amount: Decimal | None = None,
        currency: str | None = None,
        capture_id: str | None = None,
    ) -> dict[str, Any]:
        order = self.check_form(fields)
        order_id = fields.get("id") or paypal_id()
        places = 0 if order.currency in ZERO_DECIMAL else 2
        value = order.total if amount is None else amount
        resource: dict[str, Any] = {
            "id": capture_id or (capture_id_for(fields["id"]) if fields.get("id") else paypal_id()),
            "status": status,
            "amount": {
                "currency_code": currency or order.currency,
                "value": f"{value.quantize(Decimal(1).scaleb(-places)):f}",
            },
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE"},
            "custom_id": fields.get("custom_id") or None,
            "create_time": _now(),
            "update_time": _now(),
            "supplementary_data": {"related_ids": {"order_id": order_id}},
            "links": [
                {
                    "href": f"https://api-m.sandbox.paypal.com/v2/payments/captures/{order_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"https://api-m.sandbox.paypal.com/v2/checkout/orders/{order_id}",
                    "rel": "up",
                    "method": "GET",
                },
            ],
        }
        if status == "PENDING":
            resource["status_details"] = {"reason": "PENDING_REVIEW"}
        if resource["custom_id"] is None:
            del resource["custom_id"]
        return resource

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        amount, transaction_id = vary.amount, vary.transaction_id
        kind = self.statuses.get(status)
        if kind is None:
            raise FormRejected("PayPal sends no such webhook", [f"no event for {status!r}"])
        word = "COMPLETED" if status == APPROVED else "DECLINED"
        resource = self.capture_resource(
            fields, status=word, amount=amount, currency=vary.currency, capture_id=transaction_id
        )
        money = resource["amount"]
        event = {
            "id": f"WH-{paypal_id(17)}-{paypal_id(17)}",
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": "capture",
            "resource_version": "2.0",
            "event_type": kind,
            "summary": f"Payment {word.lower()} for {money['value']} {money['currency_code']}",
            "resource": resource,
            "links": [],
        }
        body = json.dumps(event, indent=2).encode()
        played = account()["WEBHOOK_ID"]
        # Another account's app has its own webhook id, which its signature covers. A
        # live event is signed by live PayPal for a live webhook: here, another one.
        webhook_id = played
        if vary.receiver:
            webhook_id = "WH" + re.sub("[^A-Za-z0-9]", "", vary.receiver)[:40]
        elif not vary.test:
            webhook_id = "LIVE" + played
        transmission_id = str(uuid.uuid4())
        when = _now()
        headers = {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": when,
            "PAYPAL-TRANSMISSION-SIG": sign(transmission_id, when, webhook_id, body),
            "PAYPAL-CERT-URL": cert_url(),
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "User-Agent": "PayPal/AUHD-214.0-58253981",
        }
        return Message(
            body=body,
            transaction_id=resource["id"],
            status=kind,
            content_type="application/json",
            headers=headers,
        )

    def tamper(self, message: Message) -> Message:
        """The capture's amount changed in the bytes; the signature stays PayPal's."""

        def other(found: re.Match[bytes]) -> bytes:
            new = b"1.00" if found.group(2) == b"0.01" else b"0.01"
            return found.group(1) + new + found.group(3)

        return replace(message, body=_VALUE.sub(other, message.body, count=1))

    def forge(self, message: Message) -> Message:
        """The same event with a signature PayPal never made (same length)."""
        given = message.headers.get("PAYPAL-TRANSMISSION-SIG", "")
        forged = base64.b64encode(b"\x00" * len(base64.b64decode(given or "AAAA"))).decode()
        return replace(message, headers={**message.headers, "PAYPAL-TRANSMISSION-SIG": forged})

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        payer = hashlib.sha256(f"payer:{fields.get('id', '')}".encode()).hexdigest()[:13].upper()
        return with_query(
            fields.get("return_url", ""), f"token={fields.get('id', '')}&PayerID={payer}"
        )

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return with_query(fields.get("cancel_url", ""), f"token={fields.get('id', '')}")


stand_in = PayPalCheckoutStandIn()


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return Decimal(0)


# -- the API ------------------------------------------------------------------------------------


def _error(status: int, name: str, message: str, issue: str = "") -> HttpResponse:
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": paypal_id(13).lower()}
    if issue:
        body["details"] = [{"issue": issue, "description": message}]
    return JsonResponse(body, status=status)


def _token_for(secret: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"token:{expires}".encode(), hashlib.sha256).hexdigest()
    return f"A21AA{expires}.{mac}"


def _not_found(status: int, message: str) -> HttpResponse:
    return _error(status, "RESOURCE_NOT_FOUND", message)


def _unprocessable(message: str) -> HttpResponse:
    return _error(422, "UNPROCESSABLE_ENTITY", message, "INVALID_PARAMETER_VALUE")


def _no_such_order() -> HttpResponse:
    return _error(
        404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID"
    )


def _played() -> dict[str, str]:
    return api_kit.account_or_refuse(account, _not_found)


def _authorize(request: HttpRequest) -> None:
    """An unexpired access token of the played app as the Bearer token, else PayPal's 401."""
    secret = _played()["CLIENT_SECRET"]
    token = api_kit.bearer_token(request)
    expires_text, _, _ = token.removeprefix("A21AA").partition(".")
    if not expires_text.isdigit() or not secret:
        raise _invalid_token("No token")
    expected = _token_for(secret, int(expires_text))
    if not api_kit.same_secret(token, expected) or int(expires_text) < time.time():
        raise _invalid_token("Token signature verification failed")


def _invalid_token(description: str) -> api_kit.Refusal:
    body = {"error": "invalid_token", "error_description": description}
    return api_kit.Refusal(JsonResponse(body, status=401))


@api_kit.api_view
def api_root(request: HttpRequest) -> HttpResponse:
    return _not_found(404, f"No resource at {request.path}.")


@api_kit.api_view
def token_view(request: HttpRequest) -> HttpResponse:
    played = _played()
    if request.method != "POST" or request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    given = api_kit.basic_credentials(request)
    expected = f"{played['CLIENT_ID']}:{played['CLIENT_SECRET']}"
    if given is None or not played["CLIENT_SECRET"] or not api_kit.same_secret(given, expected):
        return JsonResponse(
            {"error": "invalid_client", "error_description": "Client Authentication failed"},
            status=401,
        )
    expires = int(time.time()) + TOKEN_SECONDS
    return JsonResponse(
        {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": _token_for(played["CLIENT_SECRET"], expires),
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": TOKEN_SECONDS,
            "nonce": f"{_now()}{paypal_id(8)}",
        }
    )


def _order_fields(data: Mapping[str, Any]) -> dict[str, str] | str:
    """The order request, flat, as the approval page and the capture use it; or why not."""
    if data.get("intent") != "CAPTURE":
        return "intent must be CAPTURE."
    units = data.get("purchase_units")
    if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
        return "purchase_units must hold one purchase unit."
    unit = units[0]
    given = unit.get("amount")
    amount: dict[str, Any] = given if isinstance(given, dict) else {}
    source = data.get("payment_source")
    paypal = source.get("paypal") if isinstance(source, dict) else None
    context = paypal.get("experience_context") if isinstance(paypal, dict) else None
    if not isinstance(context, dict):
        legacy = data.get("application_context")
        context = legacy if isinstance(legacy, dict) else {}
    fields = {
        "intent": "CAPTURE",
        "reference_id": unit.get("reference_id"),
        "custom_id": unit.get("custom_id"),
        "invoice_id": unit.get("invoice_id"),
        "description": unit.get("description"),
        "currency_code": amount.get("currency_code"),
        "value": amount.get("value"),
        "return_url": context.get("return_url"),
        "cancel_url": context.get("cancel_url"),
        "payment_source": "paypal" if isinstance(paypal, dict) else "",
    }
    return {key: str(value) for key, value in fields.items() if isinstance(value, str | int)}


def _order_json(request: HttpRequest, fields: Mapping[str, str], status: str) -> dict[str, Any]:
    order_id = fields["id"]
    self_url = request.build_absolute_uri(
        reverse(f"billing_sandbox:{SLUG}:order", kwargs={"order_id": order_id})
    )
    unit: dict[str, Any] = {
        "reference_id": fields.get("reference_id", "default"),
        "amount": {"currency_code": fields["currency_code"], "value": fields["value"]},
    }
    for key in ("custom_id", "invoice_id", "description"):
        if fields.get(key):
            unit[key] = fields[key]
    links = [{"href": self_url, "rel": "self", "method": "GET"}]
    if status in ("CREATED", "PAYER_ACTION_REQUIRED"):
        rel = "payer-action" if fields.get("payment_source") else "approve"
        page = api_kit.hosted_page(request, SLUG, order_id)
        links.append({"href": page, "rel": rel, "method": "GET"})
    if status == "APPROVED":
        links.append({"href": self_url + "/capture", "rel": "capture", "method": "POST"})
    return {
        "id": order_id,
        "intent": "CAPTURE",
        "status": status,
        "purchase_units": [unit],
        "create_time": fields.get("create_time", _now()),
        "links": links,
    }


@api_kit.api_view
def orders(request: HttpRequest) -> HttpResponse:
    """``POST /v2/checkout/orders``: create the order, remember it for the page."""
    if request.method != "POST":
        return _error(405, "METHOD_NOT_SUPPORTED", "Use POST to create an order.")
    _authorize(request)
    request_id = request.headers.get("PayPal-Request-Id", "")
    first = api_kit.first_with(SLUG, "request_id", request_id)
    if first is not None:
        return JsonResponse(_order_json(request, first.fields, _status(first)), status=200)
    data = api_kit.json_object(request)
    if data is None:
        return _error(
            400,
            "INVALID_REQUEST",
            "The request body is not a JSON object.",
            "MALFORMED_REQUEST_JSON",
        )
    fields = _order_fields(data)
    if isinstance(fields, str):
        return _unprocessable(fields)
    order = api_kit.checked_order(stand_in, fields, _unprocessable)
    api_kit.refuse_foreign_target(stand_in, order, _unprocessable)
    order_id = paypal_id()
    kept = {
        **fields,
        "id": order_id,
        "webhook_url": order.notify_url,
        "request_id": request_id,
        "create_time": _now(),
    }
    checkout = api_kit.keep(SLUG, order_id, kept)
    return JsonResponse(_order_json(request, kept, _status(checkout)), status=201)


def _status(checkout: "Checkout") -> str:
    if checkout.fields.get("capture"):
        return "COMPLETED"
    if checkout.decision == "approved":
        return "APPROVED"
    return "PAYER_ACTION_REQUIRED" if checkout.fields.get("payment_source") else "CREATED"


@api_kit.api_view
def order_view(request: HttpRequest, order_id: str) -> HttpResponse:
    """``GET /v2/checkout/orders/{id}``."""
    _authorize(request)
    checkout = api_kit.stored(SLUG, order_id)
    if checkout is None or request.method != "GET":
        return _no_such_order()
    if checkout.fields.get("capture"):
        return JsonResponse(json.loads(checkout.fields["capture"]))
    return JsonResponse(_order_json(request, checkout.fields, _status(checkout)))


@api_kit.api_view
def capture_view(request: HttpRequest, order_id: str) -> HttpResponse:
    """``POST /v2/checkout/orders/{id}/capture``: at most one capture per order."""
    from django.db import transaction

    _authorize(request)
    if request.method != "POST":
        return _error(405, "METHOD_NOT_SUPPORTED", "Use POST to capture.")
    request_id = request.headers.get("PayPal-Request-Id", "")
    with transaction.atomic():
        checkout = api_kit.stored(SLUG, order_id, for_update=True)
        if checkout is None:
            return _no_such_order()
        fields = dict(checkout.fields)
        if fields.get("capture"):
            if request_id and request_id == fields.get("capture_request_id"):
                return JsonResponse(json.loads(fields["capture"]), status=201)
            return _error(
                422, "UNPROCESSABLE_ENTITY", "Order already captured.", "ORDER_ALREADY_CAPTURED"
            )
        if checkout.decision == "declined":
            return _error(
                422, "UNPROCESSABLE_ENTITY", "The instrument was declined.", "INSTRUMENT_DECLINED"
            )
        if checkout.decision != "approved":
            return _error(
                422,
                "UNPROCESSABLE_ENTITY",
                "The payer has not approved the order.",
                "ORDER_NOT_APPROVED",
            )
        capture = _decided_capture(fields, api_kit.last_sent(checkout))
        body = _order_json(request, fields, "COMPLETED")
        body["purchase_units"][0]["payments"] = {"captures": [capture]}
        body["payer"] = {"payer_id": stand_in.return_url(fields, None).rpartition("PayerID=")[2]}
        fields["capture"] = json.dumps(body)
        fields["capture_request_id"] = request_id
        api_kit.save_fields(checkout, fields)
    return JsonResponse(body, status=201)


def _decided_capture(fields: Mapping[str, str], sent: "SentNotification | None") -> dict[str, Any]:
    """The capture the page's decision made: the one its webhook named (the amount it
    reported included); PENDING when that webhook was tampered with on the way."""
    reported: dict[str, Any] = {}
    if sent is not None:
        try:
            reported = json.loads(bytes(sent.body)).get("resource") or {}
        except (ValueError, AttributeError):
            reported = {}
    if sent is None or not sent.authentic or not isinstance(reported, dict):
        return stand_in.capture_resource(fields, status="PENDING")
    given = reported.get("amount")
    amount: dict[str, Any] = given if isinstance(given, dict) else {}
    return stand_in.capture_resource(
        fields,
        status="COMPLETED",
        amount=_decimal(str(amount.get("value", ""))) or None,
        currency=str(amount.get("currency_code") or "") or None,
        capture_id=str(reported.get("id") or "") or None,
    )


def _top_level(body: bytes) -> dict[str, bytes]:
    """The raw bytes of each top-level member of a JSON object."""
    text = body.decode("utf-8")
    decoder = json.JSONDecoder()
    members: dict[str, bytes] = {}
    i = text.index("{") + 1
    ws = re.compile(r"[ \t\n\r]*")
    while True:
        i = ws.match(text, i).end()  # type: ignore[union-attr]
        if text[i] == "}":
            return members
        key, i = decoder.raw_decode(text, i)
        i = ws.match(text, i).end()  # type: ignore[union-attr]
        if text[i] != ":":
            raise ValueError("no colon")
        i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
        _, end = decoder.raw_decode(text, i)
        members[str(key)] = text[i:end].encode("utf-8")
        i = ws.match(text, end).end()  # type: ignore[union-attr]
        if text[i] == ",":
            i += 1


@api_kit.api_view
def verify_view(request: HttpRequest) -> HttpResponse:
    """``POST /v1/notifications/verify-webhook-signature``."""
    from ..models import SentNotification

    _authorize(request)
    data = api_kit.json_object(request)
    names = (
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
    )
    if (
        data is None
        or not all(isinstance(data.get(n), str) and data.get(n) for n in names)
        or not isinstance(data.get("webhook_event"), dict)
    ):
        return _error(
            400, "VALIDATION_ERROR", "Invalid request - see details.", "MISSING_REQUIRED_PARAMETER"
        )
    try:
        raw = _top_level(request.body).get("webhook_event", b"")
    except (ValueError, IndexError, UnicodeDecodeError):
        raw = b""
    own_cert = urlsplit(str(data["cert_url"])).path.endswith(f"/v1/notifications/certs/{CERT_NAME}")
    ok = False
    if own_cert and data["auth_algo"] == "SHA256withRSA":

        def holds(body: bytes) -> bool:
            message = signed_message(
                data["transmission_id"], data["transmission_time"], data["webhook_id"], body
            )
            return signature_holds(data["transmission_sig"], message)

        ok = bool(raw) and holds(raw)
        if not ok:  # a re-serialised event: the one this sandbox sent with that content
            event = data["webhook_event"]
            for sent in SentNotification.objects.filter(gateway=SLUG, authentic=True).order_by(
                "-pk"
            )[:200]:
                try:
                    same = json.loads(bytes(sent.body)) == event
                except ValueError:
                    same = False
                if same and holds(bytes(sent.body)):
                    ok = True
                    break
    return JsonResponse({"verification_status": "SUCCESS" if ok else "FAILURE"})


@api_kit.api_view
def cert_view(request: HttpRequest, name: str) -> HttpResponse:
    if name != CERT_NAME:
        return _error(404, "RESOURCE_NOT_FOUND", "No such certificate.")
    return HttpResponse(certificate_pem(), content_type="application/x-pem-file")
