"""PayPal Payments Standard, from PayPal's side: the payment page, IPN, postback and PDT.

Written from PayPal's "HTML Variables for PayPal Payments Standard", the "IPN
Integration Guide" and its variable reference, and the "Payment Data Transfer" page
(developer.paypal.com, NVP/SOAP legacy section), not from ``billing.protocols.pay_pal``.
Where PayPal would compute a total from variables this stand-in does not model
(``tax_rate``, ``discount_*``, ``shipping2`` ...), the form is refused with a page that
says so, rather than silently charging a different total than PayPal would.
"""

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from .base import (
    APPROVED,
    AS_ASKED,
    FormRejected,
    Item,
    Message,
    Order,
    StandIn,
    Variation,
    gateway_view,
    played_account,
    with_query,
)
from .kit import Problems

# PayPal's currency list for Payments Standard; these three take no decimals.
CURRENCIES = frozenset(
    "AUD BRL CAD CNY CZK DKK EUR HKD HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP RUB SGD SEK "
    "CHF THB USD".split()
)
ZERO_DECIMAL = frozenset({"HUF", "JPY", "TWD"})
# Variables with which PayPal computes a different total than items + shipping + tax +
# handling. The stand-in refuses them instead of pretending.
NOT_MODELLED = tuple(
    "tax_rate discount_amount discount_amount2 discount_rate discount_rate2 discount_rate_cart "
    "shipping2 undefined_quantity".split()
)
DEFAULT_CHARSET = "windows-1252"  # PayPal's assumption when the form names none
_ID = string.ascii_uppercase + string.digits
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MERCHANT_ID = re.compile(r"^[A-Z0-9]{13}$")
_PAYER = "buyer@sandbox.example"


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ID) for _ in range(length))


def _exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def _format(amount: Decimal, currency: str) -> str:
    exponent = _exponent(currency)
    return str(amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP))


def _payment_date() -> str:
    """PayPal dates its IPNs in its own time zone, e.g. ``20:12:59 Jan 13, 2026 PST``."""
    try:
        now = datetime.now(ZoneInfo("America/Los_Angeles"))
    except ZoneInfoNotFoundError:
        now = datetime.now(UTC)
    return now.strftime("%H:%M:%S %b %d, %Y ") + (now.tzname() or "UTC")


class PayPalStandIn(StandIn):
    slug = "pay_pal"
    display_name = "PayPal"
    endpoints = {"SERVICE_URL": "webscr", "POSTBACK_URL": "ipnpb", "PDT_URL": "webscr"}
    verified_by = "postback"
    receiver_setting = "RECEIVER_EMAIL"
    statuses = {
        "paid": "Completed",
        "failed": "Denied",
        "pending": "Pending",
        "cancelled": "Voided",
    }
    # No signature: a notification PayPal never sent is one its postback does not know,
    # such as an IPN whose verify_sign is not the one PayPal made.
    signature_field = "verify_sign"
    accent = "#0b3d91"
    amount_fields = ("mc_gross",)  # lowered on the wire, as someone in the middle would
    return_field = "return"
    cancel_field = "cancel_return"
    tamper_hint = (
        "The amount is changed on the way to the shop: PayPal's postback answers INVALID "
        "for a notification it did not send, so the shop must reject it."
    )

    def urlpatterns(self) -> list[URLPattern]:
        # Like PayPal: one script for the payment page and PDT, and the IPN
        # postback host's script, which answers _notify-validate.
        return [
            path("cgi-bin/webscr", webscr, name="webscr"),
            path("ipnpb/cgi-bin/webscr", webscr, name="ipnpb"),
        ]

    # -- the form -----------------------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        problems = Problems(fields)
        cmd = fields.get("cmd", "")
        if cmd == "_s-xclick":
            raise FormRejected(
                "Encrypted buttons are not supported by the sandbox",
                [
                    "This form is an encrypted button (cmd=_s-xclick). The sandbox cannot "
                    "decrypt it: it does not hold PayPal's private key.",
                    "Leave EWP out of MERCHANT_SETTINGS while BILLING_SANDBOX is on.",
                ],
                status=501,
            )
        if cmd not in ("_xclick", "_cart"):
            raise FormRejected(
                "This button type is not available",
                [f"cmd={cmd!r}: the sandbox takes Buy Now (_xclick) and cart uploads (_cart)."],
            )
        business = fields.get("business", "").strip()
        if problems.check(
            bool(business),
            "The seller's PayPal account is missing: business must name the seller's "
            "email address or merchant account ID.",
        ):
            problems.check(
                bool(_EMAIL.match(business) or _MERCHANT_ID.match(business)),
                f"business={business!r} is neither an email address nor a merchant ID.",
            )
        currency = fields.get("currency_code", "USD").strip().upper() or "USD"
        if not problems.check(
            currency in CURRENCIES, f"The currency code {currency!r} is not supported by PayPal."
        ):
            currency = "USD"
        reference = fields.get("invoice", "")
        if problems.check(
            bool(reference),
            "invoice is missing. PayPal would accept that, but without it no shop can "
            "tell which order a notification is for, so the sandbox refuses it.",
        ):
            problems.check(len(reference) <= 127, "invoice is longer than 127 characters.")
        problems.check(
            len(fields.get("custom", "")) <= 256, "custom is longer than 256 characters."
        )
        unmodelled = [name for name in NOT_MODELLED if fields.get(name)]
        problems.check(
            not unmodelled,
            f"{', '.join(unmodelled)}: PayPal would change the total with these, "
            "and the sandbox does not model them.",
        )
        problems.http_urls("notify_url", "return", "cancel_return")

        def money(name: str, required: bool = False) -> Decimal:
            text = fields.get(name, "")
            if not text:
                problems.check(not required, f"{name} is missing: the item has no price.")
                return Decimal(0)
            pattern = r"^\d+$" if _exponent(currency) == 0 else r"^\d+(\.\d{1,2})?$"
            places = "no decimals" if _exponent(currency) == 0 else "at most two decimals"
            if problems.check(
                bool(re.match(pattern, text)),
                f"{name}={text!r} is an incorrectly formatted amount "
                f"(digits and a dot, {places} in {currency}).",
            ):
                return Decimal(text)
            return Decimal(0)

        def quantity(name: str) -> int:
            text = fields.get(name, "") or "1"
            ok = text.isdigit() and int(text) >= 1
            problems.check(ok, f"{name}={text!r} is not a positive whole number.")
            return int(text) if ok else 1

        def item(n: str) -> Item:
            price = money(f"amount{n}", required=True)
            return Item(fields.get(f"item_name{n}", ""), quantity(f"quantity{n}"), price)

        extras = ("shipping", "tax", "handling")
        if cmd == "_xclick":
            items = [item("")]
            total = items[0].amount * items[0].quantity + sum(map(money, extras), Decimal(0))
        else:
            problems.check(fields.get("upload") == "1", "A cart upload (cmd=_cart) needs upload=1.")
            items, total, n = [], Decimal(0), 1
            while f"item_name_{n}" in fields or f"amount_{n}" in fields:
                items.append(item(f"_{n}"))
                problems.check(bool(items[-1].name), f"item_name_{n} is missing.")
                total += items[-1].amount * items[-1].quantity
                total += sum((money(f"{extra}_{n}") for extra in extras), Decimal(0))
                n += 1
            problems.check(n > 1, "The cart is empty: item_name_1 and amount_1 are missing.")
            total += money("tax_cart") + money("handling_cart") - money("discount_amount_cart")
        if not problems.found:
            problems.check(total > 0, "The amount to pay must be more than zero.")
        charset = fields.get("charset", DEFAULT_CHARSET)
        try:
            "".encode(charset)
        except LookupError:
            problems.add(f"charset={charset!r} is not a character set PayPal knows.")
        problems.raise_if_any("PayPal cannot process this payment")
        notes: tuple[str, ...] = ()
        if not fields.get("notify_url"):
            notes = ("No notify_url: PayPal would use the IPN URL of the seller's profile.",)
        return Order(
            merchant=business,
            reference=reference,
            currency=currency,
            total=total,
            items=tuple(items),
            notify_url=fields.get("notify_url", ""),
            return_url=self.return_url(fields, None),
            cancel_url=self.cancel_url(fields),
            notes=notes,
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        return {
            "cmd": "_xclick",
            "business": receiver,
            "invoice": reference,
            "amount": _format(amount, currency.upper()),
            "currency_code": currency.upper(),
            "item_name": f"Order {reference}",
            "charset": "utf-8",
        }

    # -- the IPN ------------------------------------------------------------------------

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The IPN; ``vary`` names another currency, receiving account, or a live IPN
        (without ``test_ipn``)."""
        order = self.check_form(fields)
        currency = vary.currency or order.currency
        gross = vary.charged(order.total)
        payment_status = self.statuses.get(status, status)
        txn_id = vary.transaction_id or _random_id(17)
        business = vary.receiver or order.merchant
        if "@" in business:
            receiver_email, receiver_id = business, _pseudo_merchant_id(business)
        else:
            receiver_email, receiver_id = f"{business.lower()}@merchant.sandbox.example", business
        charset = fields.get("charset", DEFAULT_CHARSET)
        ipn = [("mc_gross", _format(gross, currency)), ("protection_eligibility", "Eligible")]
        ipn += [("payer_id", _random_id(13)), ("payment_date", _payment_date())]
        ipn += [("payment_status", payment_status), ("charset", charset)]
        ipn += [("first_name", "Sandy"), ("last_name", "Buyer")]
        if status == APPROVED:
            fixed = Decimal(30) if _exponent(currency) == 0 else Decimal("0.30")
            ipn.append(("mc_fee", _format(gross * Decimal("0.029") + fixed, currency)))
        ipn += [("notify_version", "3.9"), ("payer_status", "verified"), ("business", business)]
        ipn += [("verify_sign", secrets.token_urlsafe(42)), ("payer_email", _PAYER)]
        ipn += [("txn_id", txn_id), ("payment_type", "instant")]
        ipn += [("receiver_email", receiver_email), ("receiver_id", receiver_id)]
        if fields.get("cmd") == "_cart":
            ipn += [("txn_type", "cart"), ("num_cart_items", str(len(order.items)))]
            for n, item in enumerate(order.items, start=1):
                ipn += [(f"item_name{n}", item.name)]
                ipn += [(f"item_number{n}", fields.get(f"item_number_{n}", ""))]
                ipn += [(f"quantity{n}", str(item.quantity))]
                ipn += [(f"mc_gross_{n}", _format(item.amount * item.quantity, currency))]
            ipn.append(("tax", _format(Decimal(fields.get("tax_cart") or 0), currency)))
        else:
            ipn += [("txn_type", "web_accept"), ("item_name", order.items[0].name)]
            ipn += [("item_number", fields.get("item_number", ""))]
            ipn += [("quantity", str(order.items[0].quantity))]
            ipn += [
                ("shipping", fields.get("shipping", "0.00")),
                ("tax", fields.get("tax", "0.00")),
            ]
        if fields.get("custom"):
            ipn.append(("custom", fields["custom"]))
        ipn += [("mc_currency", currency), ("residence_country", "US")]
        ipn += [("test_ipn", "1")] if vary.test else []
        ipn += [("invoice", order.reference), ("transaction_subject", fields.get("custom", ""))]
        ipn.append(("ipn_track_id", secrets.token_hex(7)[:13]))
        body = urlencode(ipn, encoding=charset, errors="strict").encode("ascii")
        return Message(
            body=body,
            transaction_id=txn_id,
            status=payment_status,
            headers={"User-Agent": "PayPal IPN (billing sandbox)"},
        )

    # -- sending the customer back ----------------------------------------------------------

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        """The return URL with the variables PayPal's auto-return adds for PDT."""
        url = super().return_url(fields, message)
        if not url or message is None:
            return url
        ipn = dict(
            parse_qsl(message.body.decode("ascii"), encoding=fields.get("charset", DEFAULT_CHARSET))
        )
        extra = urlencode(
            {
                "tx": message.transaction_id,
                "st": message.status,
                "amt": ipn.get("mc_gross", ""),
                "cc": ipn.get("mc_currency", ""),
                "cm": fields.get("custom", ""),
                "item_number": fields.get("item_number", ""),
            }
        )
        return with_query(url, extra)


def _pseudo_merchant_id(email: str) -> str:
    """A stable 13-character account ID for a seller email, like PayPal's receiver_id."""
    digest = hashlib.sha256(email.casefold().encode()).digest()
    return "".join(_ID[b % len(_ID)] for b in digest[:13])


def read_form(request: HttpRequest) -> dict[str, str]:
    """The form in the charset it names (PayPal's default otherwise); first value wins."""
    if request.method == "POST" and request.content_type == "multipart/form-data":
        return {name: request.POST[name] for name in request.POST}
    if request.method == "POST":
        raw = request.body
    else:  # a Buy Now link
        raw = request.META.get("QUERY_STRING", "").encode()
    try:
        text = raw.decode("ascii")
        names = dict(parse_qsl(text, keep_blank_values=True, encoding="ascii", errors="replace"))
        charset = names.get("charset", "") or DEFAULT_CHARSET
        pairs = parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")
    except (UnicodeDecodeError, LookupError) as exc:
        raise FormRejected(
            "PayPal cannot read this form",
            [f"The form is not valid in the character set it names: {exc}."],
        ) from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


@gateway_view
def webscr(request: HttpRequest) -> HttpResponse:
    """PayPal's one script: a payment form, an IPN postback or a PDT request, by cmd."""
    from .. import views

    if request.method == "POST" and request.body.startswith(b"cmd=_notify-validate&"):
        message = request.body[len(b"cmd=_notify-validate&") :]
        verified = views.was_sent(stand_in.slug, message)
        return HttpResponse(b"VERIFIED" if verified else b"INVALID", content_type="text/plain")
    try:
        fields = read_form(request)
    except FormRejected as exc:
        return views.error_page(request, stand_in, exc)
    if fields.get("cmd") == "_notify-synch":
        return _pdt(fields)
    return views.begin_checkout(request, stand_in, fields)


def _pdt(fields: Mapping[str, str]) -> HttpResponse:
    """Payment Data Transfer: the transaction's variables, one per line, after SUCCESS.

    Only for the seller's identity token (``PDT_TOKEN`` in the shop's settings), as
    PayPal answers: without it anyone could read any transaction.
    """
    from .. import views

    token = played_account(stand_in.slug, "PDT_TOKEN")["PDT_TOKEN"]
    given = fields.get("at", "")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse(b"FAIL\nError: 4002\n", content_type="text/plain")
    body = views.sent_body(stand_in.slug, fields.get("tx", ""))
    if body is None:
        return HttpResponse(b"FAIL\nError: 4003\n", content_type="text/plain")
    return HttpResponse(b"SUCCESS\n" + body.replace(b"&", b"\n") + b"\n", content_type="text/plain")


stand_in = PayPalStandIn()
