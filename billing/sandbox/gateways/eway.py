"""eWAY, from its side: Rapid v3's Responsive Shared Page and the access code result.

Written from eWAY's public Rapid v3 reference (eway.io/api-v3: "Responsive Shared
Page", "Response & error codes") and the response models of its official PHP SDK, not
from billing.protocols.eway, so it can disagree with the shop's code.

- ``POST <API_URL>/AccessCodesShared``: HTTP Basic with the played account's API key
  and password (MERCHANT_SETTINGS["eway"]); a JSON body. A refused request is HTTP 200
  with ``Errors`` (comma-separated codes: V6011 TotalAmount, V6015/V6018 CurrencyCode,
  V6047/V6059 RedirectUrl, V6004 Method, V6010 TransactionType); a bad key is a 401.
  The answer's ``SharedPaymentUrl`` is the sandbox's hosted page for the access code.
- Approve / Decline / Cancel on that page are the shared sandbox's. eWAY calls no shop
  URL: Approve and Decline decide the access code's result and send the customer to
  ``RedirectUrl`` with ``AccessCode=`` appended; Cancel sends them to ``CancelUrl``
  (with the code too) and records nothing.
- ``GET <API_URL>/AccessCode/{code}``: the result, as eWAY's QueryAccessCodeResponse
  (``TransactionStatus``, ``TransactionID``, ``ResponseCode``, ``ResponseMessage``,
  ``TotalAmount`` in minor units, ``InvoiceReference``, the echoed ``Options``);
  ``Errors: S5099`` while the customer has not decided. An unknown code: 404 with
  ``Errors: V6107`` (the real API's exact answer: verify).

The page's testing options act on what that GET answers: "Report a different amount"
makes it report that amount (authentic); "Tamper" rewrites ``TotalAmount`` in the answer
on its way to the shop (as a TLS-intercepting proxy could; eWAY signs nothing, so the
shop can only bind the amount, and holds the payment); "Send it twice" and "Send it
late" change nothing here: eWAY sends nothing, and the result is the same on every GET,
so a second fetch (a later return, or reconciliation) is the repeat.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path

from . import api_kit
from .base import (
    APPROVED,
    AS_ASKED,
    CANCELLED,
    DECLINED,
    FormRejected,
    Item,
    Message,
    Order,
    StandIn,
    Variation,
    exponent,
    random_digits,
    with_query,
)
from .kit import Problems, played_account

MERCHANT = "eWAY sandbox account"
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def access_code() -> str:
    """A new access code: URL-safe, 60 characters (eWAY's are longer; the sandbox keeps
    them to its Checkout token's 64)."""
    return "A1001" + api_kit.random_string(55)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """The request's JSON as dotted names (``Payment.TotalAmount``, ``Options.0.Value``)."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}"))
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif value is not None:
        out[prefix] = str(value)
    return out


def options(fields: Mapping[str, str]) -> list[dict[str, str]]:
    """The request's Options, in order, as eWAY echoes them."""
    found = []
    i = 0
    while f"Options.{i}.Value" in fields:
        found.append({"Value": fields[f"Options.{i}.Value"]})
        i += 1
    return found


class EwayStandIn(StandIn):
    slug = "eway"
    display_name = "eWAY"
    endpoints = {"API_URL": "api"}
    verified_by = "fetch"
    statuses = {APPROVED: "A2000", DECLINED: "D4405", CANCELLED: "S5099"}
    accent = "#f47b20"
    other_amount_hint = (
        "eWAY's result (GET /AccessCode) reports another TotalAmount than the order's, "
        "authentically: the shop must hold the payment for review."
    )
    tamper_hint = (
        "TotalAmount is rewritten in eWAY's GET /AccessCode answer on its way to the shop. "
        "eWAY signs nothing (only TLS and the shop's key vouch for the answer), so the "
        "amount arrives as eWAY's: it differs from the order's, and the shop must hold "
        "the payment for review."
    )

    def urlpatterns(self) -> list[URLPattern]:
        return [
            path("", api_root, name="api"),
            path("AccessCodesShared", access_codes_shared, name="access_codes_shared"),
            path("AccessCode/<str:code>", access_code_result, name="access_code"),
        ]

    # -- the request -----------------------------------------------------------------------

    def problems(self, fields: Mapping[str, str]) -> list[str]:
        """The request's problems as eWAY's error codes."""
        found = []
        total = fields.get("Payment.TotalAmount", "")
        if not (total.isascii() and total.isdigit() and 0 < int(total) and len(total) <= 10):
            found.append("V6011")
        currency = fields.get("Payment.CurrencyCode", "")
        if not currency:
            found.append("V6017")
        elif not re.fullmatch("[A-Z]{3}", currency):
            found.append("V6015")
        if len(fields.get("Payment.InvoiceReference", "")) > 50:
            found.append("V6014")
        if len(fields.get("Payment.InvoiceDescription", "")) > 64:
            found.append("V6012")
        redirect = Problems(fields)
        if not fields.get("RedirectUrl"):
            found.append("V6047")
        elif not redirect.http_url("RedirectUrl") or not redirect.http_url("CancelUrl"):
            found.append("V6059")
        if fields.get("Method") != "ProcessPayment":
            found.append("V6004")
        if fields.get("TransactionType") != "Purchase":
            found.append("V6010")
        return found

    def check_form(self, fields: Mapping[str, str]) -> Order:
        found = self.problems(fields)
        if found:
            raise FormRejected("eWAY refuses this access code", found)
        currency = fields["Payment.CurrencyCode"]
        scale = Decimal(1).scaleb(-exponent(currency))
        total = (Decimal(int(fields["Payment.TotalAmount"])) * scale).quantize(scale)
        reference = fields.get("Payment.InvoiceReference", "")
        name = fields.get("Payment.InvoiceDescription", "") or f"Invoice {reference}"
        return Order(
            merchant=MERCHANT,
            reference=reference,
            currency=currency,
            total=total,
            items=(Item(name, 1, total),),
            notify_url="",  # eWAY calls no shop URL: the shop asks for the result
            return_url=fields.get("RedirectUrl", ""),
            cancel_url=fields.get("CancelUrl", ""),
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.upper()
        return {
            "Payment.TotalAmount": str(int(amount.scaleb(exponent(currency)))),
            "Payment.InvoiceReference": reference,
            "Payment.CurrencyCode": currency,
            "RedirectUrl": "http://shop.test/return/",
            "CancelUrl": "http://shop.test/cancel/",
            "Method": "ProcessPayment",
            "TransactionType": "Purchase",
        }

    # -- the result --------------------------------------------------------------------------

    def result(self, fields: Mapping[str, str]) -> dict[str, Any]:
        """The result of an access code nobody has decided yet (S5099)."""
        return {
            "AccessCode": fields.get("AccessCode", ""),
            "AuthorisationCode": None,
            "ResponseCode": None,
            "ResponseMessage": None,
            "InvoiceNumber": fields.get("Payment.InvoiceNumber", ""),
            "InvoiceReference": fields.get("Payment.InvoiceReference", ""),
            "TotalAmount": int(fields.get("Payment.TotalAmount", "0") or 0),
            "TransactionID": None,
            "TransactionStatus": False,
            "TokenCustomerID": None,
            "BeagleScore": None,
            "Options": options(fields),
            "Verification": {"CVN": 0, "Address": 0, "Email": 0, "Mobile": 0, "Phone": 0},
            "Errors": "S5099",
        }

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The decided result, as ``GET /AccessCode/{code}`` answers it."""
        amount, transaction_id = vary.amount, vary.transaction_id
        order = self.check_form(fields)
        code = fields.get("AccessCode") or access_code()
        result = self.result({**fields, "AccessCode": code})
        charged = order.total if amount is None else amount
        result["TotalAmount"] = int(charged.scaleb(exponent(order.currency)))
        echoed = options(fields)
        # The only place a currency or a mode comes back is the echo of the request's
        # Options: another currency or mode is reported there.
        for option in echoed:
            if vary.currency and option["Value"].startswith("currency="):
                option["Value"] = f"currency={vary.currency}"
            if option["Value"].startswith("mode="):  # the mode of the account it was made in
                option["Value"] = f"mode={'test' if vary.test else 'live'}"
        result["Options"] = echoed
        number = transaction_id or random_digits(8)
        if status == APPROVED:
            result.update(
                AuthorisationCode=random_digits(6),
                ResponseCode="00",
                ResponseMessage="A2000",
                TransactionStatus=True,
            )
        elif status == DECLINED:
            result.update(ResponseCode="05", ResponseMessage="D4405", TransactionStatus=False)
        else:  # cancelled: nothing was attempted
            number = ""
        if number:
            result["TransactionID"] = int(number) if number.isdigit() else number
            result["Errors"] = None
        body = json.dumps(result, indent=2).encode()
        return Message(
            body=body,
            transaction_id=number or code,
            status=self.statuses[status],
            content_type="application/json; charset=utf-8",
        )

    def tamper(self, message: Message) -> Message:
        """TotalAmount rewritten in the answer (1 minor unit, or 100 where it was 1)."""
        return api_kit.change_json_integer(message, "TotalAmount")

    def forge(self, message: Message) -> Message:
        """eWAY signs nothing: a forged result is these same bytes from anyone but eWAY's
        API (posted to the shop's notify/, say), which the shop must not take."""
        return replace(message, headers={"User-Agent": "not-eway"})

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        return with_query(
            fields.get("RedirectUrl", ""), f"AccessCode={fields.get('AccessCode', '')}"
        )

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        return with_query(fields.get("CancelUrl", ""), f"AccessCode={fields.get('AccessCode', '')}")


stand_in = EwayStandIn()


# -- the API ----------------------------------------------------------------------------------


def _errors(codes: list[str], status: int = 200, **extra: Any) -> JsonResponse:
    return JsonResponse({**extra, "Errors": ",".join(codes)}, status=status)


def _message(status: int, message: str) -> HttpResponse:
    """eWAY's answer outside its Errors codes: a bare ``Message``."""
    return JsonResponse({"Message": message}, status=status)


def _authorize(request: HttpRequest) -> None:
    """HTTP Basic with the played account's API key and password, else eWAY's 401."""
    played = api_kit.account_or_refuse(
        lambda: played_account("eway", "API_KEY", "API_PASSWORD"), _message
    )
    given = api_kit.basic_credentials(request)
    expected = f"{played['API_KEY']}:{played['API_PASSWORD']}"
    if given is None or not played["API_KEY"] or not api_kit.same_secret(given, expected):
        response = HttpResponse(
            b'{"Message":"Authorization has been denied for this request."}',
            status=401,
            content_type="application/json",
        )
        response["WWW-Authenticate"] = 'Basic realm="eWAY"'
        raise api_kit.Refusal(response)


@api_kit.api_view
def api_root(request: HttpRequest) -> HttpResponse:
    return _message(404, "No HTTP resource was found that matches the request URI.")


@api_kit.api_view
def access_codes_shared(request: HttpRequest) -> HttpResponse:
    """``POST /AccessCodesShared``: create the access code, remember it for the page."""
    if request.method != "POST":
        return _message(405, "The requested resource does not support GET.")
    _authorize(request)
    try:
        data = api_kit.json_body(request)
    except ValueError:
        return _errors(["S5000"], status=400)
    if not isinstance(data, dict):
        return _errors(["V6016"])
    fields = flatten(data)
    codes = stand_in.problems(fields)
    if codes:
        return _errors(codes, AccessCode=None, SharedPaymentUrl=None)
    order = stand_in.check_form(fields)
    for url in (order.return_url, order.cancel_url):
        api_kit.refuse_foreign_target(
            stand_in,
            replace(order, notify_url=url),
            lambda _: _errors(["V6059"], AccessCode=None, SharedPaymentUrl=None),
        )
    code = access_code()
    shared = api_kit.hosted_page(request, stand_in.slug, code)
    api_kit.keep(stand_in.slug, code, {**fields, "AccessCode": code, "SharedPaymentUrl": shared})
    payment = data.get("Payment") or {}
    return JsonResponse(
        {
            "SharedPaymentUrl": shared,
            "AccessCode": code,
            "Customer": data.get("Customer") or {},
            "Payment": {
                "TotalAmount": int(fields["Payment.TotalAmount"]),
                "InvoiceNumber": payment.get("InvoiceNumber"),
                "InvoiceDescription": payment.get("InvoiceDescription"),
                "InvoiceReference": payment.get("InvoiceReference"),
                "CurrencyCode": fields["Payment.CurrencyCode"],
            },
            "FormActionURL": None,
            "CompleteCheckoutURL": None,
            "Errors": None,
        }
    )


@api_kit.api_view
def access_code_result(request: HttpRequest, code: str) -> HttpResponse:
    """``GET /AccessCode/{code}``: the decided result (as the page's testing option left
    it), or S5099 while undecided."""
    if request.method != "GET":
        return _message(405, "The requested resource does not support this method.")
    _authorize(request)
    checkout = api_kit.stored(stand_in.slug, code)
    if checkout is None or not _CODE.fullmatch(code):
        return _errors(["V6107"], status=404, AccessCode=None)
    sent = api_kit.last_sent(checkout)
    if sent is None:  # not decided, or cancelled: nothing was attempted
        return JsonResponse(stand_in.result(checkout.fields))
    return HttpResponse(bytes(sent.body), content_type="application/json; charset=utf-8")
