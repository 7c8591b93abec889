"""Robokassa: the payment interface (form post to ``Merchant/Index.aspx``) and ResultURL.

SPEC: docs.robokassa.ru, "Интерфейс оплаты" / "Параметры скрипта" (the payment
interface and its parameters), "Уведомления и переадресация" (ResultURL, SuccessURL,
FailURL) and "Тестовый режим", as published in 2026 (checked 2026-12):

- the form posts to ``https://auth.robokassa.ru/Merchant/Index.aspx``, in test and
  live mode alike; test mode is ``IsTest=1`` and its own pair of passwords. Fields:
  ``MerchantLogin``, ``OutSum`` (roubles, ``123.45``), ``InvId``, ``Description``,
  ``SignatureValue``, optional ``Culture``, ``Email``, ``IncCurrLabel``, the per-payment
  addresses ``ResultUrl2``, ``SuccessUrl2`` + ``SuccessUrl2Method`` and ``FailUrl2`` +
  ``FailUrl2Method``, and the shop's own ``Shp_*`` parameters, returned as sent;
- ``SignatureValue`` of the form = hex MD5 (the default algorithm of the technical
  settings) of ``MerchantLogin:OutSum:InvId`` and, when given, ``OutSumCurrency``,
  ``ResultUrl2``, ``SuccessUrl2:SuccessUrl2Method``, ``FailUrl2:FailUrl2Method``, in
  that order, then ``Password#1``, then every ``Shp_name=value`` sorted by name, all
  joined by ``:``;
- ResultURL (server to server, POST or GET as the technical settings say, UTF-8) is
  sent for a successful payment only: ``OutSum``, ``InvId``, ``Fee``, ``EMail``,
  ``PaymentMethod``, ``IncCurrLabel``, ``Shp_*`` and ``SignatureValue`` = hex MD5 of
  ``OutSum:InvId:Password#2[:Shp_name=value sorted]``, in either case. The shop answers
  ``OK{InvId}``. A declined or abandoned payment sends the customer to FailURL and
  tells the shop nothing; SuccessURL and FailURL are the customer's browser, and the
  SuccessURL signature uses Password#1, so neither is a notification here.

Where the document is silent or this module chose:

- RUB only: ``OutSumCurrency`` would have Robokassa convert another currency to
  roubles, and ResultURL then reports roubles without saying what the customer was
  asked; so the integration takes ``currencies = ("RUB",)`` and never sends it.
- ``OutSum`` comes back with Robokassa's own decimals (``100.000000``): it is signed
  as received and read back to two places when that is exact.
- ``InvId`` is the shop's reference. Robokassa wants an integer from 1 to 2147483647;
  this module passes the reference as given (see docs/integrations/robokassa.md).
- The ResultURL has no transaction id and no status: its ``InvId`` names the one
  event it can report, paid (``gateway_status`` ``"paid"``).
- It does not name the receiving account either: only Password#2 proves the account
  (the integration's ``receiver_setting``).
- Mode binding: test and live payments are signed with different password pairs, and
  on top of that the form carries ``Shp_billing`` = ``test`` or ``live``, which
  Robokassa returns under Password#2: a ResultURL whose ``Shp_billing`` says test (or
  that carries ``IsTest=1``) is a test notification whatever the shop's mode; without
  the marker it takes the shop's mode. A shop's own ``Shp_billing`` is refused.
Vectors in tests/test_robokassa.py come from ``printf '%s' ... | md5sum``.
"""

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal

from ..exceptions import InvalidData, MalformedNotification
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Reply,
    Status,
    Verification,
    limited,
    marked_test,
    parse_amount,
    parse_form_body,
    payable,
    require,
    same_digest,
    verdict,
)

SPEC = "Robokassa payment interface and ResultURL (docs.robokassa.ru, 2026)"
SERVICE_URL = "https://auth.robokassa.ru/Merchant/Index.aspx"
CURRENCY = "RUB"
MODE_FIELD = "Shp_billing"
TEST_MARKER, LIVE_MARKER = "test", "live"
# The optional parameters the form signature covers, in the document's order.
SIGNED_OPTIONS = (
    "OutSumCurrency",
    "ResultUrl2",
    "SuccessUrl2",
    "SuccessUrl2Method",
    "FailUrl2",
    "FailUrl2Method",
)
REQUIRED = ("OutSum", "InvId", "SignatureValue")
_INV_ID = re.compile(r"[!-~]{1,127}")  # what the reply OK{InvId} may echo
_CENTS = Decimal("0.01")


def _custom(fields: Mapping[str, str]) -> list[str]:
    """``Shp_name=value`` for every custom parameter, sorted by name."""
    return [f"{k}={v}" for k, v in sorted(fields.items()) if k.lower().startswith("shp_")]


def _md5(parts: list[str]) -> str:
    return hashlib.md5(":".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def form_signature(fields: Mapping[str, str], password1: str) -> str:
    parts = [fields.get("MerchantLogin", ""), fields.get("OutSum", ""), fields.get("InvId", "")]
    parts += [fields[name] for name in SIGNED_OPTIONS if fields.get(name)]
    return _md5([*parts, password1, *_custom(fields)])


def result_signature(fields: Mapping[str, str], password2: str) -> str:
    parts = [fields.get("OutSum", ""), fields.get("InvId", ""), password2]
    return _md5([*parts, *_custom(fields)])


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    final = {k: str(v) for k, v in fields.items() if v is not None}
    if any(name.lower() == MODE_FIELD.lower() for name in final):
        raise InvalidData(f"{MODE_FIELD} carries the shop's mode for billing: use another Shp_")
    if final.get("OutSumCurrency"):
        raise InvalidData("OutSumCurrency is not used: Robokassa is asked in roubles (RUB)")
    if not final.get("InvId"):
        raise InvalidData("Robokassa needs an InvId (the shop's order reference)")
    final["OutSum"] = payable(final.get("OutSum", ""), CURRENCY)
    if final.get("Description"):
        final["Description"] = final["Description"][:100]  # Robokassa's limit
    for url in ("SuccessUrl2", "FailUrl2"):
        if final.get(url):
            final.setdefault(f"{url}Method", "GET")
    final["MerchantLogin"] = account["MERCHANT_LOGIN"]
    final[MODE_FIELD] = TEST_MARKER if account.test else LIVE_MARKER
    if account.test:
        final["IsTest"] = "1"
    else:
        final.pop("IsTest", None)
    final.pop("SignatureValue", None)
    final["SignatureValue"] = form_signature(final, account["PASSWORD1"])
    return final


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    amount = Decimal(form["OutSum"])
    return PaymentTerms(form["InvId"], amount, CURRENCY, receiver=account["MERCHANT_LOGIN"])


def read(inbound: Inbound) -> dict[str, str]:
    """The ResultURL's parameters (a POST body, or the query string of a GET); UTF-8."""
    data = inbound.query.encode("utf-8") if inbound.method == "GET" else inbound.body
    fields = require(parse_form_body(data, "utf-8"), REQUIRED, "a Robokassa ResultURL")
    if not _INV_ID.fullmatch(fields["InvId"]):
        raise MalformedNotification("InvId is not printable ASCII")
    return fields


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    expected = result_signature(fields, account["PASSWORD2"])
    received = fields.get("SignatureValue", "").strip().lower().encode("utf-8")
    return verdict(same_digest(expected, received))


def _amount(text: str) -> Decimal | None:
    amount = parse_amount(text, "OutSum")
    if amount is not None and amount == amount.quantize(_CENTS):
        return amount.quantize(_CENTS)
    return amount


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    test = marked_test(fields.get(MODE_FIELD, ""), (TEST_MARKER, LIVE_MARKER), account.test)
    reference = limited(fields["InvId"], "InvId")
    return Notification(
        integration=integration,
        reference=reference,
        transaction_id=reference,
        amount=_amount(fields["OutSum"]),
        currency=CURRENCY,
        status=Status.PAID,
        gateway_status="paid",
        test=test or fields.get("IsTest") == "1",
        raw=dict(fields),
        receiver="",
    )


def reply(fields: Mapping[str, str], account: Account) -> Reply:
    return Reply(f"OK{fields['InvId']}".encode("ascii"))
