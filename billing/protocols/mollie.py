"""Mollie: a payment created by API (Payments API v2), an unsigned webhook, a fetch.

SPEC: Mollie API v2 as documented at docs.mollie.com (checked 2026-12): "Create
payment" (``POST /v2/payments``), "Get payment" (``GET /v2/payments/{id}``), "Webhooks"
(classic, per payment: ``webhookUrl``), "API idempotency" (``Idempotency-Key``, added
December 2022), "Payment status changes". JSON over HTTPS with ``Authorization: Bearer
<test_... or live_... API key>``; one host for both modes (the key decides, resources
carry ``mode``).

- The payment: ``{"amount": {"currency": "EUR", "value": "10.00"}, "description",
  "redirectUrl", "cancelUrl", "webhookUrl", "metadata": {"reference": ...}}``; ``value``
  is a string with exactly the currency's decimals. The answer (201) has ``id``
  (``tr_...``), ``status`` ``open``, ``mode`` and ``_links.checkout.href``.
- The webhook is a form post whose whole body is ``id=tr_...``: unsigned. Nothing in it is
  trusted; the payment fetched with the shop's key (over TLS, our request) is. Mollie
  calls it when a payment becomes paid, authorized, failed, canceled or expired, when a
  refund reaches processing/refunded/failed, and on a chargeback; it wants 200 whatever
  the id (an unknown one must not be told apart).
- Status: ``open``/``pending``/``authorized`` pending; ``paid``; ``failed``; ``canceled``
  and ``expired`` cancelled (``gateway_status`` keeps which); a paid payment with
  ``amountRefunded`` equal to its amount refunded, with ``amountChargedBack`` reversed.

Facts that differ from the shared fact sheet: none found; the retry schedule of the
classic webhook is not documented precisely (Mollie retries for hours), so nothing here
relies on it.

Plain Python: no Django; the HTTP client comes in with the account.
"""

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from ..exceptions import InvalidData, MalformedNotification, VerificationUnavailable
from ..money import currency_code, exact_amount, exponent, format_amount
from . import http_api
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    flat_fields,
    limited,
    parse_amount,
    parse_form_body,
    verdict,
)

SPEC = "Mollie API v2: Payments API, classic webhooks, idempotency (docs.mollie.com, 2026-12)"
API_URL = "https://api.mollie.com"
PAYMENTS_PATH = "/v2/payments"
# The kind billing gives the payment it fetched itself (pipeline.process_fetched): no
# request a sender makes is stored with it, so it is authentic by construction.
FETCHED = "fetch"

PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]{1,64}")
_KEY = re.compile(r"(test|live)_[A-Za-z0-9]{20,64}")
_SECRET_LIKE = re.compile(r"\b(test|live|access)_[A-Za-z0-9]{8,}")

# The parameters billing sets on every payment: a shop's extras cannot replace them.
_OWN = frozenset(
    {
        "amount",
        "amount.currency",
        "amount.value",
        "description",
        "redirectUrl",
        "cancelUrl",
        "webhookUrl",
        "metadata",
        "metadata.reference",
    }
)
# Extras a shop may give with add_fields: plain string parameters of "Create payment".
EXTRAS = frozenset(
    {
        "locale",
        "method",
        "expiresAt",
        "sequenceType",
        "customerId",
        "restrictPaymentMethodsToCountry",
    }
)

STATUSES = {
    "open": Status.PENDING,
    "pending": Status.PENDING,
    "authorized": Status.PENDING,
    "paid": Status.PAID,
    "failed": Status.FAILED,
    "canceled": Status.CANCELLED,
    "expired": Status.CANCELLED,
}


class MollieApiError(http_api.GatewayApiError):
    """The API did not create the payment. The message is safe to log: it names the
    failure (timeout, HTTP status, Mollie's title and detail), never a key."""

    secret_like = _SECRET_LIKE


def redact(text: str) -> str:
    """Anything that looks like a Mollie API key or access token, cut to its prefix."""
    return http_api.redact_secrets(text, _SECRET_LIKE)


def check_api_key(value: object) -> None:
    """A settings check: an API key, ``test_...`` or ``live_...`` (as Mollie issues them)."""
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise InvalidData("must be a Mollie API key: test_... or live_... (from the Dashboard)")


def _headers(account: Account) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {account['API_KEY']}",
        "Accept": "application/hal+json, application/json",
    }


# -- money --------------------------------------------------------------------------------


def amount_value(amount: Decimal, currency: str) -> str:
    """Mollie's ``value``: a string with exactly the currency's decimals ("10.00")."""
    return format_amount(exact_amount(amount, currency), currency)


def read_value(text: str, currency: str, field: str) -> Decimal | None:
    """An amount Mollie sent, which must have exactly the currency's decimals."""
    value = parse_amount(text, field, signed=False)
    if value is None:
        return None
    places = len(text.partition(".")[2])
    if places != exponent(currency):
        raise MalformedNotification(f"{field} {text!r} does not have {currency}'s decimals")
    return value


# -- the payment ------------------------------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    """The payment's parameters for an order, flat (``amount.value``), as sent.

    ``fields``: reference, amount, currency, description, return_url, cancel_url,
    notify_url, and any of ``EXTRAS`` the shop gave (``locale``, ``method`` ...), which
    never replace billing's own.
    """
    reference = str(fields.get("reference") or "")
    if not reference:
        raise InvalidData("Mollie needs a reference")
    currency = currency_code(fields.get("currency", ""))
    amount = Decimal(str(fields.get("amount", "")))
    description = str(fields.get("description") or "") or f"Order {reference}"
    params = {
        "amount.currency": currency,
        "amount.value": amount_value(amount, currency),
        "description": description[:255],
        "redirectUrl": str(fields["return_url"]),
        "cancelUrl": str(fields["cancel_url"]),
        "webhookUrl": str(fields["notify_url"]),
        "metadata.reference": reference,
    }
    skip = {"reference", "amount", "currency", "description", "return_url", "cancel_url"}
    skip.add("notify_url")
    for key, value in fields.items():
        if key in skip or value is None:
            continue
        if key in _OWN:
            raise InvalidData(f"Mollie's {key} is set by billing, not by add_fields")
        if key not in EXTRAS:
            raise InvalidData(f"{key} is not a Mollie payment parameter billing passes on")
        params[key] = str(value)
    return params


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    currency = currency_code(form["amount.currency"])
    amount = read_value(form["amount.value"], currency, "amount.value")
    if amount is None:
        raise InvalidData("the payment has no amount")
    return PaymentTerms(form["metadata.reference"], amount, currency, receiver="")


def payment_body(params: Mapping[str, str]) -> dict[str, Any]:
    """The JSON of ``POST /v2/payments`` for the flat parameters."""
    body: dict[str, Any] = {
        "amount": {"currency": params["amount.currency"], "value": params["amount.value"]},
        "metadata": {"reference": params["metadata.reference"]},
    }
    for key, value in params.items():
        if "." not in key:
            body[key] = value
    return body


def create_session(
    params: Mapping[str, str], account: Account, *, idempotency_key: str
) -> dict[str, str]:
    """``POST /v2/payments``: the payment's ``id`` (``tr_...``) and checkout ``url``.

    Retried once with the same ``Idempotency-Key`` (Mollie answers the first result
    again) when Mollie could not be reached or answered 429/5xx; a read timeout is not
    retried here (the customer's retry, with the same key, is). Raises MollieApiError.
    """
    client = account.client
    if client is None:
        raise MollieApiError("no HTTP client", retryable=False)
    headers = {
        **_headers(account),
        "Idempotency-Key": idempotency_key,
        "Content-Type": "application/json",
    }
    body = json.dumps(payment_body(params), separators=(",", ":")).encode()
    url = http_api.endpoint_url(account, PAYMENTS_PATH)
    response = http_api.send_twice(
        lambda: client.post(url, content=body, headers=headers),
        retry_error=http_api.not_read_timeout,
        error=lambda exc: MollieApiError(http_api.failure_text("Mollie", exc), retryable=True),
        retry_answer=_busy,
    )
    if response.status_code in (200, 201):
        return _created(response, params, account)
    raise MollieApiError(_describe(response), retryable=_busy(response))


def _busy(response: httpx.Response) -> bool:
    """429 or 5xx: worth asking again."""
    return response.status_code == 429 or response.status_code >= 500


def _describe(response: httpx.Response) -> str:
    text = f"Mollie answered HTTP {response.status_code}"
    error = http_api.answer_or_none(response)
    if error is None:
        return text
    parts = [str(error[k])[:200] for k in ("title", "detail", "field") if error.get(k)]
    return f"{text}: {' '.join(parts)}".rstrip(": ")


def _created(
    response: httpx.Response, params: Mapping[str, str], account: Account
) -> dict[str, str]:
    data = http_api.answer_object(
        response,
        no_json="Mollie answered without JSON",
        no_object="Mollie answered JSON that is no object",
        error=lambda message: MollieApiError(message, retryable=True),
    )
    payment_id = data.get("id")
    if not isinstance(payment_id, str) or not PAYMENT_ID.fullmatch(payment_id):
        raise MollieApiError("Mollie's answer has no payment id", retryable=True)
    links = data.get("_links")
    checkout = links.get("checkout") if isinstance(links, dict) else None
    url = checkout.get("href") if isinstance(checkout, dict) else None
    if not http_api.is_web_url(url):
        raise MollieApiError("Mollie's answer has no http(s) checkout link", retryable=True)
    # The payment must be for what was asked, in the shop's mode, whatever answered.
    amount = data.get("amount")
    asked = (params["amount.currency"], params["amount.value"])
    if isinstance(amount, dict) and (amount.get("currency"), amount.get("value")) != asked:
        raise MollieApiError(
            f"the payment is for {amount.get('value')} {amount.get('currency')}, not "
            f"{asked[1]} {asked[0]}",
            retryable=False,
        )
    mode = data.get("mode")
    if mode is not None and mode != ("test" if account.test else "live"):
        raise MollieApiError(
            f"the payment was made in {mode} mode: the API key's mode is not the shop's",
            retryable=False,
        )
    return {"id": payment_id, "url": url}


# -- fetching ---------------------------------------------------------------------------------


def fetch_payment(payment_id: str, account: Account) -> bytes | None:
    """``GET /v2/payments/{id}`` with the shop's key: the payment's JSON as Mollie sent
    it, or None when Mollie knows no such payment for this key (404, 410).

    Raises VerificationUnavailable when Mollie cannot be asked (unreachable, slow, 429,
    5xx, a refused key, an answer that is not JSON): "could not ask" is retried, never
    taken as an answer. Retried once at once: a GET is idempotent.
    """
    if not PAYMENT_ID.fullmatch(payment_id):
        return None
    client = account.client
    if client is None:
        raise VerificationUnavailable("Mollie: no HTTP client")
    url = http_api.endpoint_url(account, f"{PAYMENTS_PATH}/{quote(payment_id, safe='')}")
    response = http_api.send_twice(
        lambda: client.get(url, headers=_headers(account)),
        retry_error=http_api.any_failure,
        error=lambda exc: VerificationUnavailable(
            f"Mollie could not be asked ({type(exc).__name__})"
        ),
        # A refused key or request (another 4xx): asking again now changes nothing.
        retry_answer=lambda response: (
            _fetch_failure(response, payment_id) != ""
            and (response.status_code == 200 or _busy(response))
        ),
    )
    if response.status_code in (404, 410):
        return None
    failure = _fetch_failure(response, payment_id)
    if failure:
        raise VerificationUnavailable(failure)
    return response.content


def _fetch_failure(response: httpx.Response, payment_id: str) -> str:
    """Why an answer to ``GET /v2/payments/{id}`` is not the payment ("" when it is, or
    when Mollie knows no such payment)."""
    if response.status_code in (404, 410):
        return ""
    if response.status_code != 200:
        return redact(_describe(response))
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return "Mollie answered 200 without JSON"
    if not isinstance(data, dict) or data.get("id") != payment_id:
        return "Mollie answered 200 with another resource"
    return ""


# -- reading ----------------------------------------------------------------------------------


def read_payment(body: bytes) -> dict[str, str]:
    """A payment's JSON as Mollie answered ``GET /v2/payments/{id}``, flattened."""
    data = http_api.load_json(body, "not a Mollie payment: the body is not JSON")
    if not isinstance(data, dict) or data.get("resource") != "payment":
        raise MalformedNotification("not a Mollie payment")
    fields = flat_fields(data, "", max_depth=12)
    if not PAYMENT_ID.fullmatch(fields.get("id", "")):
        raise MalformedNotification("not a Mollie payment: no tr_ id")
    return fields


def read_ping(body: bytes) -> dict[str, str]:
    """The webhook: ``id=tr_...``. ``ping`` lists the body's field names, so that a body
    with anything else (which Mollie never sends) can be refused as not Mollie's."""
    pairs = parse_form_body(bytes(body))
    payment_id = pairs.get("id", "")
    if not PAYMENT_ID.fullmatch(payment_id):
        raise MalformedNotification("not a Mollie webhook: no payment id (id=tr_...)")
    return {"id": payment_id, "ping": ",".join(sorted(pairs))}


def read(inbound: Inbound) -> dict[str, str]:
    """A fetched payment (kind ``fetch``), or the webhook's id (anything else)."""
    if inbound.kind == FETCHED:
        return read_payment(inbound.body)
    return read_ping(inbound.body)


def is_ping(fields: Mapping[str, str]) -> bool:
    return "ping" in fields


def fetched_by_us(inbound: Inbound) -> bool:
    """Stored by billing from its own request (process_fetched), never by a view."""
    return http_api.fetched_by_us(inbound, {FETCHED})


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    """A payment billing fetched is authentic by construction; a webhook is authentic
    when its body is exactly ``id=<payment>`` and Mollie knows that payment for our key.

    A webhook is verified by fetching here; MollieIntegration fetches once per reading
    instead and builds the notification from the same fetch.
    """
    if not is_ping(fields):
        return verdict(fetched_by_us(inbound))
    body = fetch_payment(fields["id"], account)
    return ping_verdict(fields, None if body is None else read_payment(body))


def ping_verdict(ping: Mapping[str, str], payment: Mapping[str, str] | None) -> Verification:
    if payment is None or payment.get("id") != ping.get("id") or ping.get("ping") != "id":
        return Verification.INVALID
    return Verification.VALID


def _value(fields: Mapping[str, str], name: str, currency: str) -> Decimal:
    if fields.get(f"{name}.value", "") == "":
        return Decimal(0)
    if fields.get(f"{name}.currency", currency).upper() != currency:
        raise MalformedNotification(f"{name} is in another currency than the payment")
    found = read_value(fields[f"{name}.value"], currency, name)
    return found if found is not None else Decimal(0)


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    """A fetched payment in the library's words (a webhook says nothing until fetched)."""
    if is_ping(fields):
        raise MalformedNotification("a Mollie webhook says nothing until its payment is fetched")
    payment_id = limited(fields["id"], "id")
    gateway_status = limited(fields.get("status", ""), "status", 32)
    currency = limited(fields.get("amount.currency", "").upper(), "currency", 3)
    amount = read_value(fields.get("amount.value", ""), currency, "amount")
    mode = fields.get("mode", "")
    if mode not in ("test", "live"):
        raise MalformedNotification("the payment has no mode (test or live)")
    status = STATUSES.get(gateway_status, Status.UNKNOWN)
    refunded = _value(fields, "amountRefunded", currency)
    charged_back = _value(fields, "amountChargedBack", currency)
    if gateway_status == "paid" and charged_back > 0:
        status, amount, gateway_status = Status.REVERSED, charged_back, "paid:charged_back"
    elif gateway_status == "paid" and amount is not None and refunded == amount:
        status, amount, gateway_status = Status.REFUNDED, refunded, "paid:refunded"
    # A partial refund leaves it paid (the same event as the payment: applied once).
    return Notification(
        integration=integration,
        reference=limited(fields.get("metadata.reference", ""), "reference"),
        transaction_id=payment_id,
        amount=amount,
        currency=currency,
        status=status,
        gateway_status=gateway_status,
        test=mode != "live",
        raw=dict(fields),
        receiver="",  # fetched with the shop's own key: the account by construction
    )


# Mollie wants 200, whatever the id: known and unknown ones are answered alike.
reply = empty_reply
