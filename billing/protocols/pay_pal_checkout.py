"""PayPal Checkout: an order created with the Orders API v2, captured on the customer's
return, and webhooks confirmed by PayPal's verify-webhook-signature call.

SPEC: as documented at developer.paypal.com (checked 2026-12): "Orders v2" (the
OpenAPI schema ``sdk/orders/v2/schema.json``, version 2.32: ``POST /v2/checkout/orders``,
``GET /v2/checkout/orders/{id}``, ``POST /v2/checkout/orders/{id}/capture``),
"Authentication" (``POST /v1/oauth2/token``, client credentials), "Idempotency"
(``PayPal-Request-Id``), "Webhook event names" (Payments v2) and "Webhooks v1"
(``POST /v1/notifications/verify-webhook-signature``, ``verify_webhook_signature``
definition).

- The host alone decides the mode: live ``https://api-m.paypal.com``, sandbox
  ``https://api-m.sandbox.paypal.com``. Credentials and webhook ids are per environment.
- A token: ``POST /v1/oauth2/token`` with HTTP Basic ``CLIENT_ID:CLIENT_SECRET`` and
  ``grant_type=client_credentials``; ``{access_token, expires_in}``. Cached per account
  (API URL, client id, secret) until a minute before it expires; a 401 with a cached
  token asks for a new one once. Never logged.
- The order: ``intent`` CAPTURE, one purchase unit whose ``reference_id`` and
  ``custom_id`` are the shop's reference (``custom_id``, at most 127 characters, is
  echoed on the capture and its webhooks), ``amount {currency_code, value}`` as a
  decimal string (no decimals for HUF, JPY, TWD), and the return and cancel URLs in
  ``payment_source.paypal.experience_context`` (the current place; the legacy
  ``application_context`` is deprecated). ``PayPal-Request-Id`` is the idempotency key.
  The answer's ``payer-action`` link (``approve`` for an order created without
  ``payment_source``) is where the customer goes.
- The return: ``return_url?token=<order id>&PayerID=...``; the shop captures with
  ``PayPal-Request-Id: billing-capture-<order id>``, so a repeated return, a retry or a
  race with reconciliation captures at most once (PayPal replays the first answer). 422
  ``ORDER_ALREADY_CAPTURED``: the order is fetched instead.
- Webhooks: ``{id: "WH-...", event_type, resource_type, resource, ...}``. Read here:
  ``PAYMENT.CAPTURE.COMPLETED`` / ``PENDING`` / ``DENIED`` / ``DECLINED`` (the resource
  is the capture) and ``PAYMENT.CAPTURE.REFUNDED`` / ``REVERSED`` (the resource is the
  refund). Confirmed by PayPal: the ``PAYPAL-TRANSMISSION-ID`` / ``-TIME`` / ``-SIG``,
  ``PAYPAL-CERT-URL`` and ``PAYPAL-AUTH-ALGO`` headers, the account's ``WEBHOOK_ID`` and
  the event, posted to verify-webhook-signature; ``SUCCESS`` is valid, ``FAILURE`` is
  not, and no answer raises VerificationUnavailable (retried, never accepted). The
  event is embedded in that request byte for byte as received (PayPal signs a CRC32 of
  the exact body; a re-serialised event is another body).
- The capture and fetched orders are the shop's own requests to PayPal, over TLS, with
  its token: authentic by construction, for the kinds billing stores them as
  (``FETCHED_KINDS``), never for anything posted to notify/.
- One event, one key: a capture's ``transaction_id`` is the capture id and its
  ``gateway_status`` ``capture:<status>`` whether it came in the capture's answer, a
  fetched order or a webhook, so the return and the webhook racing apply it once.

Plain Python: no Django; the HTTP client comes in with the account.
"""

import base64
import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ..exceptions import InvalidData, MalformedNotification, VerificationUnavailable
from ..money import currency_code, exact_amount
from . import http_api
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    agreed,
    empty_reply,
    flat_fields,
    header,
    limited,
    parse_amount,
    verdict,
)

SPEC = (
    "PayPal Orders API v2 (OpenAPI 2.32), OAuth2 client credentials, Payments v2 webhooks "
    "confirmed by Webhooks v1 verify-webhook-signature (developer.paypal.com, 2026-12)"
)
LIVE_API_URL = "https://api-m.paypal.com"
TEST_API_URL = "https://api-m.sandbox.paypal.com"
TOKEN_PATH = "/v1/oauth2/token"
ORDERS_PATH = "/v2/checkout/orders"
VERIFY_PATH = "/v1/notifications/verify-webhook-signature"

TRANSMISSION_ID = "PAYPAL-TRANSMISSION-ID"
TRANSMISSION_TIME = "PAYPAL-TRANSMISSION-TIME"
TRANSMISSION_SIG = "PAYPAL-TRANSMISSION-SIG"
CERT_URL = "PAYPAL-CERT-URL"
AUTH_ALGO = "PAYPAL-AUTH-ALGO"
TRANSMISSION_HEADERS = (TRANSMISSION_ID, TRANSMISSION_TIME, TRANSMISSION_SIG, CERT_URL, AUTH_ALGO)
# The verify_webhook_signature definition's limits on what the shop forwards.
_HEADER_LIMITS = {
    TRANSMISSION_ID: 50,
    TRANSMISSION_TIME: 100,
    TRANSMISSION_SIG: 500,
    CERT_URL: 500,
    AUTH_ALGO: 100,
}

# The kinds billing stores its own requests' answers as (pipeline.process_fetched):
# the capture on the customer's return, and an order fetched (reconciliation).
FETCHED_KINDS = frozenset({"capture", "fetch"})

# PayPal's currencies without decimals ("Currency codes").
ZERO_DECIMAL = frozenset({"HUF", "JPY", "TWD"})

CAPTURE_EVENTS = frozenset(
    {
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.PENDING",
        "PAYMENT.CAPTURE.DENIED",
        "PAYMENT.CAPTURE.DECLINED",
    }
)
REFUND_EVENTS = {
    "PAYMENT.CAPTURE.REFUNDED": Status.REFUNDED,
    "PAYMENT.CAPTURE.REVERSED": Status.REVERSED,
}
CAPTURE_STATUS = {
    "COMPLETED": Status.PAID,
    "PENDING": Status.PENDING,
    "DECLINED": Status.FAILED,
    "FAILED": Status.FAILED,
    "REFUNDED": Status.REFUNDED,
}
# An order not captured yet says nothing to apply; VOIDED ends it.
ORDER_STATUS = {"VOIDED": Status.CANCELLED}

# Experience settings a shop may give through add_fields, and purchase-unit extras.
EXPERIENCE_EXTRAS = frozenset({"brand_name", "locale", "landing_page", "shipping_preference"})
UNIT_EXTRAS = frozenset({"invoice_id", "soft_descriptor"})
_OWN = frozenset({"reference", "amount", "currency", "description", "return_url", "cancel_url"})
_ORDER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9]{1,50}")
_SECRET_LIKE = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")


class PayPalApiError(http_api.GatewayApiError):
    """PayPal's API did not do what was asked. The message is safe to log: it names the
    failure (timeout, HTTP status, PayPal's error name and issue), never a credential."""

    secret_like = _SECRET_LIKE
    secret_joiner = " "

    def __init__(self, message: str, *, retryable: bool, status: int = 0, issue: str = "") -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.issue = issue


def check_webhook_id(value: object) -> None:
    if not isinstance(value, str) or not _WEBHOOK_ID.fullmatch(value):
        raise InvalidData("must be the webhook's id from the app's dashboard (letters, digits)")


def valid_order_id(value: str) -> bool:
    return bool(_ORDER_ID.fullmatch(value))


# -- money --------------------------------------------------------------------------------


def money_value(amount: Decimal, currency: str) -> str:
    """PayPal's decimal string: two decimals, none for HUF, JPY and TWD."""
    places = 0 if currency in ZERO_DECIMAL else 2
    scaled = amount.quantize(Decimal(1).scaleb(-places))
    if scaled != amount:
        raise InvalidData(f"PayPal cannot charge {amount} {currency}: finer than its unit")
    return f"{scaled:f}"


# -- the token ------------------------------------------------------------------------------

_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
TOKEN_MARGIN_SECONDS = 60


def api_url(account: Account) -> str:
    return http_api.endpoint_url(account)


def _token_key(account: Account) -> tuple[str, str, str]:
    secret = hashlib.sha256(account["CLIENT_SECRET"].encode("utf-8")).hexdigest()
    return (api_url(account), account["CLIENT_ID"], secret)


def forget_tokens() -> None:
    with _tokens_lock:
        _tokens.clear()


def access_token(account: Account, *, renew: bool = False) -> str:
    """The account's bearer token: cached until shortly before it expires."""
    key = _token_key(account)
    now = time.monotonic()
    with _tokens_lock:
        cached = _tokens.get(key)
        if cached is not None and not renew and cached[1] > now:
            return cached[0]
    client = _client(account)
    basic = base64.b64encode(f"{account['CLIENT_ID']}:{account['CLIENT_SECRET']}".encode()).decode(
        "ascii"
    )
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    # Asking for a token changes nothing: one retry.
    response = http_api.send_twice(
        functools.partial(
            client.post,
            api_url(account) + TOKEN_PATH,
            content=b"grant_type=client_credentials",
            headers=headers,
        ),
        retry_error=http_api.any_failure,
        error=lambda exc: PayPalApiError(
            f"PayPal's token endpoint could not be reached ({type(exc).__name__})",
            retryable=True,
        ),
        retry_answer=lambda response: response.status_code >= 500,
    )
    if response.status_code != 200:
        raise PayPalApiError(
            _describe(response, "PayPal refused a token"),
            retryable=response.status_code != 401,
            status=response.status_code,
        )
    try:
        data = response.json()
        token, expires = str(data["access_token"]), int(data.get("expires_in", 0))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise PayPalApiError("PayPal's token answer is not a token", retryable=True) from None
    if not token:
        raise PayPalApiError("PayPal's token answer is empty", retryable=True)
    with _tokens_lock:
        _tokens[key] = (token, now + max(expires - TOKEN_MARGIN_SECONDS, 0))
    return token


def _client(account: Account) -> httpx.Client:
    if account.client is None:
        raise PayPalApiError("no HTTP client", retryable=False)
    return account.client


def _describe(response: httpx.Response, text: str) -> str:
    text = f"{text}: HTTP {response.status_code}"
    name, issue = _error(response)
    return f"{text} {name} {issue}".rstrip()


def _error(response: httpx.Response) -> tuple[str, str]:
    """PayPal's error ``name`` and the first ``details[].issue``."""
    data = http_api.answer_or_none(response)
    if data is None:
        return "", ""
    name = str(data.get("name") or data.get("error") or "")[:64]
    details = data.get("details")
    issue = ""
    if isinstance(details, list) and details and isinstance(details[0], dict):
        issue = str(details[0].get("issue") or "")[:64]
    return name, issue


def call(
    account: Account,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    request_id: str = "",
    retry: bool = True,
) -> httpx.Response:
    """One API call with the account's token (renewed once on a 401). Retried once, with
    the same PayPal-Request-Id, when PayPal could not be reached or answered 429/5xx
    and ``retry`` (GETs, and calls that carry a request id). Raises PayPalApiError."""
    client = _client(account)
    url = api_url(account) + path
    renewed = False
    attempt = 0
    while True:
        attempt += 1
        headers = {
            "Authorization": f"Bearer {access_token(account, renew=renewed)}",
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Prefer"] = "return=representation"
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        # Not http_api.send_twice: a renewed token's request counts as the retry.
        response = http_api.send_once(
            functools.partial(client.request, method, url, content=body, headers=headers),
            may_retry=retry and attempt == 1,
            retry_error=http_api.not_read_timeout,
            error=_unreachable,
        )
        if response is None:
            continue
        if response.status_code == 401 and not renewed:
            renewed = True
            continue
        if (response.status_code == 429 or response.status_code >= 500) and retry and attempt == 1:
            continue
        return response


def _unreachable(exc: httpx.HTTPError) -> PayPalApiError:
    return PayPalApiError(http_api.failure_text("PayPal", exc), retryable=True)


# -- the order ------------------------------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    """The order's parameters, flat (``order_body`` makes the JSON PayPal is sent).

    ``fields``: reference, amount, currency, description, return_url, cancel_url, and
    the shop's extras: ``brand_name``, ``locale``, ``landing_page``,
    ``shipping_preference`` (default NO_SHIPPING), ``invoice_id``, ``soft_descriptor``.
    """
    reference = str(fields.get("reference") or "")
    if not reference:
        raise InvalidData("PayPal Checkout needs a reference")
    if len(reference) > 127:
        raise InvalidData("PayPal's custom_id holds at most 127 characters: a shorter reference")
    currency = currency_code(fields.get("currency", ""))
    amount = exact_amount(Decimal(str(fields.get("amount", ""))), currency)
    description = (str(fields.get("description") or "") or f"Order {reference}")[:127]
    params = {
        "intent": "CAPTURE",
        "reference_id": reference,
        "custom_id": reference,
        "currency_code": currency,
        "value": money_value(amount, currency),
        "description": description,
        "return_url": str(fields["return_url"]),
        "cancel_url": str(fields["cancel_url"]),
        "user_action": "PAY_NOW",
        "shipping_preference": "NO_SHIPPING",
    }
    for key, value in fields.items():
        if key in _OWN or key == "notify_url" or value is None:
            continue  # webhooks are registered per app, not per order
        if key not in EXPERIENCE_EXTRAS | UNIT_EXTRAS:
            raise InvalidData(
                f"PayPal Checkout takes {', '.join(sorted(EXPERIENCE_EXTRAS | UNIT_EXTRAS))} "
                f"from add_fields, not {key!r}"
            )
        params[key] = str(value)[:127]
    return params


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    return PaymentTerms(
        form["reference_id"], Decimal(form["value"]), form["currency_code"], receiver=""
    )


def order_body(params: Mapping[str, str]) -> bytes:
    unit: dict[str, Any] = {
        "reference_id": params["reference_id"],
        "custom_id": params["custom_id"],
        "description": params["description"],
        "amount": {"currency_code": params["currency_code"], "value": params["value"]},
    }
    unit.update({key: params[key] for key in sorted(UNIT_EXTRAS) if params.get(key)})
    experience = {
        key: params[key]
        for key in ("return_url", "cancel_url", "user_action", *sorted(EXPERIENCE_EXTRAS))
        if params.get(key)
    }
    order = {
        "intent": params["intent"],
        "purchase_units": [unit],
        "payment_source": {"paypal": {"experience_context": experience}},
    }
    return json.dumps(order, separators=(",", ":")).encode("utf-8")


def create_session(
    params: Mapping[str, str], account: Account, *, idempotency_key: str
) -> dict[str, str]:
    """``POST /v2/checkout/orders``: the order's ``id`` and the customer's ``url``."""
    response = call(
        account, "POST", ORDERS_PATH, body=order_body(params), request_id=idempotency_key
    )
    if response.status_code not in (200, 201):
        name, issue = _error(response)
        raise PayPalApiError(
            _describe(response, "PayPal did not create the order"),
            retryable=response.status_code == 429 or response.status_code >= 500,
            status=response.status_code,
            issue=issue,
        )
    data = http_api.answer_object(
        response,
        no_json="PayPal answered without JSON",
        no_object="PayPal's answer is no order",
        error=lambda message: PayPalApiError(message, retryable=True),
    )
    order_id = data.get("id")
    if not isinstance(order_id, str) or not valid_order_id(order_id):
        raise PayPalApiError("PayPal's answer has no order id", retryable=True)
    url = _approval_link(data.get("links"))
    if not url:
        raise PayPalApiError("PayPal's answer has no payer-action or approve link", retryable=True)
    units = data.get("purchase_units")
    if isinstance(units, list) and units and isinstance(units[0], dict):
        amount = units[0].get("amount")
        if isinstance(amount, dict) and (
            amount.get("value") != params["value"]
            or amount.get("currency_code") != params["currency_code"]
        ):
            raise PayPalApiError("the order PayPal made is for another amount", retryable=False)
    return {"id": order_id, "url": url}


def _approval_link(links: object) -> str:
    if not isinstance(links, list):
        return ""
    found = {
        link.get("rel"): link.get("href")
        for link in links
        if isinstance(link, dict) and isinstance(link.get("href"), str)
    }
    for rel in ("payer-action", "approve"):
        url = found.get(rel)
        if http_api.is_web_url(url):
            return url
    return ""


def capture_request_id(order_id: str) -> str:
    """One per order: however often the capture is asked for, PayPal captures once."""
    return f"billing-capture-{order_id}"


def capture(order_id: str, account: Account) -> bytes | None:
    """``POST /v2/checkout/orders/{id}/capture``: the captured order's JSON; the order
    fetched when another path captured it first; None when there is nothing to capture
    (not approved, declined, unknown). Raises VerificationUnavailable when PayPal cannot
    be asked."""
    path = f"{ORDERS_PATH}/{quote(order_id, safe='')}/capture"
    try:
        response = call(account, "POST", path, body=b"{}", request_id=capture_request_id(order_id))
    except PayPalApiError as exc:
        raise VerificationUnavailable(str(exc)) from None
    if response.status_code in (200, 201):
        return _order_json(response)
    _, issue = _error(response)
    if response.status_code == 422 and issue == "ORDER_ALREADY_CAPTURED":
        return fetch_order(order_id, account)
    if response.status_code in (400, 404, 422):
        return None  # INSTRUMENT_DECLINED, ORDER_NOT_APPROVED, RESOURCE_NOT_FOUND ...
    raise VerificationUnavailable(_describe(response, "PayPal did not capture"))


def fetch_order(order_id: str, account: Account) -> bytes | None:
    """``GET /v2/checkout/orders/{id}``: the order's JSON, None for an unknown order."""
    path = f"{ORDERS_PATH}/{quote(order_id, safe='')}"
    try:
        response = call(account, "GET", path)
    except PayPalApiError as exc:
        raise VerificationUnavailable(str(exc)) from None
    if response.status_code == 200:
        return _order_json(response)
    if response.status_code == 404:
        return None
    raise VerificationUnavailable(_describe(response, "PayPal did not answer the order"))


def order_status(body: bytes) -> str:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    return str(data.get("status") or "") if isinstance(data, dict) else ""


def _order_json(response: httpx.Response) -> bytes:
    data = http_api.answer_object(
        response,
        no_json="PayPal answered without JSON",
        no_object="PayPal's answer is no order",
        error=VerificationUnavailable,
    )
    if not isinstance(data.get("id"), str):
        raise VerificationUnavailable("PayPal's answer is no order")
    return response.content


# -- reading ----------------------------------------------------------------------------------


def read(inbound: Inbound) -> dict[str, str]:
    """A webhook event (``event.`` fields) or, for what billing fetched itself, an order
    (``order.`` fields); ``shape`` says which (no JSON key can make an unprefixed name)."""
    data = http_api.load_json(inbound.body, "not PayPal's JSON")
    if not isinstance(data, dict):
        raise MalformedNotification("not a PayPal event or order")
    fetched = http_api.fetched_by_us(inbound, FETCHED_KINDS)
    shape = "order" if fetched else "event"
    fields = {"shape": shape}
    fields.update(flat_fields(data, shape, max_depth=16))
    required = ("id", "status") if fetched else ("id", "event_type", "resource.id")
    for name in required:
        if not fields.get(f"{shape}.{name}"):
            raise MalformedNotification(f"not a PayPal {shape}: no {name}")
    return fields


def verification_request(inbound: Inbound, webhook_id: str) -> bytes | None:
    """The verify-webhook-signature request: the transmission headers, the webhook id,
    and the event as received, byte for byte. None when a header is missing or too long
    (nothing to ask PayPal)."""
    values = {}
    for name in TRANSMISSION_HEADERS:
        value = header(inbound.headers, name).strip()
        if not value or len(value) > _HEADER_LIMITS[name]:
            return None
        values[name] = value
    head = {
        "auth_algo": values[AUTH_ALGO],
        "cert_url": values[CERT_URL],
        "transmission_id": values[TRANSMISSION_ID],
        "transmission_sig": values[TRANSMISSION_SIG],
        "transmission_time": values[TRANSMISSION_TIME],
        "webhook_id": webhook_id,
    }
    prefix = json.dumps(head, separators=(",", ":"))[:-1].encode("utf-8")
    return prefix + b',"webhook_event":' + bytes(inbound.body) + b"}"


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    if fields.get("shape") == "order":
        # Our own request's answer (a capture, a fetched order): authentic by construction,
        # and only ever stored by billing under these kinds.
        return verdict(http_api.fetched_by_us(inbound, FETCHED_KINDS))
    if inbound.kind in FETCHED_KINDS:
        return Verification.INVALID  # billing fetches orders, never events
    request = verification_request(inbound, account["WEBHOOK_ID"])
    if request is None:
        return Verification.INVALID
    try:
        response = call(account, "POST", VERIFY_PATH, body=request)
    except PayPalApiError as exc:
        raise VerificationUnavailable(str(exc)) from None
    if response.status_code in (400, 422):
        return Verification.INVALID  # PayPal refused the transmission's headers
    if response.status_code != 200:
        raise VerificationUnavailable(_describe(response, "PayPal did not verify"))
    try:
        answer = response.json().get("verification_status")
    except (ValueError, AttributeError, RecursionError):
        raise VerificationUnavailable("PayPal's verification answer is not JSON") from None
    if answer == "SUCCESS":
        return Verification.VALID
    if answer == "FAILURE":
        return Verification.INVALID
    raise VerificationUnavailable("PayPal's verification answer names no status")


# -- in the library's words ---------------------------------------------------------------------


def _money(fields: Mapping[str, str], prefix: str) -> tuple[Decimal | None, str]:
    currency = fields.get(f"{prefix}.currency_code", "").upper()
    return parse_amount(fields.get(f"{prefix}.value", ""), "amount"), limited(
        currency, "currency", 3
    )


def _one(fields: Mapping[str, str], *names: str) -> str:
    """The reference, under each name billing gave it: they agree."""
    return agreed(fields, names, "the references disagree")


def captured_id(fields: Mapping[str, str], prefix: str) -> str:
    """The capture a refund belongs to: its ``up`` link (``.../captures/<id>``)."""
    i = 0
    while f"{prefix}.links.{i}.href" in fields:
        if fields.get(f"{prefix}.links.{i}.rel") == "up":
            path = urlsplit(fields[f"{prefix}.links.{i}.href"]).path
            if "/captures/" in path:
                return path.rstrip("/").rpartition("/")[2]
        i += 1
    return ""


def _notice(
    fields: Mapping[str, str],
    account: Account,
    integration: str,
    *,
    reference: str,
    transaction_id: str,
    money: tuple[Decimal | None, str],
    status: Status,
    gateway_status: str,
) -> Notification:
    """A notification in the account's mode (the host decides it), naming no receiver
    (the account's own token proves it)."""
    amount, currency = money
    return Notification(
        integration=integration,
        reference=reference,
        transaction_id=transaction_id,
        amount=amount,
        currency=currency,
        status=status,
        gateway_status=gateway_status,
        test=account.test,
        raw=dict(fields),
        receiver="",
    )


def _capture(
    fields: Mapping[str, str],
    prefix: str,
    integration: str,
    account: Account,
    refs: Mapping[str, str] | None = None,
) -> Notification:
    refs = refs or {}
    status_word = fields.get(f"{prefix}.status", "")
    money = _money(fields, f"{prefix}.amount")
    return _notice(
        fields,
        account,
        integration,
        reference=_one({**fields, **refs}, f"{prefix}.custom_id", *refs),
        transaction_id=limited(fields.get(f"{prefix}.id", ""), "capture id"),
        money=money,
        status=CAPTURE_STATUS.get(status_word, Status.UNKNOWN),
        gateway_status=limited(f"capture:{status_word}", "status"),
    )


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    if fields.get("shape") == "order":
        return _order_notification(fields, account, integration)
    kind = fields.get("event.event_type", "")
    resource = "event.resource"
    if kind in CAPTURE_EVENTS:
        return _capture(fields, resource, integration, account)
    if kind in REFUND_EVENTS:
        money = _money(fields, f"{resource}.amount")
        word = fields.get(f"{resource}.status", "")
        done = word in ("COMPLETED", "REFUNDED", "REVERSED")
        label = "refund" if kind.endswith("REFUNDED") else "reversal"
        return _notice(
            fields,
            account,
            integration,
            reference=_one(fields, f"{resource}.custom_id"),
            transaction_id=limited(fields[f"{resource}.id"], "refund id"),
            money=money,
            status=REFUND_EVENTS[kind] if done else Status.UNKNOWN,
            gateway_status=limited(f"{label}:{word}", "status"),
        )
    return _notice(
        fields,
        account,
        integration,
        reference="",
        transaction_id=limited(fields.get("event.id", ""), "event id"),
        money=(None, ""),
        status=Status.UNKNOWN,
        gateway_status=limited(kind, "event type"),
    )


def _order_notification(
    fields: Mapping[str, str], account: Account, integration: str
) -> Notification:
    unit = "order.purchase_units.0"
    refs = {
        name: fields[name]
        for name in (f"{unit}.reference_id", f"{unit}.custom_id")
        if fields.get(name)
    }
    if f"{unit}.payments.captures.0.id" in fields:
        return _capture(fields, f"{unit}.payments.captures.0", integration, account, refs)
    word = fields.get("order.status", "")
    money = _money(fields, f"{unit}.amount")
    return _notice(
        fields,
        account,
        integration,
        reference=_one(fields, *refs),
        transaction_id=limited(fields.get("order.id", ""), "order id"),
        money=money,
        status=ORDER_STATUS.get(word, Status.UNKNOWN),
        gateway_status=limited(f"order:{word}", "status"),
    )


reply = empty_reply
