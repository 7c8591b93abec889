"""Global Payments (Realex) Hosted Payment Page, from Global Payments' side.

Written from the Realex "RealAuth HPP Developer's Guide" v1.1.4 and Global Payments'
"Hosted Payment Page" pages (request fields, the two-pass request and response hashes,
result codes, the response posted to ``MERCHANT_RESPONSE_URL`` whose page the HPP shows
the customer), not from ``billing.protocols.global_payments``. Global Payments knows the
merchant's ID, sub-account and shared secret; the stand-in plays that account with the
shop's own ``MERCHANT_SETTINGS["global_payments"]``, read when a request arrives.

What the HPP does that matters here:

- the request hash covers ``TIMESTAMP.MERCHANT_ID.ORDER_ID.AMOUNT.CURRENCY``; a request
  hashed with SHA-256 (``SHA256HASH``) is answered with ``SHA256HASH``, else ``SHA1HASH``;
- the response hash covers ``TIMESTAMP.MERCHANT_ID.ORDER_ID.RESULT.MESSAGE.PASREF.AUTHCODE``
  and not ``AMOUNT``: changing the amount of a response keeps its hash valid;
- an ``ORDER_ID`` the HPP has processed (approved or declined) is refused when it comes
  back: every attempt needs a new one;
- a customer who leaves the page (browser Back, closing it) is not reported: the HPP
  posts a response only for a transaction it attempted. The stand-in's Cancel is that.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

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
    exponent,
    first_values,
    gateway_view,
    played_account,
    random_digits,
)
from .kit import Problems, form_message, minor

SETTINGS_KEY = "global_payments"
HASHES = {"SHA256HASH": "sha256", "SHA1HASH": "sha1"}  # the stronger one wins if both
REQUEST_HASHED = tuple("TIMESTAMP MERCHANT_ID ORDER_ID AMOUNT CURRENCY".split())
RESPONSE_HASHED = tuple("TIMESTAMP MERCHANT_ID ORDER_ID RESULT MESSAGE PASREF AUTHCODE".split())
# Request fields the HPP consumes; every other field is passed back in the response.
CONSUMED = frozenset(
    [*REQUEST_HASHED, *HASHES, "ACCOUNT", "AUTO_SETTLE_FLAG", "MERCHANT_RESPONSE_URL"]
    + ["CARD_PAYMENT_BUTTON", "RETURN_TSS"]
)
# Features that change the hash rules or what the HPP does; the stand-in does not
# model them, so it refuses them rather than answer differently from the HPP.
NOT_MODELLED = tuple(
    "CARD_STORAGE_ENABLE OFFER_SAVE_CARD PAYER_EXIST PAYER_REF PMT_REF HPP_SELECT_STORED_CARD "
    "HPP_FRAUDFILTER_MODE DCC_ENABLE".split()
)
MESSAGES = {"00": "Authorised", "101": "DECLINED"}
TEST_SYSTEM = "[ test system ] "  # how the test system's MESSAGE begins
_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_DIGITS = re.compile(r"^[0-9]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_INVALID = "This payment request cannot be processed"


def merchant_account() -> dict[str, str] | None:
    """The shop's account as its settings describe it (MERCHANT_ID, ACCOUNT, SHARED_SECRET,
    and HASH_FIELD, what the merchant hashes with); None without settings."""
    keys = ("MERCHANT_ID", "ACCOUNT", "SHARED_SECRET", "HASH_ALGORITHM")
    played = played_account(SETTINGS_KEY, *keys)
    if not played["MERCHANT_ID"] or not played["SHARED_SECRET"]:
        return None
    played["ACCOUNT"] = played["ACCOUNT"] or "internet"
    sha256 = played["HASH_ALGORITHM"].lower() == "sha256"
    played["HASH_FIELD"] = "SHA256HASH" if sha256 else "SHA1HASH"
    return played


def two_pass_hash(values: list[str], secret: str, algorithm: str) -> str:
    """``H(H("v1.v2....") + "." + secret)``, lower-case hex, as the HPP computes it."""
    first = hashlib.new(algorithm, ".".join(values).encode("utf-8")).hexdigest()
    return hashlib.new(algorithm, f"{first}.{secret}".encode()).hexdigest()


def _hash_field(fields: Mapping[str, str]) -> str:
    return next((name for name in HASHES if fields.get(name)), "SHA1HASH")


class GlobalPaymentsStandIn(StandIn):
    slug = "global_payments"
    display_name = "Global Payments"
    endpoints = {"SERVICE_URL": "pay"}
    verified_by = "signature"
    receiver_setting = "MERCHANT_ID"
    statuses = {APPROVED: "00", DECLINED: "101"}
    shows_reply = True  # the HPP shows the customer the response URL's page
    accent = "#005a8c"
    other_amount_hint = (
        "The HPP reports another AMOUNT, authentically, but its hash does not cover AMOUNT, "
        "and the hashed ORDER_ID carries the order's amount: the two disagree as in a "
        "forged response, so the shop must reject it."
    )
    tamper_hint = (
        "AMOUNT is changed on the way to the shop. The response hash does not cover it, "
        "but AMOUNT no longer matches the amount the hashed ORDER_ID carries: the shop "
        "must reject it."
    )
    # AMOUNT (in minor units) is changed on the wire: the response hash does not cover it.
    amount_fields = ("AMOUNT",)
    tamper_amounts = ("1", "100")
    # No return or cancel field: the HPP only shows the response page, and leaving it is
    # the browser's Back button, not a link the HPP knows.

    def urlpatterns(self) -> list[URLPattern]:
        return [path("pay", pay, name="pay")]

    # -- the request --------------------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        problems, account = Problems(fields), merchant_account()
        merchant_id = fields.get("MERCHANT_ID", "")
        if not merchant_id:
            problems.add("MERCHANT_ID is missing.")
        elif account is None:
            problems.add(
                f"The sandbox knows no merchant: it plays MERCHANT_SETTINGS[{SETTINGS_KEY!r}] "
                "(run it with the shop's settings)."
            )
        elif merchant_id != account["MERCHANT_ID"]:
            problems.add(
                f"MERCHANT_ID {merchant_id!r} is not a merchant this sandbox knows (it plays "
                f"MERCHANT_SETTINGS[{SETTINGS_KEY!r}])."
            )
        elif fields.get("ACCOUNT", account["ACCOUNT"]) != account["ACCOUNT"]:
            problems.add(f"ACCOUNT {fields['ACCOUNT']!r} is not a sub-account of {merchant_id}.")
        order_id = fields.get("ORDER_ID", "")
        problems.check(
            bool(_ORDER_ID.match(order_id)),
            "ORDER_ID must be 1 to 50 characters of A-Z, a-z, 0-9, _ and -.",
        )
        currency = fields.get("CURRENCY", "")
        problems.check(
            bool(_CURRENCY.match(currency)), f"CURRENCY {currency!r} is not an ISO 4217 code."
        )
        amount = fields.get("AMOUNT", "")
        total = Decimal(0)
        if not _DIGITS.match(amount):
            problems.add(
                f"AMOUNT {amount!r} is not in minor units: digits only (1000 for 10.00 EUR)."
            )
        elif problems.check(int(amount) > 0, "AMOUNT must be more than zero."):
            total = Decimal(int(amount)).scaleb(-exponent(currency))
        try:
            datetime.strptime(fields.get("TIMESTAMP", ""), "%Y%m%d%H%M%S")
        except ValueError:
            problems.add("TIMESTAMP must be YYYYMMDDHHMMSS.")
        problems.check(
            fields.get("AUTO_SETTLE_FLAG", "1") in ("0", "1", "MULTI"),
            "AUTO_SETTLE_FLAG must be 0, 1 or MULTI.",
        )
        problems.check(fields.get("HPP_VERSION", "1") in ("1", "2"), "HPP_VERSION must be 1 or 2.")
        url = problems.http_url("MERCHANT_RESPONSE_URL")
        for name in ("COMMENT1", "COMMENT2"):
            problems.check(
                len(fields.get(name, "")) <= 255, f"{name} is longer than 255 characters."
            )
        unmodelled = [name for name in NOT_MODELLED if fields.get(name)]
        problems.check(
            not unmodelled, f"{', '.join(unmodelled)}: the sandbox does not model these."
        )
        if account is not None and not problems.found:
            for problem in self._hash_problems(fields, account):
                problems.add(problem)
        problems.raise_if_any(_INVALID)
        notes = [
            "Cancel leaves the page: the HPP tells the shop nothing and has no link back "
            "to it. The sandbox's Return link, like your browser's Back button, takes you "
            "back to the shop's page."
        ]
        if not url:
            notes.append(
                "No MERCHANT_RESPONSE_URL: Global Payments would use the one set on the "
                "account; the sandbox sends no response."
            )
        return self.order(
            fields,
            merchant=merchant_id,
            reference=order_id,
            currency=currency,
            total=total,
            description="COMMENT1",
            notify_url=url,
            notes=notes,
        )

    @staticmethod
    def _hash_problems(fields: Mapping[str, str], account: Mapping[str, str]) -> list[str]:
        name = _hash_field(fields)
        received = fields.get(name, "").strip().lower()
        if not received:
            return ["SHA1HASH (or SHA256HASH) is missing."]
        values = [fields.get(field, "") for field in REQUEST_HASHED]
        expected = two_pass_hash(values, account["SHARED_SECRET"], HASHES[name])
        if not hmac.compare_digest(expected.encode(), received.encode()):
            return [
                f"{name} is incorrect: it must hash {'.'.join(REQUEST_HASHED)} and then the "
                "shared secret. Check the secret and the values sent."
            ]
        return []

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        currency = currency.upper()
        form = {
            "TIMESTAMP": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
            "MERCHANT_ID": receiver,
            "ORDER_ID": reference,
            "AMOUNT": str(minor(amount, currency)),
            "CURRENCY": currency,
            "AUTO_SETTLE_FLAG": "1",
            "HPP_VERSION": "2",
        }
        account = merchant_account()
        if account is not None:
            form["ACCOUNT"] = account["ACCOUNT"]
            values = [form[field] for field in REQUEST_HASHED]
            name = account["HASH_FIELD"]
            form[name] = two_pass_hash(values, account["SHARED_SECRET"], HASHES[name])
        return form

    # -- the response -------------------------------------------------------------------

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The response; ``vary`` names another merchant, or the production system (whose
        MESSAGE lacks "[ test system ]"). It names no currency: another one is the response
        to another request."""
        if vary.currency:
            raise NotImplementedError("the HPP's response names no currency")
        order = self.check_form(fields)
        account = merchant_account()
        if account is None:  # check_form refuses every request without one
            raise FormRejected(_INVALID, ["The sandbox knows no Global Payments account."])
        result = self.statuses.get(status)
        if result is None:
            raise FormRejected(
                "The HPP sends no such response",
                [f"{status!r}: the sandbox answers 00 (authorised) or 101 (declined)."],
            )
        charged = vary.charged(order.total)
        response = {
            "TIMESTAMP": fields["TIMESTAMP"],
            "MERCHANT_ID": vary.receiver or account["MERCHANT_ID"],
            "ACCOUNT": fields.get("ACCOUNT", account["ACCOUNT"]),
            "ORDER_ID": order.reference,
            "RESULT": result,
            "AUTHCODE": f"{secrets.randbelow(10**6):06d}" if result == "00" else "",
            "MESSAGE": (TEST_SYSTEM if vary.test else "") + MESSAGES[result],
            "PASREF": vary.transaction_id or random_digits(17),
            "AVSPOSTCODERESULT": "M",
            "AVSADDRESSRESULT": "M",
            "CVNRESULT": "M",
            "BATCHID": str(secrets.randbelow(10**6)) if result == "00" else "-1",
            "AMOUNT": str(minor(charged, order.currency)),
        }
        # Pass-through: the merchant's own fields come back as sent, never over the HPP's.
        response.update(
            {
                k: v
                for k, v in fields.items()
                if k not in CONSUMED and k not in response and not k.startswith("HPP_")
            }
        )
        name = _hash_field(fields)
        values = [response[field] for field in RESPONSE_HASHED]
        response[name] = two_pass_hash(values, account["SHARED_SECRET"], HASHES[name])
        return form_message(response, transaction_id=response["PASREF"], status=result)

    def forge(self, message: Message) -> Message:
        """The response with a hash the HPP never made, in whichever field it carries one."""
        pairs = message.body.split(b"&")
        for i, pair in enumerate(pairs):
            name, _, value = pair.partition(b"=")
            if name.decode() in HASHES:
                pairs[i] = name + b"=" + (b"1" if value[:1] == b"0" else b"0") * len(value)
        return replace(message, body=b"&".join(pairs))


def _processed(order_id: str) -> bool:
    """Has the HPP already attempted a transaction with this ORDER_ID?"""
    from ..models import Checkout

    return Checkout.objects.filter(
        gateway=stand_in.slug, fields__ORDER_ID=order_id, decision__in=("approved", "declined")
    ).exists()


@gateway_view
def pay(request: HttpRequest) -> HttpResponse:
    """``/pay``: check the request and its hash, then show the payment page."""
    from .. import views

    fields = first_values(request)
    order_id = fields.get("ORDER_ID", "")
    if order_id and _processed(order_id):
        problem = f"ORDER_ID {order_id!r} has already been processed: use a new one per attempt."
        return views.error_page(request, stand_in, FormRejected(_INVALID, [problem]))
    return views.begin_checkout(request, stand_in, fields)


stand_in = GlobalPaymentsStandIn()
