"""Worldline e-Commerce (formerly Ogone), from Worldline's side: hosted page and feedback.

Written from the legacy Worldline e-Commerce "Hosted Payment Page" integration guide
(support.legacy.worldline-solutions.com; formerly Ingenico ePayments' e-Commerce guide)
and its "Possible errors" and "Possible statuses" lists, not from
``billing.protocols.ogone_payments``:

- the form is checked as ``orderstandard_utf8.asp`` checks it: ``PSPID`` must be the
  account's ("PSPID not found or not active"), ``SHASIGN`` must be there ("unknown
  order/0/s/") and be the SHA-IN digest ("unknown order/1/s/"): every SHA-IN parameter
  with a value, name upper-cased, sorted, ``NAME=value`` + passphrase, hashed with the
  account's algorithm, upper-case hex;
- the result goes to the shop twice, both signed with SHA-OUT over the out-parameters:
  the post-sale request to the URL set in the back office (Worldline's "Transaction
  feedback" tab, not a form field), and the redirection of the customer to
  ``ACCEPTURL`` / ``DECLINEURL`` / ``EXCEPTIONURL`` / ``CANCELURL`` with the same
  parameters appended.

The stand-in plays the shop's own account: PSPID, passphrases and algorithm come from
the shop's ``MERCHANT_SETTINGS["ogone_payments"]`` at call time, as the back office
would hold them. Two more keys there stand in for the back office's "Transaction
feedback" settings: ``SANDBOX_POST_SALE_URL`` (default: the shop's
``billing/ogone_payments/notify/``, what the integration's docs tell merchants to
enter) and ``SANDBOX_POST_SALE_METHOD`` (``POST``, the back office's default, or
``GET``).
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from .base import (
    AS_ASKED,
    FormRejected,
    Message,
    Order,
    StandIn,
    Variation,
    exponent,
    gateway_view,
    random_digits,
    shop_settings,
    with_query,
)
from .kit import Problems, form_message, minor, shop_notify_url

SETTINGS_KEY = "ogone_payments"
ALGORITHMS = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
_UNKNOWN_ACCOUNT = "The sandbox does not know this Worldline account"
_UNCHECKED = "The sandbox cannot check this signature"

# The SHA-IN parameters the stand-in knows (a subset of the guide's "List of parameters
# to be included in SHA-IN calculation"). Worldline leaves any other parameter out of
# its digest, so a shop that signs one gets "unknown order/1/s/"; the stand-in refuses
# such a form and names the parameter instead of guessing.
SHA_IN = frozenset(
    """
    ACCEPTURL ALIAS ALIASOPERATION ALIASUSAGE AMOUNT BACKURL BGCOLOR BRAND BUTTONBGCOLOR
    BUTTONTXTCOLOR CANCELURL CATALOGURL CN COM COMPLUS CURRENCY DECLINEURL EMAIL
    EXCEPTIONURL EXCLPMLIST FONTTYPE HOMEURL LANGUAGE LOGO OPERATION OR_INVORDERID
    OR_ORDERID ORDERID OWNERADDRESS OWNERCTY OWNERTELNO OWNERTOWN OWNERZIP PARAMPLUS PARAMVAR
    PM PMLIST PMLISTTYPE PSPID REF_CUSTOMERID REF_CUSTOMERREF TBLBGCOLOR TBLTXTCOLOR TITLE TP
    TXTCOLOR USERID WIN3DS
    """.split()
)
_ITEM = re.compile(r"^(ITEMID|ITEMNAME|ITEMPRICE|ITEMQUANT|ITEMVAT|ITEMVATCODE|TAXINCLUDED)\d+$")

# "Possible statuses": what the stand-in reports for each library status.
STATUSES = {"paid": "9", "failed": "2", "pending": "51", "cancelled": "1"}
ACCEPTED = frozenset({"5", "9", "51", "91"})  # the customer goes to ACCEPTURL
UNCERTAIN = frozenset({"52", "92"})  # EXCEPTIONURL
# What the feedback says of the card and the customer, after NCERROR.
CARD_CHECKS = "BRAND=VISA&IPCTY=BE&CCCTY=US&ECI=7&CVCCheck=NO&AAVCheck=NO&VC=NO&IP=192.0.2.10"


def account() -> Mapping[str, Any]:
    """The shop's Worldline account, as its settings describe it (the stand-in plays it)."""
    configured = shop_settings(SETTINGS_KEY)
    if configured is None:
        raise _refused(
            _UNKNOWN_ACCOUNT,
            "It signs as Worldline with the shop's SHA-IN and SHA-OUT passphrases: run "
            "it with the shop's settings (DJANGO_SETTINGS_MODULE).",
        )
    missing = [k for k in ("PSPID", "SHA_IN", "SHA_OUT", "HASH_ALGORITHM") if not configured.get(k)]
    if missing:
        raise _refused(
            _UNKNOWN_ACCOUNT, f"MERCHANT_SETTINGS[{SETTINGS_KEY!r}] has no {', '.join(missing)}."
        )
    return configured


def _refused(title: str, problem: str) -> FormRejected:
    return FormRejected(title, [problem])


def algorithm(configured: Mapping[str, Any]) -> str:
    name = str(configured["HASH_ALGORITHM"]).upper().replace("-", "")
    if name not in ALGORITHMS:
        raise _refused(
            "The sandbox does not know this hash algorithm",
            f"HASH_ALGORITHM {configured['HASH_ALGORITHM']!r}: Worldline offers SHA-1, "
            "SHA-256 and SHA-512.",
        )
    return ALGORITHMS[name]


def sha_order(name: str) -> str:
    """Where a name goes in the digest: the order of the guide's SHA-IN and SHA-OUT lists,
    which the guide says to follow when sorting algorithms disagree. Those lists put
    ``_`` before every letter and digit (OR_ORDERID before ORDERID, REF_CUSTOMERID
    before REFER, SCO_CATEGORY before SCORING); a space sorts the same way."""
    return name.replace("_", " ")


def sha_sign(params: Mapping[str, str], passphrase: str, hash_name: str) -> str:
    """Upper-cased names, sorted, ``NAME=value`` + passphrase for each value, hashed."""
    items = [(name.upper(), value) for name, value in params.items() if value != ""]
    items.sort(key=lambda item: sha_order(item[0]))
    text = "".join(f"{name}={value}{passphrase}" for name, value in items)
    return hashlib.new(hash_name, text.encode("utf-8")).hexdigest().upper()


def _major(units: int, currency: str) -> Decimal:
    """AMOUNT is in minor units of the currency."""
    return Decimal(units).scaleb(-exponent(currency))


def _natural(name: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", name)
        if part
    )


def _order_is_ambiguous(names: list[str]) -> bool:
    """Whether sorting by character and by number differ (ITEMID10 with ITEMID9).

    The guide says "sorted alphabetically" and does not say how numbered names past 9
    sort, so the stand-in refuses such forms rather than pick an order.
    """
    return sorted(names, key=sha_order) != sorted(names, key=lambda n: _natural(sha_order(n)))


def post_sale_url(configured: Mapping[str, Any]) -> str:
    """The back office's post-sale URL: the setting, else the shop's notify URL."""
    if configured.get("SANDBOX_POST_SALE_URL"):
        return str(configured["SANDBOX_POST_SALE_URL"])
    return shop_notify_url(SETTINGS_KEY)


class OgonePaymentsStandIn(StandIn):
    slug = "ogone_payments"
    display_name = "Worldline e-Commerce (Ogone)"
    endpoints = {"SERVICE_URL": "orderstandard"}
    verified_by = "signature"
    receiver_setting = "PSPID"
    statuses = STATUSES
    signature_field = "SHASIGN"
    accent = "#00746b"
    # The feedback's amount is changed in the bytes on the wire, keeping SHA-OUT.
    amount_fields = ("amount",)
    tamper_amounts = ("0.01", "1")  # major units without trailing zeros
    # The return field when the payment is accepted (see return_url for the others).
    return_field = "ACCEPTURL"
    cancel_field = "CANCELURL"

    def urlpatterns(self) -> list[URLPattern]:
        return [path("ncol/test/orderstandard_utf8.asp", orderstandard, name="orderstandard")]

    # -- the form -----------------------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        configured = account()
        pspid, received = fields.get("PSPID", ""), fields.get("SHASIGN", "")
        signed = {k: v for k, v in fields.items() if k != "SHASIGN" and v != ""}
        unknown = sorted(k for k in signed if k not in SHA_IN and not _ITEM.match(k))
        expected = sha_sign(signed, str(configured["SHA_IN"]), algorithm(configured))
        if pspid != str(configured["PSPID"]):  # case-sensitive at Worldline
            raise _refused(
                "PSPID not found or not active",
                f"PSPID={pspid!r} is not the account this sandbox plays "
                f"(MERCHANT_SETTINGS[{SETTINGS_KEY!r}]['PSPID']; it is case-sensitive).",
            )
        if not received:
            raise _refused(
                "unknown order/0/s/", "SHASIGN is missing, and the account has a SHA-IN passphrase."
            )
        if unknown:
            raise _refused(
                _UNCHECKED,
                f"{', '.join(unknown)}: not a SHA-IN parameter the sandbox knows. "
                "Worldline leaves parameters outside its SHA-IN list out of the digest, "
                "so a form that signs them fails with unknown order/1/s/.",
            )
        if _order_is_ambiguous(list(signed)):
            raise _refused(
                _UNCHECKED,
                "Item parameters numbered 10 and above sort differently by character "
                "and by number; the guide does not say which Worldline uses, so the "
                "sandbox does not guess.",
            )
        if not hmac.compare_digest(expected, received.strip().upper()):
            raise _refused(
                "unknown order/1/s/",
                "SHASIGN is not the SHA-IN signature of this form: check the SHA-IN "
                "passphrase, the hash algorithm and the PSPID's letter case.",
            )
        return self._order(fields, configured)

    def _order(self, fields: Mapping[str, str], configured: Mapping[str, Any]) -> Order:
        problems = Problems(fields)
        reference = fields.get("ORDERID", "")
        problems.check(bool(reference), "ORDERID is missing.")
        currency = fields.get("CURRENCY", "")
        problems.check(
            bool(re.fullmatch(r"[A-Z]{3}", currency)),
            f"CURRENCY={currency!r} is not an ISO 4217 code.",
        )
        text = fields.get("AMOUNT", "")
        problems.check(
            bool(re.fullmatch(r"[0-9]{1,15}", text)) and int(text) > 0,
            f"AMOUNT={text!r}: a positive whole number of minor units (1500 for 15.00).",
        )
        problems.http_urls("ACCEPTURL", "DECLINEURL", "EXCEPTIONURL", "CANCELURL")
        problems.raise_if_any("Worldline cannot process this payment")
        total = _major(int(text), currency)
        notify_url = post_sale_url(configured)
        method = self._method(configured)
        note = (
            f"Worldline sends the post-sale request ({method}) to the URL set in its back "
            f"office, not to a form field: here {notify_url}"
            if notify_url
            else "No post-sale URL: set SANDBOX_POST_SALE_URL, or mount billing.urls."
        )
        return self.order(
            fields,
            merchant=str(configured["PSPID"]),
            reference=reference,
            currency=currency,
            total=total,
            description="COM",
            notify_url=notify_url,
            notes=[note],
        )

    @staticmethod
    def _method(configured: Mapping[str, Any]) -> str:
        method = str(configured.get("SANDBOX_POST_SALE_METHOD") or "POST").upper()
        return "GET" if method == "GET" else "POST"

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        """The form a billing shop sends, with its test-mode marker in COMPLUS."""
        configured = account()
        currency = currency.upper()
        fields = {
            "PSPID": receiver,
            "ORDERID": reference,
            "AMOUNT": str(minor(amount, currency)),
            "CURRENCY": currency,
            "COMPLUS": "billing:test",
        }
        fields["SHASIGN"] = sha_sign(fields, str(configured["SHA_IN"]), algorithm(configured))
        return fields

    # -- the feedback -------------------------------------------------------------------------

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The post-sale parameters, in Worldline's letter case, signed with SHA-OUT; ``vary``
        names another currency, or another account (which signs with its own passphrase).
        It says nothing of test or live mode: the shop's own COMPLUS comes back as sent."""
        if not vary.test:
            raise NotImplementedError("Worldline's feedback does not say test or live")
        configured = account()
        order = self._order(fields, configured)
        code = self.statuses.get(status, status)
        payid = vary.transaction_id or random_digits(10)
        paid = code in ACCEPTED
        charged = vary.charged(order.total)
        # Major units without trailing zeros, as Worldline writes them (15, 7.5).
        pairs = [("orderID", order.reference), ("currency", vary.currency or order.currency)]
        pairs += [("amount", format(charged.normalize(), "f")), ("PM", "CreditCard")]
        pairs += [("ACCEPTANCE", f"test{secrets.randbelow(900) + 100}" if paid else "")]
        pairs += [("STATUS", code), ("CARDNO", "XXXXXXXXXXXX1111"), ("ED", "1230")]
        pairs += [("CN", fields.get("CN", "") or "Sandy Buyer")]
        pairs += [("TRXDATE", datetime.now(UTC).strftime("%m/%d/%y")), ("PAYID", payid)]
        pairs += [("PAYIDSUB", "0"), ("NCERROR", "0" if paid or code == "1" else "30001001")]
        pairs += parse_qsl(CARD_CHECKS)
        if fields.get("COMPLUS"):
            pairs.append(("COMPLUS", fields["COMPLUS"]))
        passphrase = str(configured["SHA_OUT"])
        if vary.receiver and vary.receiver != configured["PSPID"]:
            passphrase = secrets.token_urlsafe(16)  # an account the sandbox does not play
        signature = sha_sign(dict(pairs), passphrase, algorithm(configured))
        pairs.append(("SHASIGN", signature))
        # PARAMPLUS comes back as its own parameters, outside the signature.
        pairs += parse_qsl(fields.get("PARAMPLUS", ""), keep_blank_values=True)
        return form_message(
            pairs,
            transaction_id=payid,
            status=code,
            headers={"User-Agent": "Worldline post-sale (billing sandbox)"},
            method=self._method(configured),
        )

    # -- sending the customer back ----------------------------------------------------------

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        """ACCEPTURL, DECLINEURL or EXCEPTIONURL by status, with the feedback appended."""
        if message is None:
            return super().return_url(fields, message)
        if message.status in ACCEPTED:
            url = super().return_url(fields, message)
        elif message.status in UNCERTAIN:
            url = fields.get("EXCEPTIONURL", "")
        else:
            url = fields.get("DECLINEURL", "")
        return _with_feedback(url, message)

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        """CANCELURL with a signed STATUS=1 feedback; no post-sale request is sent."""
        url = super().cancel_url(fields)
        if not url:
            return ""
        return _with_feedback(url, self.notification(fields, status="cancelled"))


def _with_feedback(url: str, message: Message) -> str:
    if not url:
        return ""
    return with_query(url, message.body.decode("ascii"))


def read_form(request: HttpRequest) -> dict[str, str]:
    """The parameters as Worldline reads them: names upper-cased, UTF-8, one value each."""
    data = request.POST if request.method == "POST" else request.GET
    fields: dict[str, str] = {}
    for name in data:
        upper = name.upper()
        if upper in fields or len(data.getlist(name)) > 1:
            raise _refused(
                "Worldline cannot process this payment",
                f"{upper} is given more than once (names are case-insensitive).",
            )
        fields[upper] = data[name]
    return fields


@gateway_view
def orderstandard(request: HttpRequest) -> HttpResponse:
    """``orderstandard_utf8.asp``: the shop's form arrives; the hosted page follows."""
    from .. import views

    try:
        fields = read_form(request)
    except FormRejected as exc:
        return views.error_page(request, stand_in, exc)
    return views.begin_checkout(request, stand_in, fields)


stand_in = OgonePaymentsStandIn()
