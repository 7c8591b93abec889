"""Stripe Checkout: a Checkout Session created by API, and webhook events.

SPEC: Stripe API v1 as documented at docs.stripe.com (checked 2026-12): "Create a
Checkout Session" (``POST /v1/checkout/sessions``), "Retrieve a Checkout Session"
(``GET /v1/checkout/sessions/:id``, no parameters), "Idempotent requests", "Check the
webhook signatures" (verify manually), "Fulfill orders" (Checkout), "Supported
currencies" (minor units). No ``Stripe-Version`` header is sent: the account's default
version answers, and the fields read here (``id``, ``url``, ``amount_total``,
``currency``, ``client_reference_id``, ``metadata``, ``payment_status``,
``payment_intent``, ``livemode``; a Charge's ``amount``, ``amount_refunded``,
``payment_intent``, ``metadata``) are the same in every version since 2020.

- The session: a form-encoded body with brackets (``metadata[reference]=...``), Bearer
  secret key, ``Idempotency-Key`` header; amounts in Stripe's minor units.
- A webhook event is JSON; ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]``, where v1
  is hex HMAC-SHA256 keyed with the endpoint's ``whsec_`` secret (as UTF-8) over
  ``"<t>.<raw body>"``. Any v1 may match (several while a secret is rolled; v0 and other
  schemes are ignored); ``t`` older than 300 s is refused (only the past side, as
  Stripe's libraries check). Vectors in tests/test_stripe.py were computed with
  ``printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"``.
- The session fetched back (``fetch_session``, for reconciliation): the Checkout
  Session object as Stripe answers it, stored as a notification of kind ``"fetch"``
  (billing's own request, over TLS, with the secret key: authentic by construction, and
  only for that kind: nothing posted to notify/ is read or accepted as a session).
  ``payment_status`` ``paid`` is paid; ``status`` ``expired`` is cancelled; ``open``, or
  ``complete`` and ``unpaid`` (a delayed method still running, or failed: the session
  does not say which) changes nothing.

Plain Python: no Django; the HTTP client comes in with the account.
"""

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import urlencode

import httpx

from ..exceptions import InvalidData, MalformedNotification, VerificationUnavailable
from ..money import currency_code, exact_amount
from . import http_api
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Reply,
    Status,
    Verification,
    agreed,
    flat_fields,
    from_minor_units,
    header,
    limited,
    to_minor_units,
    verdict,
)

SPEC = "Stripe API v1: Checkout Sessions and webhook signatures (docs.stripe.com, 2026-12)"
API_URL = "https://api.stripe.com"
SESSIONS_PATH = "/v1/checkout/sessions"
SIGNATURE_HEADER = "Stripe-Signature"
# A Checkout Session billing fetched itself: the notification log's kind and method for it.
FETCH_KIND = "fetch"
FETCH_METHOD = http_api.FETCH_METHOD
SESSION_OBJECT = "checkout.session"
_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,252}")
TOLERANCE_SECONDS = 300

# Stripe's minor units (docs "Supported currencies"): zero-decimal and three-decimal
# currencies; every other one has two, ISK included (a special case: whole krónur).
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

# The parameters billing sets on every session: a shop's extras cannot replace them.
_OWN_PARAMS = re.compile(
    r"^(mode|line_items\b.*|client_reference_id|metadata\[reference\]|"
    r"payment_intent_data\[metadata\]\[reference\]|success_url|cancel_url)$"
)
_SECRET_LIKE = re.compile(r"\b(sk|rk|whsec)_[A-Za-z0-9_]+")

SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}


class StripeApiError(http_api.GatewayApiError):
    """The API did not create the session. The message is safe to log: it names the
    failure (timeout, HTTP status, Stripe's error type and code), never a key."""

    secret_like = _SECRET_LIKE


def redact(text: str) -> str:
    """Anything that looks like a Stripe key or webhook secret, cut to its prefix."""
    return http_api.redact_secrets(text, _SECRET_LIKE)


# -- money --------------------------------------------------------------------------------


def exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    refusal = f"Stripe cannot charge {amount} {currency}: not a whole minor unit"
    return to_minor_units(amount, exponent(currency), refusal)


def from_minor(value: str, currency: str, field: str) -> Decimal:
    return from_minor_units(value, exponent(currency), field)


# -- the session ----------------------------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    """The Checkout Session's parameters for an order, flat with brackets, as sent.

    ``fields``: reference, amount, currency, description, return_url, cancel_url, and
    any other Checkout Session parameter the shop gave (``customer_email``, ``locale``,
    ``payment_method_types[0]`` ...), which never replaces billing's own.
    """
    reference = str(fields.get("reference") or "")
    if not reference:
        raise InvalidData("Stripe needs a reference")
    currency = currency_code(fields.get("currency", ""))
    amount = exact_amount(Decimal(str(fields.get("amount", ""))), currency)
    description = str(fields.get("description") or "") or f"Order {reference}"
    return_url, cancel_url = str(fields["return_url"]), str(fields["cancel_url"])
    separator = "&" if "?" in return_url else "?"
    params = {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": currency.lower(),
        "line_items[0][price_data][unit_amount]": str(to_minor(amount, currency)),
        "line_items[0][price_data][product_data][name]": description[:250],
        "client_reference_id": reference,
        "metadata[reference]": reference,
        "payment_intent_data[metadata][reference]": reference,
        # Stripe fills in the literal template with the session's id.
        "success_url": f"{return_url}{separator}session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": cancel_url,
    }
    skip = {"reference", "amount", "currency", "description", "return_url", "cancel_url"}
    skip.add("notify_url")  # webhook endpoints are set per account, not per session
    for key, value in fields.items():
        if key in skip or value is None:
            continue
        if _OWN_PARAMS.match(key):
            raise InvalidData(f"Stripe's {key} is set by billing, not by add_fields")
        params[key] = str(value)
    return params


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    """What the session's parameters ask for (the one line item, times its quantity)."""
    currency = form["line_items[0][price_data][currency]"].upper()
    unit = from_minor(form["line_items[0][price_data][unit_amount]"], currency, "unit_amount")
    quantity = int(form.get("line_items[0][quantity]", "1"))
    return PaymentTerms(form["client_reference_id"], unit * quantity, currency, receiver="")


def create_session(
    params: Mapping[str, str], account: Account, *, idempotency_key: str
) -> dict[str, str]:
    """``POST /v1/checkout/sessions``: the session's ``id`` and ``url`` (and its
    ``amount_total`` and ``currency``, when Stripe answers them).

    Retried once, with the same idempotency key, when Stripe could not be reached or
    answered 409/429/5xx (unless it says ``Stripe-Should-Retry: false``); a read timeout
    is not retried here (the customer's retry, with the same key, is). Raises
    StripeApiError.
    """
    client = account.client
    if client is None:
        raise StripeApiError("no HTTP client", retryable=False)
    url = http_api.endpoint_url(account, SESSIONS_PATH)
    headers = {
        "Authorization": f"Bearer {account['SECRET_KEY']}",
        "Idempotency-Key": idempotency_key,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = urlencode(list(params.items())).encode("ascii")

    def retryable(response: httpx.Response) -> bool:
        return _retryable(response) or response.headers.get("Stripe-Should-Retry") == "true"

    response = http_api.send_twice(
        lambda: client.post(url, content=body, headers=headers),
        retry_error=http_api.not_read_timeout,
        error=lambda exc: StripeApiError(http_api.failure_text("Stripe", exc), retryable=True),
        retry_answer=lambda response: response.status_code != 200 and retryable(response),
    )
    if response.status_code == 200:
        return _session(response, params)
    raise StripeApiError(_describe(response), retryable=retryable(response))


def _retryable(response: httpx.Response) -> bool:
    """409, 429 or 5xx, unless Stripe says ``Stripe-Should-Retry: false``."""
    code = response.status_code
    should = response.headers.get("Stripe-Should-Retry")
    return (code in (409, 429) or code >= 500) and should != "false"


def _describe(response: httpx.Response) -> str:
    text = f"Stripe answered HTTP {response.status_code}"
    data = http_api.answer_or_none(response)
    error = {} if data is None else data.get("error") or {}
    if data is None or not isinstance(error, dict):
        return text
    parts = [str(error[k]) for k in ("type", "code") if error.get(k)]
    message = str(error.get("message") or "")[:200]
    return f"{text}: {' '.join(parts)} {message}".rstrip()


def _session(response: httpx.Response, params: Mapping[str, str]) -> dict[str, str]:
    data = http_api.answer_object(
        response,
        no_json="Stripe answered 200 without JSON",
        no_object="Stripe answered 200 with JSON that is no object",
        error=lambda message: StripeApiError(message, retryable=True),
    )
    session_id, url = data.get("id"), data.get("url")
    if not isinstance(session_id, str) or not session_id or len(session_id) > 255:
        raise StripeApiError("Stripe's answer has no session id", retryable=True)
    if not http_api.is_web_url(url):
        raise StripeApiError("Stripe's answer has no http(s) url", retryable=True)
    # The session must be for what was asked, whatever answered.
    asked = int(params["line_items[0][price_data][unit_amount]"]) * int(
        params.get("line_items[0][quantity]", "1")
    )
    total, currency = data.get("amount_total"), data.get("currency")
    if total is not None and total != asked:
        raise StripeApiError(f"the session is for {total}, not {asked}", retryable=False)
    if (
        currency is not None
        and str(currency).lower() != params["line_items[0][price_data][currency]"]
    ):
        raise StripeApiError(f"the session is in {currency}", retryable=False)
    return {"id": session_id, "url": url}


# -- the session, fetched back ----------------------------------------------------------------


def fetch_session(session_id: str, account: Account) -> bytes:
    """``GET /v1/checkout/sessions/{id}``: the Checkout Session's JSON, exactly as Stripe
    answered it (the body ``read`` takes from an Inbound of kind ``"fetch"``).

    A read: retried once when Stripe could not be reached, timed out or answered
    409/429/5xx (unless ``Stripe-Should-Retry: false``). Raises VerificationUnavailable
    when Stripe cannot be asked or answers anything but this session (a 404 included:
    the key's account and mode do not have it), with a message that names no key;
    InvalidData for an id that is no Checkout Session's.
    """
    if not _SESSION_ID.fullmatch(session_id):
        raise InvalidData("not a Checkout Session id (cs_...)")
    client = account.client
    if client is None:
        raise VerificationUnavailable("no HTTP client to ask Stripe with")
    url = http_api.endpoint_url(account, f"{SESSIONS_PATH}/{session_id}")
    headers = {"Authorization": f"Bearer {account['SECRET_KEY']}"}
    response = http_api.send_twice(
        lambda: client.get(url, headers=headers),
        retry_error=http_api.any_failure,
        error=lambda exc: VerificationUnavailable(
            f"Stripe could not be reached ({type(exc).__name__})"
        ),
        retry_answer=lambda response: response.status_code != 200 and _retryable(response),
    )
    if response.status_code == 200:
        return _fetched(response, session_id)
    raise VerificationUnavailable(redact(_describe(response)))


def _fetched(response: httpx.Response, session_id: str) -> bytes:
    body = response.content
    data = http_api.load_json(body, "Stripe answered 200 without JSON", VerificationUnavailable)
    if not isinstance(data, dict) or data.get("object") != SESSION_OBJECT:
        raise VerificationUnavailable("Stripe answered 200 with no Checkout Session")
    if data.get("id") != session_id:
        raise VerificationUnavailable("Stripe answered with another Checkout Session")
    return body


def read_session(body: bytes) -> dict[str, str]:
    """A fetched Checkout Session, flattened to dotted names (``metadata.reference``)."""
    session = http_api.load_json(body, "not a Checkout Session: the body is not JSON")
    if not isinstance(session, dict) or session.get("object") != SESSION_OBJECT:
        raise MalformedNotification("not a Checkout Session")
    fields = flat_fields(session, "", max_depth=12)
    if not fields.get("id"):
        raise MalformedNotification("not a Checkout Session: no id")
    return fields


def session_notification(fields: Mapping[str, str], integration: str) -> Notification:
    """A fetched session in the library's words: paid only when ``payment_status`` says
    paid; an expired session is cancelled; anything else says nothing new."""
    state, paid = fields.get("status", ""), fields.get("payment_status", "")
    currency = fields.get("currency", "").upper()
    amount = None
    if fields.get("amount_total"):
        amount = from_minor(fields["amount_total"], currency, "amount_total")
    if paid == "paid":
        status = Status.PAID
    elif state == "expired":
        status = Status.CANCELLED
    else:  # open, or complete and unpaid (a delayed method): the webhook will say
        status = Status.UNKNOWN
    return Notification(
        integration=integration,
        reference=_reference(fields, "client_reference_id", "metadata.reference"),
        transaction_id=limited(fields.get("payment_intent") or fields["id"], "transaction"),
        amount=amount,
        currency=limited(currency, "currency", 3),
        status=status,
        # Not an event type: a fetch and a webhook of one payment are two ledger events,
        # and the state machine applies whichever comes second as nothing new.
        gateway_status=limited(f"{SESSION_OBJECT}:{state}:{paid}", "status", 64),
        test=fields.get("livemode") != "true",
        raw=dict(fields),
        receiver="",  # fetched with the account's own secret key
    )


# -- webhook events -------------------------------------------------------------------------


def read(inbound: Inbound) -> dict[str, str]:
    """The event's JSON, flattened to dotted names (``data.object.amount_total``); for a
    session billing fetched (kind ``"fetch"``), the session's."""
    if inbound.kind == FETCH_KIND:
        return read_session(inbound.body)
    event = http_api.load_json(inbound.body, "not a Stripe event: the body is not JSON")
    if not isinstance(event, dict) or event.get("object") != "event":
        raise MalformedNotification("not a Stripe event")
    fields = flat_fields(event, "", max_depth=12)
    for name in ("id", "type", "data.object.id"):
        if not fields.get(name):
            raise MalformedNotification(f"not a Stripe event: no {name}")
    return fields


def webhook_secrets(account: Account) -> list[str]:
    """The endpoint's signing secrets: one, or several while one is being rolled."""
    configured = account.settings.get("WEBHOOK_SECRET")
    values = [configured] if isinstance(configured, str) else list(configured or ())
    return [str(value) for value in values if value]


def check_webhook_secret(value: object) -> None:
    """A settings check: a non-empty string, or a list of them."""
    if isinstance(value, str) and value:
        return
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v for v in value):
        return
    raise InvalidData("must be the endpoint's signing secret (whsec_...), or a list of them")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    payload = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def parse_signature_header(header: str) -> tuple[str, list[str]]:
    """``(t, [v1, ...])``; other schemes (v0) and malformed items are left out."""
    timestamp, signatures = "", []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and not timestamp:
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    body: bytes, header: str, secrets: list[str], *, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    timestamp, signatures = parse_signature_header(header)
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if not signatures or not secrets:
        return False
    matched = False
    for secret in secrets:
        expected = signature(secret, timestamp, body)
        for given in signatures:  # every comparison runs: no early exit on a match
            matched |= hmac.compare_digest(expected.encode(), given.lower().encode())
    return matched and int(timestamp) >= now - tolerance


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    if inbound.kind == FETCH_KIND:
        # Stripe's answer to billing's own GET, over TLS, with the secret key: only
        # process_fetched stores this kind (the views store what is posted as "notify").
        fetched = inbound.method == FETCH_METHOD and fields.get("object") == SESSION_OBJECT
        return verdict(fetched)
    if fields.get("object") != "event":
        return Verification.INVALID
    # Judged by when billing received it (Inbound.received_at), not when it is verified.
    now = inbound.received_at if inbound.received_at is not None else time.time()
    signed = header(inbound.headers, SIGNATURE_HEADER)
    body = bytes(inbound.body)
    return verdict(verify_signature(body, signed, webhook_secrets(account), now=now))


def _reference(fields: Mapping[str, str], *names: str) -> str:
    """The reference billing put in the object, under each name it used: they agree."""
    return agreed(fields, names, "the event's references disagree")


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    if fields.get("object") == SESSION_OBJECT:  # read from a fetch (see read)
        return session_notification(fields, integration)
    kind = limited(fields["type"], "type")
    obj = "data.object."
    currency = fields.get(obj + "currency", "").upper()
    status, amount = Status.UNKNOWN, None
    reference, transaction = "", fields[obj + "id"]
    gateway_status = kind
    if kind in SESSION_EVENTS and fields.get(obj + "object") == "checkout.session":
        reference = _reference(fields, obj + "client_reference_id", obj + "metadata.reference")
        transaction = fields.get(obj + "payment_intent") or transaction
        if fields.get(obj + "amount_total"):
            amount = from_minor(fields[obj + "amount_total"], currency, "amount_total")
        paid = fields.get(obj + "payment_status") == "paid"
        if kind == "checkout.session.expired":
            status = Status.CANCELLED
        elif kind == "checkout.session.async_payment_failed":
            status = Status.FAILED
        else:  # completed, or async_payment_succeeded: money only when it says paid
            status = Status.PAID if paid else Status.PENDING
    elif kind == "charge.refunded" and fields.get(obj + "object") == "charge":
        reference = _reference(fields, obj + "metadata.reference")
        transaction = fields.get(obj + "payment_intent") or transaction
        charged = from_minor(fields.get(obj + "amount", ""), currency, "amount")
        refunded = from_minor(fields.get(obj + "amount_refunded", ""), currency, "refunded")
        amount = refunded
        if refunded == charged:
            status = Status.REFUNDED
        else:  # a partial refund: the ledger has no partial state yet
            gateway_status = f"{kind}:partial"
    return Notification(
        integration=integration,
        reference=reference,
        transaction_id=limited(transaction, "transaction"),
        amount=amount,
        currency=limited(currency, "currency", 3),
        status=status,
        gateway_status=gateway_status,
        test=fields.get("livemode") != "true",
        raw=dict(fields),
        receiver="",  # not named: the endpoint's own signing secret proves the account
    )


def reply(fields: Mapping[str, str], account: Account) -> Reply:
    return Reply(b'{"received": true}', content_type="application/json")
