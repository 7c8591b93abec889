"""PayU India, from PayU's side: the ``_payment`` page and its signed response.

Written from docs.payu.in ("Generate Hash", "Web Integration - PayU Hosted"), not from
``billing.protocols.payu_in``:

- the form is checked as ``_payment`` checks it: ``key`` must be the account's,
  ``txnid``, ``amount``, ``productinfo``, ``surl`` and ``furl`` must be there, and
  ``hash`` must be sha512(key|txnid|amount|productinfo|firstname|email|udf1..udf5|||||
  |SALT). PayU also insists on ``firstname`` and ``email``; the sandbox only notes them
  missing, since a shop that knows nothing of its customer can still be tried;
- the response is the same fields and a reverse hash, sha512(SALT|status|udf10..udf1|
  email|firstname|productinfo|amount|txnid|key), posted server to server as a webhook
  to the URL set in PayU's dashboard: here ``SANDBOX_WEBHOOK_URL`` in the account's
  settings, else the shop's ``billing/payu_in/notify/``. The customer goes to ``surl``
  on success, ``furl`` on failure, and ``curl`` on a cancel (no webhook then);
- PayU returns ``udf5`` as it came. A billing shop writes its mode there
  (``billing-test`` / ``billing-live``); the sandbox answers with the marker of the
  environment it plays (test, unless a test asks for a live one), as PayU's test and
  live environments only ever see the forms of a shop in that mode.
"""

from collections.abc import Mapping
from decimal import Decimal
from hashlib import sha512

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
    shop_settings,
)
from .kit import Problems, form_message, shop_notify_url

SLUG = "payu_in"
MARKERS = {True: "billing-test", False: "billing-live"}


def request_hash(fields: Mapping[str, str], salt: str) -> str:
    head = [fields.get(n, "") for n in ("key", "txnid", "amount", "productinfo", "firstname")]
    udfs = [fields.get(f"udf{i}", "") for i in range(1, 6)]
    text = "|".join([*head, fields.get("email", ""), *udfs, "", "", "", "", "", salt])
    return sha512(text.encode("utf-8")).hexdigest()


def reverse_hash(fields: Mapping[str, str], salt: str) -> str:
    udfs = [fields.get(f"udf{i}", "") for i in range(10, 0, -1)]
    tail = [fields.get(n, "") for n in ("email", "firstname", "productinfo", "amount", "txnid")]
    parts = [salt, fields.get("status", ""), *udfs, *tail, fields.get("key", "")]
    charges = fields.get("additional_charges", "")
    text = "|".join([charges, *parts] if charges else parts)
    return sha512(text.encode("utf-8")).hexdigest()


def webhook_url() -> str:
    """The dashboard's webhook URL: the setting, else the shop's notify URL."""
    configured = shop_settings(SLUG) or {}
    if configured.get("SANDBOX_WEBHOOK_URL"):
        return str(configured["SANDBOX_WEBHOOK_URL"])
    return shop_notify_url(SLUG)


class PayuInStandIn(StandIn):
    slug = SLUG
    display_name = "PayU India"
    endpoints = {"SERVICE_URL": "payment"}
    checkout_paths = {"_payment": "payment"}
    signature_field = "hash"
    verified_by = "signature"
    receiver_setting = "MERCHANT_KEY"
    statuses = {APPROVED: "success", DECLINED: "failure", CANCELLED: "failure"}
    accent = "#a6c307"
    account_keys = ("MERCHANT_KEY", "SALT")
    amount_fields = ("amount",)
    return_field = "surl"  # on success: a failure goes to furl (see return_url)
    cancel_field = "curl"

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        if problems.equals("key", account["MERCHANT_KEY"], "the merchant key"):
            problems.signature("hash", request_hash(fields, account["SALT"]))
        problems.require("txnid", "productinfo")
        total = problems.amount("amount", "INR")
        problems.http_urls("surl", "furl", required=True)
        problems.http_url("curl")
        problems.raise_if_any("PayU cannot process this payment")
        missing = [name for name in ("firstname", "email") if not fields.get(name)]
        return self.order(
            fields,
            merchant=account["MERCHANT_KEY"],
            reference=fields["txnid"],
            currency="INR",
            total=total,
            description="productinfo",
            notify_url=webhook_url(),
            notes=[f"PayU's live page requires {' and '.join(missing)}."] if missing else [],
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        form = {"key": receiver, "txnid": reference, "amount": f"{amount:.2f}"}
        form.update(productinfo=f"Order {reference}", udf5=MARKERS[True])
        form.update(surl="http://127.0.0.1:8000/r", furl="http://127.0.0.1:8000/r")
        form["hash"] = request_hash(form, self.account()["SALT"])
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        if vary.currency not in (None, "INR"):
            raise NotImplementedError("PayU India's response names no currency: it is INR")
        order = self.check_form(fields)
        sent = {
            "mihpayid": vary.transaction_id or random_digits(12),
            "mode": "CC",
            "status": self.statuses[status],
            "unmappedstatus": "userCancelled" if status == CANCELLED else self.statuses[status],
            "key": vary.receiver or order.merchant,
            "txnid": order.reference,
            "amount": f"{vary.charged(order.total):.2f}",
            "productinfo": fields.get("productinfo", ""),
            "firstname": fields.get("firstname", ""),
            "email": fields.get("email", ""),
        }
        for i in range(1, 11):
            sent[f"udf{i}"] = fields.get(f"udf{i}", "")
        if sent["udf5"] in MARKERS.values():
            sent["udf5"] = MARKERS[vary.test]
        sent["hash"] = reverse_hash(sent, self.account()["SALT"])
        return form_message(sent, transaction_id=sent["mihpayid"], status=sent["status"])

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        if message is not None and message.status != "success":
            return fields.get("furl", "")
        return super().return_url(fields, message)


stand_in = PayuInStandIn()
