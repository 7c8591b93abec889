"""eWAY Rapid v3, Responsive Shared Page: an access code created by API, a result fetched back.

SPEC: eWAY Rapid API v3 as documented at eway.io/api-v3 ("Responsive Shared Page",
"Transaction Query"/"Access Code result", "Response & error codes"; checked 2026-12),
with the paths, field names and response models of eWAY's official PHP SDK
(eWAYPayment/eway-rapid-php 2.x: ``Contract/HttpService.php``, ``Service/Http.php``,
``Model/Response/QueryAccessCodeResponse.php``, ``resource/lang/en.ini``). No
``X-EWAY-APIVERSION`` header is sent: the fields read here (``AccessCode``,
``SharedPaymentUrl``, ``Errors``; the result's ``TransactionStatus``, ``TransactionID``,
``ResponseMessage``, ``TotalAmount``, ``InvoiceReference``, ``Options``) are in every
version's answer.

- Hosts: live ``https://api.ewaypayments.com``, sandbox
  ``https://api.sandbox.ewaypayments.com`` (separate accounts and keys: the key does not
  say the mode, the host does). HTTP Basic with the API key and password; JSON bodies.
- ``POST /AccessCodesShared`` with ``Payment {TotalAmount (the currency's lowest
  denomination, an integer), InvoiceReference, InvoiceDescription, CurrencyCode}``,
  ``RedirectUrl``, ``CancelUrl``, ``Method: ProcessPayment``, ``TransactionType:
  Purchase`` and ``Options`` (echoed in the result). The answer's ``AccessCode`` is
  stored; the customer goes to ``SharedPaymentUrl``. ``Errors`` is a comma-separated
  string of codes (empty or null: none). eWAY has no idempotency key: creating an access
  code charges nothing, and only the stored one is ever used, so a retry after a lost
  answer leaves at most an unused code.
- There is no server-to-server notification. eWAY sends the customer to
  ``RedirectUrl?...&AccessCode=<code>``; the shop then asks ``GET /AccessCode/{code}``.
  That answer (our request, over TLS, with our key) is the notification: it is stored as
  a fetched row of kind ``fetch`` and verified by construction; nothing posted to the
  shop can claim that kind.
- The result: ``TransactionStatus`` true is paid (``ResponseMessage`` A2000, A2008,
  A2010 partial amount, A2011, A2016); false with D4xxx (bank decline), F7xxx (fraud) or
  V6xxx (validation) codes is failed; no transaction yet (S5099 "incomplete / access
  code in progress", or no code at all) is pending. ``TotalAmount`` is in minor units;
  ``InvoiceReference`` is the reference. The answer names no currency and no mode: they
  come back in the ``Options`` billing set on the access code (``currency=AUD``,
  ``mode=test``), so a result is bound to a code created for that currency and mode.
- Known answers: none exist (nothing is signed). tests/test_eway.py holds a result body
  written from the SDK's response model and the docs' example values.

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
from ..money import currency_code, exact_amount, exponent
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
    from_minor_units,
    limited,
    to_minor_units,
    verdict,
)

SPEC = (
    "eWAY Rapid API v3: Responsive Shared Page (POST /AccessCodesShared) and the access "
    "code result (GET /AccessCode/{AccessCode}); eway.io/api-v3 and eway-rapid-php 2.x, 2026-12"
)
LIVE_API_URL = "https://api.ewaypayments.com"
SANDBOX_API_URL = "https://api.sandbox.ewaypayments.com"
SHARED_PATH = "/AccessCodesShared"
RESULT_PATH = "/AccessCode/{code}"
# The kind of the row billing stores for eWAY's answer to its own GET: only
# pipeline.process_fetched writes it, never a view.
FETCH_KIND = "fetch"
# eWAY's field limits (Payment.InvoiceReference 50, InvoiceDescription 64).
REFERENCE_LENGTH = 50
DESCRIPTION_LENGTH = 64
# Access codes are URL-safe tokens (letters, digits, - and _); anything else is not
# worth asking eWAY about, and never goes into a URL path.
ACCESS_CODE = re.compile(r"[A-Za-z0-9_-]{1,255}")
_CODES = re.compile(r"[A-Z][0-9A-Z]{3,5}")

# The fields billing sets on every access code: a shop's extras cannot replace them.
_OWN = frozenset(
    {
        "Payment.TotalAmount",
        "Payment.InvoiceReference",
        "Payment.CurrencyCode",
        "RedirectUrl",
        "CancelUrl",
        "Method",
        "TransactionType",
    }
)
_OWN_PREFIXES = ("Options",)


class EwayApiError(http_api.GatewayApiError):
    """eWAY did not create the access code, or did not answer as documented. The message
    is safe to log: an HTTP status, a transport error's name or eWAY's error codes, never
    the key or password."""


# -- money --------------------------------------------------------------------------------


def to_minor(amount: Decimal, currency: str) -> int:
    refusal = f"eWAY cannot charge {amount} {currency}: not a whole minor unit"
    return to_minor_units(amount, exponent(currency), refusal)


def from_minor(value: str, currency: str) -> Decimal:
    return from_minor_units(value, exponent(currency), "TotalAmount")


# -- the access code --------------------------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    """The access code request for an order, flat with dotted names (``Payment.TotalAmount``),
    as ``request_body`` nests it.

    ``fields``: reference, amount, currency, description, return_url, cancel_url (and
    notify_url, unused: eWAY calls no shop URL), and any other request field the shop gave
    in the same dotted form (``Customer.Email``, ``CustomerReadOnly``, ``LogoUrl`` ...),
    which never replaces billing's own.
    """
    reference = str(fields.get("reference") or "")
    if not reference:
        raise InvalidData("eWAY needs a reference")
    if len(reference) > REFERENCE_LENGTH:
        raise InvalidData(f"eWAY's InvoiceReference holds {REFERENCE_LENGTH} characters")
    currency = currency_code(fields.get("currency", ""))
    amount = exact_amount(Decimal(str(fields.get("amount", ""))), currency)
    description = str(fields.get("description") or "") or f"Order {reference}"
    params = {
        "Payment.TotalAmount": str(to_minor(amount, currency)),
        "Payment.InvoiceReference": reference,
        "Payment.InvoiceDescription": description[:DESCRIPTION_LENGTH],
        "Payment.CurrencyCode": currency,
        "RedirectUrl": str(fields["return_url"]),
        "CancelUrl": str(fields["cancel_url"]),
        "Method": "ProcessPayment",
        "TransactionType": "Purchase",
        # Echoed in the result, which names neither.
        "Options.0.Value": f"currency={currency}",
        "Options.1.Value": f"mode={'test' if account.test else 'live'}",
    }
    skip = {"reference", "amount", "currency", "description", "return_url", "cancel_url"}
    skip.add("notify_url")
    for key, value in fields.items():
        if key in skip or value is None:
            continue
        if key in _OWN or key.startswith(_OWN_PREFIXES) or key == "Payment.InvoiceDescription":
            raise InvalidData(f"eWAY's {key} is set by billing, not by add_fields")
        params[key] = str(value)
    return params


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    currency = form["Payment.CurrencyCode"].upper()
    amount = from_minor(form["Payment.TotalAmount"], currency)
    return PaymentTerms(form["Payment.InvoiceReference"], amount, currency, receiver="")


def request_body(params: Mapping[str, str]) -> dict[str, Any]:
    """The flat parameters as eWAY's JSON: dots nest objects, digits index lists, and
    TotalAmount is a number."""
    body: dict[str, Any] = {}
    for key, value in params.items():
        parts = key.split(".")
        node: Any = body
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            following: Any = None if last else ([] if parts[i + 1].isdigit() else {})
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(following if following is not None else None)
                if last:
                    node[index] = value
                elif node[index] is None:
                    node[index] = following
                node = None if last else node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, following)
    body["Payment"]["TotalAmount"] = int(params["Payment.TotalAmount"])
    return body


def _auth(account: Account) -> tuple[str, str]:
    return (account["API_KEY"], account["API_PASSWORD"])


def _errors(data: Mapping[str, Any]) -> list[str]:
    """eWAY's ``Errors``: a comma-separated string of codes, or empty or null."""
    text = data.get("Errors") or ""
    return [code.strip() for code in str(text).split(",") if code.strip()]


def create_session(
    params: Mapping[str, str], account: Account, *, idempotency_key: str
) -> dict[str, str]:
    """``POST /AccessCodesShared``: ``{"id": AccessCode, "url": SharedPaymentUrl}``.

    eWAY takes no idempotency key (``idempotency_key`` is not sent). Retried once, only
    when the request never reached eWAY (no connection); a timeout after sending is not
    retried here (the customer's retry opens a new code, and only the stored one counts).
    Raises EwayApiError.
    """
    client = account.client
    if client is None:
        raise EwayApiError("no HTTP client", retryable=False)
    url = http_api.endpoint_url(account, SHARED_PATH)
    body = request_body(params)
    response = http_api.send_twice(
        lambda: client.post(url, json=body, auth=_auth(account)),
        retry_error=http_api.never_sent,
        error=_unanswered,
    )
    return _access_code(response, params)


def _unanswered(exc: httpx.HTTPError) -> EwayApiError:
    verb = "could not be reached" if http_api.never_sent(exc) else "did not answer"
    return EwayApiError(f"eWAY {verb} ({type(exc).__name__})", retryable=True)


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    return http_api.answer_object(
        response,
        no_json=f"eWAY answered {what} without JSON",
        no_object=f"eWAY answered {what} with JSON that is no object",
        error=lambda message: EwayApiError(message, retryable=True),
    )


def _access_code(response: httpx.Response, params: Mapping[str, str]) -> dict[str, str]:
    if response.status_code != 200:
        retryable = response.status_code >= 500 or response.status_code == 429
        raise EwayApiError(f"eWAY answered HTTP {response.status_code}", retryable=retryable)
    data = _json_object(response, "the access code request")
    errors = _errors(data)
    if errors:
        codes = ",".join(code for code in errors if _CODES.fullmatch(code))[:120]
        raise EwayApiError(f"eWAY refused the access code: {codes or 'errors'}", retryable=False)
    code, url = data.get("AccessCode"), data.get("SharedPaymentUrl")
    if not isinstance(code, str) or not ACCESS_CODE.fullmatch(code):
        raise EwayApiError("eWAY's answer has no access code", retryable=True)
    if not http_api.is_web_url(url):
        raise EwayApiError("eWAY's answer has no http(s) SharedPaymentUrl", retryable=True)
    # The code must be for what was asked, whatever answered.
    payment = data.get("Payment")
    if isinstance(payment, dict) and payment.get("TotalAmount") is not None:
        if str(payment["TotalAmount"]) != params["Payment.TotalAmount"]:
            raise EwayApiError(
                f"the access code is for {payment['TotalAmount']}, not "
                f"{params['Payment.TotalAmount']}",
                retryable=False,
            )
    return {"id": code, "url": url}


# -- the result, fetched ------------------------------------------------------------------------


def fetch_result(access_code: str, account: Account) -> bytes:
    """``GET /AccessCode/{code}``: eWAY's answer, as received, to store as a fetched row.

    A GET, so retried once on a transport error or a 5xx. Raises VerificationUnavailable
    when eWAY cannot be asked or answers something that is no result for this code.
    """
    if not ACCESS_CODE.fullmatch(access_code):
        raise VerificationUnavailable("not an eWAY access code")
    client = account.client
    if client is None:
        raise VerificationUnavailable("no HTTP client to ask eWAY with")
    url = http_api.endpoint_url(account, RESULT_PATH.format(code=quote(access_code, safe="")))
    response = http_api.send_twice(
        lambda: client.get(url, auth=_auth(account)),
        retry_error=http_api.any_failure,
        error=lambda exc: VerificationUnavailable(
            f"eWAY could not be asked ({type(exc).__name__})"
        ),
        retry_answer=lambda response: response.status_code >= 500,
    )
    if response.status_code != 200:
        raise VerificationUnavailable(f"eWAY answered HTTP {response.status_code}")
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        raise VerificationUnavailable("eWAY's result is not JSON") from None
    if not isinstance(data, dict) or data.get("AccessCode") != access_code:
        raise VerificationUnavailable("eWAY's answer is not the result of this access code")
    return response.content


def read(inbound: Inbound) -> dict[str, str]:
    """The result's JSON, flattened to dotted names (``Options.0.Value``)."""
    data = http_api.load_json(inbound.body, "not an eWAY result: the body is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("AccessCode"), str):
        raise MalformedNotification("not an eWAY result: no AccessCode")
    return flat_fields(data, "", max_depth=8)


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    """eWAY signs nothing: only its answer to billing's own GET is authentic (by
    construction), whatever the bytes; anything posted to the shop is not."""
    return verdict(http_api.fetched_by_us(inbound, {FETCH_KIND}))


def codes(fields: Mapping[str, str]) -> list[str]:
    """The result's response and error codes (``ResponseMessage`` and ``Errors``)."""
    found = []
    for name in ("ResponseMessage", "Errors"):
        found += [c.strip() for c in fields.get(name, "").split(",") if c.strip()]
    return found


def _echoed(fields: Mapping[str, str], name: str) -> str:
    """A value billing put in the access code's Options, as eWAY echoes it."""
    values = {
        value.partition("=")[2]
        for key, value in fields.items()
        if re.fullmatch(r"Options\.\d+\.Value", key) and value.startswith(f"{name}=")
    }
    if len(values) > 1:
        raise MalformedNotification(f"the result's Options disagree on {name}")
    return values.pop() if values else ""


def status_of(fields: Mapping[str, str]) -> tuple[Status, str]:
    """The library's status and the gateway's own word for it (the first code)."""
    found = codes(fields)
    word = found[0] if found else ""
    if fields.get("TransactionStatus") == "true":
        return Status.PAID, word or "true"
    if not fields.get("TransactionID") and (not found or "S5099" in found):
        return Status.PENDING, word or "incomplete"
    return Status.FAILED, word or "false"


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    status, word = status_of(fields)
    currency = _echoed(fields, "currency").upper()
    mode = _echoed(fields, "mode")
    amount = None
    if fields.get("TotalAmount") and currency:
        amount = from_minor(fields["TotalAmount"], currency)
    transaction = fields.get("TransactionID") or fields["AccessCode"][:127]
    return Notification(
        integration=integration,
        reference=limited(fields.get("InvoiceReference", ""), "InvoiceReference"),
        transaction_id=limited(transaction, "TransactionID"),
        amount=amount,
        currency=limited(currency, "currency", 3),
        status=status,
        gateway_status=limited(word, "ResponseMessage", 32),
        # The host the result came from decides the mode; the echo says which mode the
        # access code was made in (a result without it is taken as the account's).
        test=(mode == "test") if mode in ("test", "live") else account.test,
        raw=dict(fields),
        receiver="",  # not named: our key, on our request, proves the account
    )


reply = empty_reply
