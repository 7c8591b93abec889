"""PayFast, from its side: the checkout form's signature, the ITN and its validation.

Written from PayFast's developer documentation (developers.payfast.co.za/docs: "Custom
integration", steps 1 to 4), not from ``billing.protocols.pay_fast``. The form is signed
over the documented attributes in their documented order; the ITN over its own pairs in
the order sent, then ``/eng/query/validate`` answers VALID only for an ITN this sandbox
sent and nobody changed. PayFast takes ZAR only, from R5.00.
"""

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote_plus, unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from .base import (
    APPROVED,
    AS_ASKED,
    DECLINED,
    FormRejected,
    Message,
    Order,
    StandIn,
    Variation,
    gateway_view,
    random_digits,
)
from .kit import Problems

ATTRIBUTES = (
    "merchant_id merchant_key return_url cancel_url notify_url name_first name_last "
    "email_address cell_number m_payment_id amount item_name item_description "
    "custom_int1 custom_int2 custom_int3 custom_int4 custom_int5 "
    "custom_str1 custom_str2 custom_str3 custom_str4 custom_str5 "
    "email_confirmation confirmation_address payment_method"
).split()
LIMITS = {"m_payment_id": 100, "item_name": 100, "item_description": 255, "name_first": 100}
MINIMUM = Decimal("5.00")


def encode(value: str | bytes) -> str:
    """PHP's urlencode(): space as +, upper-case %XX for all but letters, digits, -_."""
    return quote_plus(value, safe="").replace("~", "%7E")


def digest(pairs: str, passphrase: str) -> str:
    if passphrase:
        pairs += "&passphrase=" + encode(passphrase)
    return hashlib.md5(pairs.encode("ascii"), usedforsecurity=False).hexdigest()


def checkout_signature(fields: Mapping[str, str], passphrase: str) -> str:
    """Step 2: the non-blank attributes in the documented order, then the passphrase."""
    values = ((name, fields.get(name, "").strip()) for name in ATTRIBUTES)
    return digest("&".join(f"{k}={encode(v)}" for k, v in values if v), passphrase)


def canonical(body: bytes) -> str:
    """A posted string's pairs as PayFast writes them, without ``signature``."""
    out = []
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name and name != b"signature":
            raw = [unquote_to_bytes(part.replace(b"+", b" ")) for part in (name, value)]
            out.append(f"{encode(raw[0])}={encode(raw[1])}")
    return "&".join(out)


class PayFastStandIn(StandIn):
    slug = "pay_fast"
    display_name = "PayFast"
    endpoints = {"SERVICE_URL": "process", "VALIDATE_URL": "validate"}
    checkout_paths = {"eng/process": "process"}
    signature_field = "signature"
    # Signed, and then confirmed: the shop asks /eng/query/validate about every ITN.
    verified_by = "postback"
    receiver_setting = "MERCHANT_ID"
    statuses = {APPROVED: "COMPLETE", DECLINED: "FAILED", "pending": "PENDING"}
    accent = "#d52d3d"

    account_keys = ("MERCHANT_ID", "MERCHANT_KEY", "PASSPHRASE")
    amount_fields = ("amount_gross",)
    return_field = "return_url"
    cancel_field = "cancel_url"

    def urlpatterns(self) -> list[URLPattern]:
        return [path("eng/query/validate", validate, name="validate")]

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        if problems.equals("merchant_id", account["MERCHANT_ID"], "the merchant account"):
            problems.equals("merchant_key", account["MERCHANT_KEY"], "the key of the account")
        problems.require("m_payment_id", "item_name")
        unknown = sorted(set(fields) - set(ATTRIBUTES) - {"signature"})
        problems.check(not unknown, f"Unknown attributes: {', '.join(unknown)}.")
        for name, size in LIMITS.items():
            problems.check(len(fields.get(name, "")) <= size, f"{name} exceeds {size} chars.")
        total = problems.amount("amount", "ZAR")
        problems.check(total == 0 or total >= MINIMUM, "The minimum amount is R5.00.")
        problems.http_urls("return_url", "cancel_url", "notify_url")
        if not problems.found:
            expected = checkout_signature(fields, account["PASSPHRASE"])
            problems.signature("signature", expected, case_sensitive=True)
        problems.raise_if_any("PayFast cannot process this payment")
        return self.order(
            fields,
            merchant=account["MERCHANT_ID"],
            reference=fields["m_payment_id"],
            currency="ZAR",
            total=total,
            description="item_name",
            notify="notify_url",
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        if currency.upper() != "ZAR":
            raise FormRejected("PayFast takes rand only", [f"{currency!r} is not ZAR."])
        account = self.account()
        form = {"merchant_id": receiver or account["MERCHANT_ID"]}
        form["merchant_key"] = account["MERCHANT_KEY"]
        form.update(m_payment_id=reference, amount=f"{amount:.2f}")
        form["item_name"] = f"Order {reference}"
        form["signature"] = checkout_signature(form, account["PASSPHRASE"])
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        # The ITN names no currency (always ZAR) and no mode: the shop's validate URL is
        # its mode. Another receiver is reported in merchant_id.
        if vary.currency not in (None, "ZAR"):
            raise NotImplementedError("a PayFast ITN is always in ZAR and names no currency")
        order = self.check_form(fields)
        gross = vary.charged(order.total).quantize(Decimal("0.01"))
        fee = (gross * Decimal("0.035")).quantize(Decimal("0.01"))
        itn = [
            ("m_payment_id", order.reference),
            ("pf_payment_id", vary.transaction_id or random_digits(7)),
            ("payment_status", self.statuses[status]),
            ("item_name", fields.get("item_name", "")),
            ("item_description", fields.get("item_description", "")),
            ("amount_gross", f"{gross}"),
            ("amount_fee", f"-{fee}"),
            ("amount_net", f"{gross - fee}"),
            *((f"custom_str{n}", fields.get(f"custom_str{n}", "")) for n in range(1, 6)),
            *((f"custom_int{n}", fields.get(f"custom_int{n}", "")) for n in range(1, 6)),
            ("name_first", fields.get("name_first", "")),
            ("name_last", fields.get("name_last", "")),
            ("email_address", fields.get("email_address", "")),
            ("merchant_id", vary.receiver or order.merchant),
        ]
        pairs = "&".join(f"{k}={encode(v)}" for k, v in itn)
        signature = digest(pairs, self.account()["PASSPHRASE"])
        body = f"{pairs}&signature={signature}".encode("ascii")
        return Message(body=body, transaction_id=itn[1][1], status=itn[2][1])


stand_in = PayFastStandIn()


@gateway_view
def validate(request: HttpRequest) -> HttpResponse:
    """Step 4's server confirmation: VALID for the pairs of an ITN this sandbox sent."""
    from .. import views

    if request.method != "POST":
        return HttpResponse(b"INVALID", content_type="text/plain", status=405)
    pairs = canonical(request.body)
    signature = digest(pairs, stand_in.account()["PASSPHRASE"])
    sent = views.was_sent(stand_in.slug, f"{pairs}&signature={signature}".encode("ascii"))
    return HttpResponse(b"VALID" if sent else b"INVALID", content_type="text/plain")
