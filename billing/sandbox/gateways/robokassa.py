"""Robokassa, from Robokassa's side: the payment interface and the ResultURL.

Written from docs.robokassa.ru ("Интерфейс оплаты", "Параметры скрипта",
"Уведомления и переадресация", "Тестовый режим"), not from ``billing.protocols.robokassa``:

- the form is checked as ``Merchant/Index.aspx`` checks it: ``MerchantLogin`` must be
  the account's; ``SignatureValue`` (any case) must be MD5 of
  ``MerchantLogin:OutSum:InvId[:OutSumCurrency][:ResultUrl2][:SuccessUrl2:SuccessUrl2Method]
  [:FailUrl2:FailUrl2Method]:Password#1[:Shp_name=value, sorted by name]``; ``OutSum`` is
  roubles; ``Description`` at most 100 characters; a SuccessUrl2 or FailUrl2 needs its
  method (GET or POST). Robokassa wants ``InvId`` an integer below 2^31 and ``IsTest=1``
  in test mode: the sandbox notes either when missing rather than refuse the form;
- a payment is reported to ``ResultUrl2`` (else the technical settings' ResultURL,
  here ``SANDBOX_RESULT_URL``, else the shop's ``billing/robokassa/notify/``) by POST:
  ``OutSum`` (six decimals, as Robokassa writes it), ``InvId``, ``Fee``, ``EMail``,
  ``PaymentMethod``, ``IncCurrLabel``, the ``Shp_*`` as sent and ``SignatureValue`` =
  upper-case MD5 of ``OutSum:InvId:Password#2[:Shp_*]``; the customer then goes to
  SuccessUrl2 with ``OutSum``, ``InvId``, ``SignatureValue`` (Password#1 this time) and
  ``Culture``;
- a declined or cancelled payment is reported to no one: the customer goes to
  FailUrl2 with ``OutSum``, ``InvId`` and ``Culture``, unsigned;
- a billing shop writes its mode in ``Shp_billing``; the sandbox returns the marker of
  the environment it plays (test, unless a test asks for a live one).
"""

from collections.abc import Mapping
from decimal import Decimal
from hashlib import md5
from urllib.parse import urlencode

from .base import (
    APPROVED,
    AS_ASKED,
    Message,
    Order,
    StandIn,
    Variation,
    shop_settings,
    with_query,
)
from .kit import Problems, form_message, shop_notify_url

SLUG = "robokassa"
MARKERS = {True: "test", False: "live"}
OPTIONS = ("OutSumCurrency", "ResultUrl2", "SuccessUrl2", "SuccessUrl2Method")


def _shp(fields: Mapping[str, str]) -> list[str]:
    names = sorted(name for name in fields if name.lower().startswith("shp_"))
    return [f"{name}={fields[name]}" for name in names]


def password1_signature(fields: Mapping[str, str], password1: str) -> str:
    head = [fields.get("MerchantLogin", ""), fields.get("OutSum", ""), fields.get("InvId", "")]
    options = [*OPTIONS, "FailUrl2", "FailUrl2Method"]
    text = ":".join(
        [*head, *(fields[o] for o in options if fields.get(o)), password1, *_shp(fields)]
    )
    return md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def password2_signature(fields: Mapping[str, str], password2: str) -> str:
    text = ":".join([fields["OutSum"], fields["InvId"], password2, *_shp(fields)])
    return md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def result_url(fields: Mapping[str, str]) -> str:
    """ResultUrl2, else the technical settings' ResultURL (the shop's notify URL)."""
    configured = shop_settings(SLUG) or {}
    if fields.get("ResultUrl2") or configured.get("SANDBOX_RESULT_URL"):
        return str(fields.get("ResultUrl2") or configured["SANDBOX_RESULT_URL"])
    return shop_notify_url(SLUG)


class RobokassaStandIn(StandIn):
    slug = SLUG
    display_name = "Robokassa"
    endpoints = {"SERVICE_URL": "index"}
    checkout_paths = {"Merchant/Index.aspx": "index"}
    signature_field = "SignatureValue"
    verified_by = "signature"
    receiver_setting = "MERCHANT_LOGIN"
    # ResultURL reports successful payments only: a declined customer is only sent to
    # FailUrl2 (read by billing/sandbox/views.py once it knows ``notifies_decline``).
    statuses = {APPROVED: "paid"}
    notifies_decline = False
    accent = "#3d8bd9"
    account_keys = ("MERCHANT_LOGIN", "PASSWORD1", "PASSWORD2")
    amount_fields = ("OutSum",)
    return_field = "SuccessUrl2"
    cancel_field = "FailUrl2"  # a cancel and a decline alike

    def check_form(self, fields: Mapping[str, str]) -> Order:
        account, problems = self.account(), Problems(fields)
        if problems.equals("MerchantLogin", account["MERCHANT_LOGIN"], "the shop"):
            problems.signature("SignatureValue", password1_signature(fields, account["PASSWORD1"]))
        problems.require("InvId")
        total = problems.amount("OutSum", "RUB")
        problems.check(len(fields.get("Description", "")) <= 100, "Description is too long.")
        problems.http_urls("ResultUrl2", "SuccessUrl2", "FailUrl2")
        for name in ("SuccessUrl2", "FailUrl2"):
            if fields.get(name):
                method = fields.get(f"{name}Method", "")
                problems.check(method in ("GET", "POST"), f"{name}Method must be GET or POST.")
        problems.raise_if_any("Robokassa cannot process this payment")
        reference = fields["InvId"]
        notes = []
        if not (reference.isdigit() and 0 < int(reference) < 2**31):
            notes.append(f"Robokassa's live interface wants InvId an integer, not {reference!r}.")
        if fields.get("IsTest") != "1":
            notes.append("Without IsTest=1 Robokassa would take a real payment.")
        return self.order(
            fields,
            merchant=account["MERCHANT_LOGIN"],
            reference=reference,
            currency="RUB",
            total=total,
            description="Description",
            untitled="Invoice",
            notify_url=result_url(fields),
            notes=notes,
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        form = {"MerchantLogin": receiver, "OutSum": f"{amount:.2f}", "InvId": reference}
        form.update(IsTest="1", Shp_billing=MARKERS[True])
        form["SignatureValue"] = password1_signature(form, self.account()["PASSWORD1"])
        return form

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        if status != APPROVED:
            raise NotImplementedError("Robokassa tells the shop of successful payments only")
        if vary.currency not in (None, "RUB"):
            raise NotImplementedError("Robokassa's ResultURL names no currency: it is RUB")
        order = self.check_form(fields)
        password2 = self.account()["PASSWORD2"]
        if vary.receiver:  # another shop's payment, signed with that shop's Password#2
            password2 = f"{vary.receiver}:password-2"
        total = vary.charged(order.total)
        sent = {"OutSum": f"{total:.6f}", "InvId": order.reference, "Fee": f"{total / 25:.6f}"}
        sent.update(EMail="customer@example.com", PaymentMethod="BankCard")
        sent["IncCurrLabel"] = "BankCardPSR"
        shp = {k: v for k, v in fields.items() if k.lower().startswith("shp_")}
        if shp.get("Shp_billing") in MARKERS.values():
            shp["Shp_billing"] = MARKERS[vary.test]
        sent.update(shp)
        sent["SignatureValue"] = password2_signature(sent, password2)
        return form_message(
            sent, transaction_id=vary.transaction_id or order.reference, status="paid"
        )

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        """SuccessUrl2, with what Robokassa appends for a GET (signed with Password#1)."""
        url = super().return_url(fields, message)
        if not url or fields.get("SuccessUrl2Method") != "GET":
            return url
        back = {"OutSum": fields.get("OutSum", ""), "InvId": fields.get("InvId", "")}
        back.update({k: v for k, v in fields.items() if k.lower().startswith("shp_")})
        text = ":".join([back["OutSum"], back["InvId"], self.account()["PASSWORD1"], *_shp(back)])
        back.update(
            SignatureValue=md5(text.encode(), usedforsecurity=False).hexdigest().upper(),
            Culture="ru",
        )
        return with_query(url, urlencode(back))

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        """FailUrl2 (a cancel and a decline alike), with its unsigned parameters."""
        url = super().cancel_url(fields)
        if not url or fields.get("FailUrl2Method") != "GET":
            return url
        back = {"OutSum": fields.get("OutSum", ""), "InvId": fields.get("InvId", "")}
        return with_query(url, urlencode({**back, "Culture": "ru"}))


stand_in = RobokassaStandIn()
