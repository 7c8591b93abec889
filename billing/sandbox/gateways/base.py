"""What every gateway stand-in provides, so the hosted page, delivery and the CLI are shared.

A stand-in module (``gateways/<slug>.py``) defines a ``StandIn`` subclass and a module
level ``stand_in`` instance. What differs between gateways only by name is declared (the
account's keys, the amount fields ``tamper`` changes, the return and cancel fields) and
read by one default each; a gateway that truly differs overrides it. A stand-in must not
import ``billing.protocols`` or ``billing.integrations``: it is the other side of the
wire, written from the gateway's documentation, and is only useful as a test if it can
disagree with the shop's code.

Nothing here touches the database, so the ``billing`` command can build notifications
without Django settings. The helpers at the end are what several gateways do alike
(never a gateway's signature: each stand-in computes its own from the documentation).
"""

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import wraps
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

from .. import guard


@dataclass(frozen=True)
class Item:
    name: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class Order:
    """What the customer is asked to pay, as the gateway understood the shop's form."""

    merchant: str
    reference: str
    currency: str
    total: Decimal
    items: tuple[Item, ...]
    notify_url: str = ""
    return_url: str = ""
    cancel_url: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    """A server-to-server notification exactly as the gateway would put it on the wire."""

    body: bytes
    transaction_id: str
    status: str
    content_type: str = "application/x-www-form-urlencoded"
    headers: Mapping[str, str] = field(default_factory=dict)
    # "GET" puts the body on the query string (e.g. Worldline's post-sale request).
    method: str = "POST"


@dataclass(frozen=True)
class Variation:
    """What the gateway is asked to report otherwise than the form asked.

    ``amount``: what was charged; ``transaction_id``: the gateway's number for it (a
    repeat of the same event). Another currency, another receiving account, or live mode
    are for tests: the shop must hold or refuse such a notification, never pay. A gateway
    whose notification names the account signs another account's with the played
    account's secrets; one that cannot name it (the secret is the proof) signs it with a
    secret of another account, as that account's gateway would.
    """

    amount: Decimal | None = None
    transaction_id: str | None = None
    currency: str | None = None
    receiver: str | None = None
    test: bool = True

    def charged(self, asked: Decimal) -> Decimal:
        """What the gateway reports charged: ``amount`` if given, else what was ``asked``."""
        return asked if self.amount is None else self.amount


AS_ASKED = Variation()


def as_asked(vary: Variation, slug: str) -> None:
    """For a stand-in that can report another amount, but nothing else the form did not ask."""
    if replace(vary, amount=None, transaction_id=None) != AS_ASKED:
        raise NotImplementedError(f"the {slug} stand-in cannot report {vary}")


class FormRejected(Exception):
    """The gateway refuses the form; rendered as the gateway's own kind of error page."""

    def __init__(self, title: str, problems: list[str], status: int = 400) -> None:
        super().__init__(f"{title}: {'; '.join(problems)}")
        self.title = title
        self.problems = problems
        self.status = status


# Statuses the shop can ask a stand-in for, in the library's words.
APPROVED = "paid"
DECLINED = "failed"
CANCELLED = "cancelled"


class StandIn:
    """The gateway's side of one integration."""

    slug: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    # Settings key of the integration -> URL name in this stand-in's urlpatterns.
    endpoints: ClassVar[Mapping[str, str]] = {}
    # How the shop knows a notification is authentic: "postback" or "signature".
    verified_by: ClassVar[str] = "postback"
    # The MERCHANT_SETTINGS key naming the shop's account (the CLI's default receiver).
    receiver_setting: ClassVar[str] = ""
    # Library status -> the gateway's own status name.
    statuses: ClassVar[Mapping[str, str]] = {}
    # The gateway shows the customer the shop's answer to its notification, at the
    # gateway's own URL, instead of redirecting (Authorize.Net's relay response).
    shows_reply: ClassVar[bool] = False
    # The gateway notifies the shop when the customer cancels on its page (Worldpay's
    # transStatus C), where PayPal tells the shop nothing.
    notifies_cancel: ClassVar[bool] = False
    # The gateway notifies the shop of a decline; else (Robokassa) it only sends the
    # customer to the shop's fail URL, as for a cancel.
    notifies_decline: ClassVar[bool] = True
    accent: ClassVar[str] = "#334155"
    # What the shop must make of the hosted page's testing options, shown beside them:
    # an authentic notification of another amount, and one whose amount was changed on
    # the wire after the gateway made it (see ``tamper``).
    other_amount_hint: ClassVar[str] = (
        "The gateway reports another amount than the order's, authentically: the shop "
        "must hold the payment for review."
    )
    stale_hint: ClassVar[str] = (
        "Signed by the gateway ten minutes ago, as a captured notification replayed "
        "later would be: older than the shop accepts, so the shop must reject it."
    )
    tamper_hint: ClassVar[str] = (
        "The amount is changed on the way to the shop, after the gateway signed the "
        "notification: the signature no longer matches, so the shop must reject it."
    )

    # Where the shop's form lands: URL path -> URL name (endpoints names it). Each is a
    # hosted payment page reached by POST, or by a link's query string.
    checkout_paths: ClassVar[Mapping[str, str]] = {}
    # The notification field that carries the gateway's signature (forge changes it).
    signature_field: ClassVar[str] = ""
    # The settings keys of the account the sandbox plays (read by ``account``).
    account_keys: ClassVar[tuple[str, ...]] = ()
    # The notification fields carrying what was charged, which ``tamper`` changes on the
    # wire to the low of ``tamper_amounts`` (the high where it was the low).
    amount_fields: ClassVar[tuple[str, ...]] = ()
    tamper_amounts: ClassVar[tuple[str, str]] = ("0.01", "1.00")
    # The form fields naming where the customer goes back after paying or being
    # declined, and after cancelling ("": the gateway has none). ``return_url``,
    # ``cancel_url`` and the Order that ``order`` makes read them.
    return_field: ClassVar[str] = ""
    cancel_field: ClassVar[str] = ""

    def urlpatterns(self) -> list[URLPattern]:
        """The gateway's entry points besides ``checkout_paths`` (a postback, ...)."""
        return []

    def forge(self, message: Message) -> Message:
        """The message with a signature the gateway never made (same length, other digits)."""
        name = self.signature_field.encode()
        pairs = message.body.split(b"&")
        for i, pair in enumerate(pairs):
            key, _, value = pair.partition(b"=")
            if key == name:
                pairs[i] = key + b"=" + (b"1" if value[:1] == b"0" else b"0") * max(len(value), 8)
                return replace(message, body=b"&".join(pairs))
        raise NotImplementedError(f"the {self.slug} stand-in names no signature field to forge")

    def account(self) -> dict[str, str]:
        """The ``account_keys`` of the account the sandbox plays ("" for one unset)."""
        if not self.account_keys:
            raise NotImplementedError(f"the {self.slug} stand-in declares no account_keys")
        return played_account(self.slug, *self.account_keys)

    def check_form(self, fields: Mapping[str, str]) -> Order:
        """Validate the customer's form as the gateway would; raise FormRejected."""
        raise NotImplementedError

    def order(
        self,
        fields: Mapping[str, str],
        *,
        merchant: str,
        reference: str,
        currency: str,
        total: Decimal,
        description: str = "",
        untitled: str = "Order",
        notify: str = "",
        notify_url: str | None = None,
        notes: Iterable[str] = (),
    ) -> Order:
        """The order a checked form asks for, one item of ``total``, going back to the
        declared ``return_field`` and ``cancel_field``. ``description`` and ``notify`` are
        the gateway's names of the fields holding the item's name (else "``untitled``
        ``reference``") and the notification URL (``notify_url`` instead, for one set
        outside the form); a field the form lacks (or that is not named) is ""."""
        return Order(
            merchant=merchant,
            reference=reference,
            currency=currency,
            total=total,
            items=(Item(field_value(fields, description) or f"{untitled} {reference}", 1, total),),
            notify_url=field_value(fields, notify) if notify_url is None else notify_url,
            return_url=field_value(fields, self.return_field),
            cancel_url=field_value(fields, self.cancel_field),
            notes=tuple(notes),
        )

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        """A minimal shop form for these terms (the CLI sends notifications from it)."""
        raise NotImplementedError

    def notification(
        self, fields: Mapping[str, str], *, status: str, vary: Variation = AS_ASKED
    ) -> Message:
        """The authentic notification for this form; amount overrides what was charged,
        ``vary`` what else the gateway reports otherwise than asked. Raises FormRejected
        for a form the gateway would refuse (billing.testing.notify relies on it)."""
        raise NotImplementedError

    def tamper(self, message: Message) -> Message:
        """The message with its amount changed after the gateway produced it: by default
        the ``amount_fields`` in the bytes on the wire, every other byte as sent."""
        if not self.amount_fields:
            raise NotImplementedError(f"the {self.slug} stand-in names no amount field")
        names = [name.encode() for name in self.amount_fields]
        low, high = (amount.encode() for amount in self.tamper_amounts)
        return change_amount(message, *names, low=low, high=high)

    # The gateway's signature carries the time it was made (Stripe's t=): the page then
    # offers to send a stale one (see ``stale``).
    signs_time: ClassVar[bool] = False

    def stale(self, message: Message) -> Message:
        """The message signed, authentically, longer ago than a shop may accept."""
        raise NotImplementedError(f"the {self.slug} stand-in signs no time")

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        """Where the customer goes after paying or being declined ("" if nowhere): by
        default the form's ``return_field``."""
        return field_value(fields, self.return_field)

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        """Where the customer goes after cancelling: by default the form's ``cancel_field``."""
        return field_value(fields, self.cancel_field)


# -- what several gateways do alike ------------------------------------------------------------

# ISO 4217 exponents other than 2: the decimals of an amount in major units, or the
# power of ten of one in minor units. The sandbox keeps its own table on purpose (not
# billing.money's): it is the gateway's side, and must be able to disagree with the shop.
EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def shop_settings(key: str) -> Mapping[str, Any] | None:
    """``MERCHANT_SETTINGS[key]``: the account the stand-in plays; None without settings.

    Every stand-in reads the secrets it signs with from here, so this is where a live
    account is refused: whatever called it (a request, the CLI), the sandbox never signs
    with a live integration's secrets.
    """
    from django.conf import settings

    if not settings.configured:
        return None
    configured: Mapping[str, Any] = getattr(settings, "MERCHANT_SETTINGS", {}).get(key) or {}
    # The rule of Integration.test_mode: its own TEST_MODE, else MERCHANT_TEST_MODE.
    test_mode = configured.get("TEST_MODE", getattr(settings, "MERCHANT_TEST_MODE", True))
    if configured and not test_mode:
        raise FormRejected(
            "The sandbox does not play a live account",
            [
                f"MERCHANT_SETTINGS[{key!r}] is in live mode (its TEST_MODE, else "
                "MERCHANT_TEST_MODE): the sandbox never signs for a live integration."
            ],
            status=404,
        )
    return configured


def played_account(slug: str, *keys: str) -> dict[str, str]:
    """The values of ``keys`` in the account the sandbox plays for ``slug`` ("" if unset)."""
    configured = shop_settings(slug) or {}
    return {key: str(configured.get(key) or "") for key in keys}


def field_value(fields: Mapping[str, str], name: str) -> str:
    """The form's value of the field ``name`` ("" if absent, or if no field is named)."""
    return fields.get(name, "") if name else ""


def random_digits(length: int) -> str:
    """A random number of exactly ``length`` digits, as gateways number transactions."""
    return str(secrets.randbelow(9 * 10 ** (length - 1)) + 10 ** (length - 1))


def with_query(url: str, query: str) -> str:
    """``url`` with ``query`` appended to the query string it may already have."""
    return f"{url}{'&' if '?' in url else '?'}{query}"


def change_amount(
    message: Message, *names: bytes, low: bytes = b"0.01", high: bytes = b"1.00"
) -> Message:
    """The message with the first value of each named field changed in the bytes on the
    wire, to ``low`` (``high`` where it was ``low``): every other byte, signature
    included, stays as the gateway sent it."""
    pairs = message.body.split(b"&")
    left = set(names)
    for i, pair in enumerate(pairs):
        name, _, value = pair.partition(b"=")
        if name in left:
            left.discard(name)
            pairs[i] = name + b"=" + (high if value == low else low)
    return replace(message, body=b"&".join(pairs))


def first_values(request: HttpRequest) -> dict[str, str]:
    """The posted fields (or the query string's, for a link), the first value of each."""
    data = request.POST if request.method == "POST" else request.GET
    return {name: data[name] for name in data}


def gateway_view(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A gateway's own entry point: posted to from the shop's pages, so CSRF-exempt, and
    404 unless the sandbox serves this gateway's integration (``guard.serves``), checked
    on every request."""
    # Each stand-in lives in gateways/<slug>.py (stand_ins() insists), so the module
    # names the integration whose settings decide.
    slug = view.__module__.rpartition(".")[2]

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        return view(request) if guard.serves(slug) else guard.not_enabled()

    return wrapper
