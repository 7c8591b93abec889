"""Authorize.Net SIM / DPM, from Authorize.Net's side: hosted form and relay response.

Written from Authorize.Net's "Server Integration Method (SIM) Developer Guide"
(relay response, payment form fields, response codes), support article A1706 (the
HMAC-SHA512 fingerprint with the Signature Key), the "Transaction Hash Upgrade Guide"
(``x_SHA2_Hash`` of the relay response) and the Response Code 97 and 99 tools on
developer.authorize.net, not from ``billing.protocols.authorize_net_dpm``:

- ``transact.dll`` checks ``x_login`` ("(13) The merchant login ID or password is
  invalid or the account is inactive."), the fingerprint ``x_fp_hash`` = HMAC-SHA512
  with the Signature Key (hex-decoded) over
  ``x_login^x_fp_sequence^x_fp_timestamp^x_amount^x_currency_code`` as posted
  ("(103)" when missing, "(99) This transaction cannot be accepted." when wrong), and
  that ``x_fp_timestamp`` is within 15 minutes of now ("(97)");
- the relay response is POSTed to ``x_relay_url`` in ISO-8859-1, signed with
  ``x_SHA2_Hash`` = upper-case hex HMAC-SHA512 over ``^`` + the 30 documented values
  joined by ``^`` + ``^``; Authorize.Net then shows the customer whatever HTML the shop
  answered, at its own URL (``StandIn.shows_reply``), or its own error page when the
  shop did not answer 200;
- Cancel follows ``x_cancel_url`` (the hosted form's cancel link), with no relay response.

The stand-in plays the shop's own account: ``LOGIN_ID``, ``SIGNATURE_KEY`` and the
account's ``CURRENCY`` (default USD) come from the shop's
``MERCHANT_SETTINGS["authorize_net_dpm"]`` at call time. In test mode
(``x_test_request=TRUE``) it answers as Authorize.Net does: ``x_trans_id`` 0 and
``x_auth_code`` 000000.
"""

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from .base import (
    AS_ASKED,
    FormRejected,
    Message,
    Order,
    StandIn,
    Variation,
    first_values,
    gateway_view,
    random_digits,
    shop_settings,
)

SETTINGS_KEY = "authorize_net_dpm"
FINGERPRINT_WINDOW = 15 * 60  # seconds either side of Authorize.Net's clock
CARD_FIELDS = ("x_card_num", "x_exp_date", "x_card_code")  # DPM posts them; never kept

# SIM guide, relay response: the values x_SHA2_Hash covers, in this order.
HASHED_FIELDS = tuple(
    "x_trans_id x_test_request x_response_code x_auth_code x_cvv2_resp_code x_cavv_response "
    "x_avs_code x_method x_account_number x_amount x_company x_first_name x_last_name "
    "x_address x_city x_state x_zip x_country x_phone x_fax x_email x_ship_to_company "
    "x_ship_to_first_name x_ship_to_last_name x_ship_to_address x_ship_to_city "
    "x_ship_to_state x_ship_to_zip x_ship_to_country x_invoice_num".split()
)
# The customer's details the hosted form collects (prefilled from the shop's form).
CUSTOMER = dict(
    parse_qsl(
        "x_first_name=Sandy&x_last_name=Buyer&x_company=&x_address=1+Test+Street&x_city=Bellevue&"
        "x_state=WA&x_zip=98004&x_country=US&x_phone=&x_fax=&x_email=buyer@sandbox.example&"
        "x_cust_id=&x_ship_to_first_name=&x_ship_to_last_name=&x_ship_to_company=&"
        "x_ship_to_address=&x_ship_to_city=&x_ship_to_state=&x_ship_to_zip=&x_ship_to_country=&"
        "x_po_num=",
        keep_blank_values=True,
    )
)
# x_response_code, x_response_reason_code and its text.
RESULTS = {
    "1": ("1", "This transaction has been approved."),
    "2": ("2", "This transaction has been declined."),
    "3": ("6", "The credit card number is invalid."),
    "4": ("252", "Your order has been received. Thank you for your business!"),
}
_AMOUNT = re.compile(r"^[0-9]{1,13}(\.[0-9]{1,2})?$")


def account() -> Mapping[str, Any]:
    """The shop's Authorize.Net account, as its settings describe it (the stand-in plays it)."""
    configured = shop_settings(SETTINGS_KEY)
    missing = [k for k in ("LOGIN_ID", "SIGNATURE_KEY") if not (configured or {}).get(k)]
    if configured is None:
        problem = (
            "It signs as Authorize.Net with the shop's Signature Key: run it with the "
            "shop's settings (DJANGO_SETTINGS_MODULE)."
        )
    elif missing:
        problem = f"MERCHANT_SETTINGS[{SETTINGS_KEY!r}] has no {', '.join(missing)}."
    elif not re.fullmatch(r"[0-9A-Fa-f]{128}", str(configured["SIGNATURE_KEY"]).strip()):
        problem = "The Signature Key is not 128 hexadecimal digits."
    else:
        return configured
    raise FormRejected("The sandbox does not know this Authorize.Net account", [problem])


def _key(configured: Mapping[str, Any]) -> bytes:
    return bytes.fromhex(str(configured["SIGNATURE_KEY"]).strip())


def _currency(configured: Mapping[str, Any]) -> str:
    return str(configured.get("CURRENCY") or "USD").upper()


def fingerprint(fields: Mapping[str, str], key: bytes) -> str:
    """x_fp_hash over the posted values exactly as posted (lower-case hex)."""
    names = ("x_login", "x_fp_sequence", "x_fp_timestamp", "x_amount", "x_currency_code")
    message = "^".join(fields.get(name, "") for name in names)
    return hmac.new(key, message.encode("iso-8859-1", "replace"), hashlib.sha512).hexdigest()


def sha2_hash(values: Mapping[str, str], key: bytes) -> str:
    message = "^" + "^".join(values.get(name, "") for name in HASHED_FIELDS) + "^"
    return hmac.new(key, message.encode("iso-8859-1"), hashlib.sha512).hexdigest().upper()


def _latin1(text: str) -> str:
    """What survives Authorize.Net's ISO-8859-1 (anything else becomes "?")."""
    return text.encode("iso-8859-1", "replace").decode("iso-8859-1")


def _error(code: str, text: str, why: str) -> FormRejected:
    return FormRejected("The following errors have occurred.", [f"({code}) {text}", why])


def _true(value: str) -> bool:
    return value.strip().upper() in ("TRUE", "T", "YES", "Y", "1", "ON")


class AuthorizeNetDpmStandIn(StandIn):
    slug = "authorize_net_dpm"
    display_name = "Authorize.Net"
    endpoints = {"SERVICE_URL": "transact"}
    verified_by = "signature"
    receiver_setting = "LOGIN_ID"
    statuses = {"paid": "1", "failed": "2", "pending": "4"}
    signature_field = "x_SHA2_Hash"
    shows_reply = True
    accent = "#1b3a6b"
    amount_fields = ("x_amount",)  # changed on the wire, keeping x_SHA2_Hash
    # No return field: with a relay response the shop's answer takes the customer back.
    cancel_field = "x_cancel_url"  # the hosted form's cancel link, if the shop gave one

    def urlpatterns(self) -> list[URLPattern]:
        return [path("gateway/transact.dll", transact, name="transact")]

    # -- the form -----------------------------------------------------------------------

    def check_form(self, fields: Mapping[str, str]) -> Order:
        configured = account()
        if fields.get("x_login", "") != str(configured["LOGIN_ID"]):
            raise _error(
                "13",
                "The merchant login ID or password is invalid or the account is inactive.",
                f"x_login is not the API Login ID of MERCHANT_SETTINGS[{SETTINGS_KEY!r}].",
            )
        received = fields.get("x_fp_hash", "").strip().lower()
        if not received:
            raise _error(
                "103",
                "This transaction cannot be accepted.",
                "x_fp_hash is missing: SIM needs a transaction fingerprint.",
            )
        if not hmac.compare_digest(fingerprint(fields, _key(configured)), received):
            raise _error(
                "99",
                "This transaction cannot be accepted.",
                "x_fp_hash is not the HMAC-SHA512, with the Signature Key, of "
                "x_login^x_fp_sequence^x_fp_timestamp^x_amount^x_currency_code as posted.",
            )
        return self._order(fields, configured)

    def check_fresh(self, fields: Mapping[str, str], now: float | None = None) -> None:
        """The fingerprint is good for 15 minutes either side of Authorize.Net's clock."""
        stamp = fields.get("x_fp_timestamp", "")
        now = time.time() if now is None else now
        if not stamp.isdigit() or abs(now - int(stamp)) > FINGERPRINT_WINDOW:
            raise _error(
                "97",
                "This transaction cannot be accepted.",
                f"x_fp_timestamp={stamp!r} is more than 15 minutes from now (UTC seconds).",
            )

    def _order(self, fields: Mapping[str, str], configured: Mapping[str, Any]) -> Order:
        amount = fields.get("x_amount", "")
        if not _AMOUNT.match(amount) or Decimal(amount) <= 0:
            raise _error("5", "A valid amount is required.", f"x_amount={amount!r}.")
        currency = fields.get("x_currency_code", "") or _currency(configured)
        if currency != _currency(configured):
            raise _error(
                "39",
                "The supplied currency code is either invalid, not supported, not allowed "
                "for this merchant or doesn't have an exchange rate.",
                f"x_currency_code={currency!r}; the account processes {_currency(configured)} "
                f"(MERCHANT_SETTINGS[{SETTINGS_KEY!r}]['CURRENCY']).",
            )
        relay = _true(fields.get("x_relay_response", ""))
        relay_url = fields.get("x_relay_url", "")
        for name in ("x_relay_url", "x_cancel_url"):
            value = fields.get(name, "")
            if value and urlsplit(value).scheme not in ("http", "https"):
                raise _error(
                    "14",
                    "The referrer, relay response or receipt link URL is invalid.",
                    f"{name} is not an http(s) URL.",
                )
        if relay and not relay_url:
            raise _error(
                "14",
                "The referrer, relay response or receipt link URL is invalid.",
                "x_relay_response is TRUE without x_relay_url (the sandbox has no "
                "default Relay Response URL from the Merchant Interface).",
            )
        kind = fields.get("x_type", "AUTH_CAPTURE").upper()
        if kind not in ("AUTH_CAPTURE", "AUTH_ONLY"):
            raise FormRejected(
                "The sandbox does not model this transaction type",
                [f"x_type={kind!r}: the hosted form takes AUTH_CAPTURE and AUTH_ONLY."],
            )
        reference = fields.get("x_invoice_num", "")
        if not reference:
            raise FormRejected(
                "Authorize.Net cannot process this payment",
                [
                    "x_invoice_num is missing. Authorize.Net would accept that, but without "
                    "it no shop can tell which order a relay response is for, so the "
                    "sandbox refuses it."
                ],
            )
        notes = []
        if not relay:
            notes.append(
                "No relay response (x_relay_response is not TRUE): Authorize.Net would show "
                "its own receipt, and the shop would learn nothing from it."
            )
        if fields.get("x_show_form", "").upper() != "PAYMENT_FORM":
            notes.append(
                "Direct Post Method: Authorize.Net would charge the card the shop's page "
                "posted at once. The sandbox does not keep card data and asks you instead."
            )
        total = Decimal(amount)
        return self.order(
            fields,
            merchant=str(configured["LOGIN_ID"]),
            reference=reference,
            currency=currency,
            total=total,
            description="x_description",
            untitled="Invoice",
            notify_url=relay_url if relay else "",
            notes=notes,
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        """A SIM form as a billing shop renders it in test mode, fingerprinted."""
        configured = account()
        fields = {
            "x_login": receiver,
            "x_invoice_num": reference,
            "x_amount": str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            "x_currency_code": currency.upper(),
            "x_type": "AUTH_CAPTURE",
            "x_version": "3.1",
            "x_show_form": "PAYMENT_FORM",
            "x_relay_response": "TRUE",
            "x_relay_url": "http://shop.invalid/relay",  # the CLI posts to --to instead
            "x_test_request": "TRUE",
            "x_fp_sequence": str(secrets.randbelow(10**9)),
            "x_fp_timestamp": str(int(time.time())),
        }
        fields["x_fp_hash"] = fingerprint(fields, _key(configured))
        return fields

    # -- the relay response -------------------------------------------------------------------

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The relay response: the result, the customer's details, echoes, x_SHA2_Hash.

        It names neither the account nor a currency (the account's is implied): ``vary``
        names another account (which signs with its own key), or live mode (else it is a
        test request, whatever the form asked)."""
        if vary.currency:
            raise NotImplementedError("a relay response names no currency")
        configured = account()
        order = self._order(fields, configured)
        code = self.statuses.get(status, status)
        reason, text = RESULTS.get(code, ("1", ""))
        test = vary.test
        approved = code in ("1", "4")
        charged = vary.charged(order.total)
        trans_id = vary.transaction_id or ("0" if test else random_digits(11))
        values: dict[str, str] = {
            "x_response_code": code,
            "x_response_reason_code": reason,
            "x_response_reason_text": text,
            "x_avs_code": "P" if test else "Y",
            "x_auth_code": ("000000" if test else secrets.token_hex(3).upper()) if approved else "",
            "x_trans_id": trans_id,
            "x_method": "CC",
            "x_card_type": "Visa",
            "x_account_number": "XXXX1111",
        }
        values.update({name: fields.get(name, "") or value for name, value in CUSTOMER.items()})
        values.update(
            {
                "x_invoice_num": order.reference,
                "x_description": fields.get("x_description", ""),
                "x_type": fields.get("x_type", "AUTH_CAPTURE").lower(),
                "x_amount": f"{charged.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}",
                "x_tax": fields.get("x_tax", "") or "0.00",
                "x_duty": fields.get("x_duty", "") or "0.00",
                "x_freight": fields.get("x_freight", "") or "0.00",
                "x_tax_exempt": "FALSE",
                "x_MD5_Hash": "",  # retired; sent empty
                "x_cvv2_resp_code": "M" if approved and not test else "",
                "x_cavv_response": "2" if approved and not test else "",
                "x_test_request": "true" if test else "false",
            }
        )
        # Merchant-defined fields (names not starting with x_) come back as posted.
        values.update({k: v for k, v in fields.items() if not k.startswith("x_")})
        values = {name: _latin1(value) for name, value in values.items()}
        key = _key(configured)
        if vary.receiver and vary.receiver != configured["LOGIN_ID"]:
            key = secrets.token_bytes(64)  # an account the sandbox does not play
        values["x_SHA2_Hash"] = sha2_hash(values, key)
        return Message(
            body=urlencode(list(values.items()), encoding="iso-8859-1").encode("ascii"),
            transaction_id=trans_id,
            status=code,
            headers={"User-Agent": "Authorize.Net relay response (billing sandbox)"},
        )


@gateway_view
def transact(request: HttpRequest) -> HttpResponse:
    """``transact.dll``: the shop's SIM form arrives; the hosted payment form follows."""
    from .. import views

    # Card data (DPM posts it) is dropped, never stored.
    fields = {k: v for k, v in first_values(request).items() if k not in CARD_FIELDS}
    try:
        stand_in.check_form(fields)
        stand_in.check_fresh(fields)
    except FormRejected as exc:
        return views.error_page(request, stand_in, exc)
    return views.begin_checkout(request, stand_in, fields)


stand_in = AuthorizeNetDpmStandIn()
