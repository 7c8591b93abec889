"""iPay88 Malaysia (OPSG), from iPay88's side.

Written from iPay88's "OPSG Technical Specification v1.6.4 (For Malaysia Only)" and the
worked examples of the "OPSG Technical Specification (Merchant Tokenization) v1.0.6",
section 3, not from ``billing.protocols.ipay88``:

- the request ``Signature`` is hex SHA-256 of MerchantKey, MerchantCode, RefNo, the
  Amount's digits ("." and "," removed) and Currency, concatenated;
- the response (to ``ResponseURL`` through the browser, and to ``BackendURL`` server to
  server) is signed over MerchantKey, MerchantCode, PaymentId, RefNo, Amount digits,
  Currency and Status; ``Amount`` comes with thousands commas (``1,278.99``);
- ``Status`` is ``1`` (success) or ``0`` (fail, with ``ErrDesc``).

What the stand-in does beyond the document: the v1.0.6 document sends the backend post
for successful payments only; this one also posts a declined payment (``Status`` 0), so
that the shop's handling of a signed failure is exercised. iPay88 has no cancel URL: a
Cancel here ends on the sandbox's own page. A billing shop in test mode marks ``RefNo``
with ``-TEST``; asked for a live (or a test) report of an order, the stand-in takes the
marker off (or puts it on), as the other mode's form would have sent it.
"""

import hashlib
from collections.abc import Mapping
from decimal import Decimal

from .base import (
    APPROVED,
    AS_ASKED,
    CANCELLED,
    DECLINED,
    Message,
    Order,
    StandIn,
    Variation,
    random_digits,
)
from .kit import Problems, form_message

CURRENCIES = ("MYR", "USD", "CNY")
TEST_MARKER = "-TEST"
CREDIT_CARD = "2"  # PaymentId of credit card (MYR) in the document's appendix


def _digits(amount: str) -> str:
    return amount.replace(",", "").replace(".", "")


def request_signature(fields: Mapping[str, str], key: str) -> str:
    text = (
        key
        + fields.get("MerchantCode", "")
        + fields.get("RefNo", "")
        + _digits(fields.get("Amount", ""))
        + fields.get("Currency", "")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def response_signature(fields: Mapping[str, str], key: str) -> str:
    text = "".join(
        [
            key,
            fields["MerchantCode"],
            fields["PaymentId"],
            fields["RefNo"],
            _digits(fields["Amount"]),
            fields["Currency"],
            fields["Status"],
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _ref_no(ref_no: str, test: bool) -> str:
    marked = ref_no.endswith(TEST_MARKER)
    if test and not marked:
        return ref_no + TEST_MARKER
    if not test and marked:
        return ref_no[: -len(TEST_MARKER)]
    return ref_no


class Ipay88StandIn(StandIn):
    slug = "ipay88"
    display_name = "iPay88"
    accent = "#e4002b"
    endpoints = {"SERVICE_URL": "entry"}
    checkout_paths = {"epayment/entry.asp": "entry"}
    signature_field = "Signature"
    verified_by = "signature"
    receiver_setting = "MERCHANT_CODE"
    statuses = {APPROVED: "1", DECLINED: "0", CANCELLED: "0"}
    account_keys = ("MERCHANT_CODE", "MERCHANT_KEY")
    amount_fields = ("Amount",)
    return_field = "ResponseURL"  # no cancel field: a Cancel posts Status 0 here too

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        problems.require("RefNo", "ProdDesc")
        if problems.equals("MerchantCode", account["MERCHANT_CODE"], "the merchant code"):
            problems.check(
                fields.get("SignatureType", "SHA256") == "SHA256",
                "SignatureType is not SHA256.",
            )
            problems.signature("Signature", request_signature(fields, account["MERCHANT_KEY"]))
        currency = fields.get("Currency", "")
        problems.check(currency in CURRENCIES, f"Currency {currency!r} is not enabled.")
        total = problems.amount("Amount", currency)
        problems.check(len(fields.get("RefNo", "")) <= 30, "RefNo is longer than 30.")
        problems.http_urls("ResponseURL", "BackendURL")
        problems.raise_if_any("iPay88: Invalid parameters")
        return self.order(
            fields,
            merchant=account["MERCHANT_CODE"],
            reference=fields.get("RefNo", ""),
            currency=currency,
            total=total,
            description="ProdDesc",
            notify="BackendURL",
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        form = {
            "MerchantCode": receiver,
            "RefNo": _ref_no(reference, True),
            "Amount": f"{amount.quantize(Decimal('0.01')):f}",
            "Currency": currency.upper(),
            "ProdDesc": f"Order {reference}",
            "SignatureType": "SHA256",
        }
        form["Signature"] = request_signature(form, self.account()["MERCHANT_KEY"])
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        order = self.check_form(fields)
        charged = vary.charged(order.total)
        code = self.statuses[status]
        sent = {
            "MerchantCode": vary.receiver or order.merchant,
            "PaymentId": fields.get("PaymentId") or CREDIT_CARD,
            "RefNo": _ref_no(order.reference, vary.test),
            "Amount": f"{charged.quantize(Decimal('0.01')):,f}",
            "Currency": vary.currency or order.currency,
            "Remark": fields.get("Remark", ""),
            "TransId": vary.transaction_id or "T0" + random_digits(11),
            "AuthCode": random_digits(6) if code == "1" else "",
            "Status": code,
            "ErrDesc": {
                APPROVED: "",
                DECLINED: "Declined by bank",
                CANCELLED: "Customer Cancel Transaction",
            }[status],
        }
        sent["Signature"] = response_signature(sent, self.account()["MERCHANT_KEY"])
        return form_message(sent, transaction_id=sent["TransId"], status=code)


stand_in = Ipay88StandIn()
