"""Testing your shop: a gateway's authentic notification, posted through Django's test client.

``notify(client, "pay_pal", reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")``
builds the notification the gateway would send, with the sandbox's stand-in for it (the
same builders ``billing send`` uses, so the body is the gateway's, byte for byte), posts
it to the shop's ``notify/`` the way that gateway does (a form POST, or a GET for
Worldline's post-sale request set to GET) and returns what the shop made of it: the
responses, the ``NotificationLog`` rows with their outcome, and the signals sent.

Nothing here needs pytest, ``BILLING_SANDBOX``, DEBUG or the ``billing.sandbox`` app: the
stand-ins read the account they play from the shop's ``MERCHANT_SETTINGS`` and refuse
only a live integration. PayPal's notifications are confirmed by postback; ``notify``
vouches for the body with a ``FakePayPal`` (the one given, else the innermost one
entered, else a new one entered for the call), so the postback answers VERIFIED without
a network.
"""

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from .. import conf
from ..cli.send import WIRE_REFERENCES
from ..exceptions import BillingError, InvalidData
from ..models import NotificationLog, Payment
from ..registry import get_integration, integration_class
from ..sandbox.gateways import stand_ins
from ..sandbox.gateways.base import CANCELLED, DECLINED, FormRejected, Message, StandIn, Variation
from ..signals import (
    payment_status_changed,
    transaction_was_successful,
    transaction_was_unsuccessful,
)
from .fakes import POSTBACK_FAKES, FakePayPal, active_fake

__all__ = [
    "Notified",
    "Notifier",
    "NotifyError",
    "SignalSent",
    "build_notification",
    "checkout",
    "notify",
    "statuses",
]

SIGNALS = {
    "payment_status_changed": payment_status_changed,
    "transaction_was_successful": transaction_was_successful,
    "transaction_was_unsuccessful": transaction_was_unsuccessful,
}


class NotifyError(Exception):
    """The notification cannot be built as asked; the message says what the shop must set."""


@dataclass(frozen=True)
class SignalSent:
    """One of billing's signals, sent while the notification was processed."""

    name: str  # "transaction_was_successful", "transaction_was_unsuccessful", ...
    sender: Any
    kwargs: Mapping[str, Any]


@dataclass
class Notified:
    """What the shop made of a notification: one entry per delivery, oldest first."""

    slug: str
    reference: str  # the shop's reference (the payment's)
    message: Message  # what went on the wire (after tampering, when asked)
    responses: list[HttpResponse] = field(default_factory=list)
    logs: list[NotificationLog] = field(default_factory=list)
    signals: list[SignalSent] = field(default_factory=list)

    @property
    def response(self) -> HttpResponse:
        """The shop's answer to the last delivery."""
        return self.responses[-1]

    @property
    def log(self) -> NotificationLog:
        """The notification log row of the last delivery, as it was after the response."""
        return self.logs[-1]

    @property
    def outcome(self) -> str:
        """The last delivery's outcome: ``"applied"``, ``"duplicate"``, ``"held"``, ...
        (equal to ``billing.models.Outcome`` members)."""
        return str(self.log.outcome)

    @property
    def outcomes(self) -> list[str]:
        return [str(log.outcome) for log in self.logs]

    @property
    def payment(self) -> Payment | None:
        """The shop's payment for the reference, read now (None if there is none)."""
        return Payment.objects.filter(integration=self.slug, reference=self.reference).first()

    def sent(self, name: str) -> list[SignalSent]:
        """The signals of that name, e.g. ``result.sent("transaction_was_successful")``."""
        if name not in SIGNALS:
            raise InvalidData(f"{name!r} is not one of billing's signals ({', '.join(SIGNALS)})")
        return [signal for signal in self.signals if signal.name == name]


# -- building ---------------------------------------------------------------------------------


def _stand_in(slug: str) -> StandIn:
    available = stand_ins()
    try:
        return available[slug]
    except KeyError:
        raise NotifyError(
            f"no stand-in for {slug!r}: notify() builds notifications for {', '.join(available)}"
        ) from None


def _postback_fake(slug: str) -> FakePayPal:
    """The fake that answers this gateway's "did you send this?" for one call."""
    if slug not in POSTBACK_FAKES:
        raise NotifyError(
            f"notify() cannot answer {slug}'s own check of its notifications: enter a fake "
            "of that gateway's API (pass fake=...), or pay through the sandbox instead"
        )
    return POSTBACK_FAKES[slug]()


def _decimal(value: Decimal | str | int, name: str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise NotifyError(f"{name}={value!r} is not an amount") from None
    if not amount.is_finite():
        raise NotifyError(f"{name}={value!r} is not an amount")
    return amount


def statuses(slug: str) -> list[str]:
    """The statuses ``notify`` can ask this gateway's stand-in for."""
    stand_in = _stand_in(slug)
    known = list(stand_in.statuses)
    if DECLINED not in known and CANCELLED in known:
        # A gateway that reports no declines (Worldpay): the declined customer cancels.
        known.append(DECLINED)
    return known


def _check_shop(slug: str) -> None:
    """The integration as the shop configured it: present, complete and in test mode."""
    try:
        integration = integration_class(slug)()
    except BillingError as exc:
        raise NotifyError(
            f"{exc}. notify() plays the gateway with the account in your test settings' "
            f"MERCHANT_SETTINGS[{slug!r}]."
        ) from None
    if not integration.test_mode:
        raise NotifyError(
            f"MERCHANT_SETTINGS[{slug!r}] is live (its TEST_MODE, else MERCHANT_TEST_MODE, "
            "is False): the stand-ins never sign for a live account. Set "
            "MERCHANT_TEST_MODE = True in your test settings (and no TEST_MODE = False)."
        )


def _receiver(slug: str, stand_in: StandIn) -> str:
    """The shop's own account, which the stand-in plays."""
    configured = conf.integration_settings(slug) or {}
    value = configured.get(stand_in.receiver_setting)
    if not value:
        raise NotifyError(
            f"MERCHANT_SETTINGS[{slug!r}] has no {stand_in.receiver_setting}: it names the "
            "account the notification is for"
        )
    return str(value)


# Each character of a secret moves on within its own run, so a hex key stays hex.
_ALPHABETS = ("0123456789", "abcdef", "ABCDEF", "ghijklmnopqrstuvwxyz", "GHIJKLMNOPQRSTUVWXYZ")


def _other(secret: str) -> str:
    """A wrong secret of the same shape (hex stays hex, length the same)."""

    def shift(char: str) -> str:
        for alphabet in _ALPHABETS:
            if char in alphabet:
                return alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        return char

    other = "".join(map(shift, secret))
    return other if other != secret else secret + "x"


@contextmanager
def _forged_secrets(slug: str) -> Iterator[None]:
    """The shop's settings with every secret of this integration wrong: what a forger,
    who does not know them, signs with."""
    secret_keys = integration_class(slug).secret_settings
    merchant = dict(conf.merchant_settings())
    account = dict(merchant.get(slug) or {})
    for key in secret_keys:
        if account.get(key):
            account[key] = _other(str(account[key]))
    merchant[slug] = account
    with override_settings(MERCHANT_SETTINGS=merchant):
        yield


def build_notification(
    slug: str,
    *,
    reference: str,
    amount: Decimal | str,
    currency: str,
    status: str = "paid",
    charged: Decimal | str | None = None,
    forged: bool = False,
    transaction_id: str | None = None,
) -> Message:
    """The notification the gateway would send for these terms, untampered.

    What ``notify`` posts; without the postback vouching (``FakePayPal.send``) and the
    tampering, for a test that delivers it itself. ``charged`` is the amount the gateway
    reports (default: ``amount``); ``forged`` signs with wrong secrets.
    """
    stand_in = _stand_in(slug)
    _check_shop(slug)
    asked = _decimal(amount, "amount")
    reported = asked if charged is None else _decimal(charged, "charged")
    if status not in statuses(slug):
        raise NotifyError(
            f"status={status!r}: {stand_in.display_name}'s stand-in sends "
            f"{', '.join(statuses(slug))}"
        )
    account = _receiver(slug, stand_in)
    wire = WIRE_REFERENCES.get(slug)
    on_the_wire, form_amount = reference, asked
    if wire is not None:
        # The reference on the wire carries the amount, signed (Global Payments' ORDER_ID,
        # as the shop's form puts it): the gateway charges what its form said, so another
        # amount, authentic, is the answer to a form for that amount (an older attempt).
        form_amount = reported
        try:
            on_the_wire = wire(reference, reported, currency)
        except BillingError as exc:
            raise NotifyError(f"reference={reference!r}: {exc}") from None
    with ExitStack() as stack:
        if forged:
            stack.enter_context(_forged_secrets(slug))
        try:
            form = stand_in.form_for(
                reference=on_the_wire, amount=form_amount, currency=currency, receiver=account
            )
            vary = Variation(amount=reported, transaction_id=transaction_id)
            message = stand_in.notification(form, status=status, vary=vary)
        except FormRejected as exc:
            raise NotifyError(
                f"{stand_in.display_name} would refuse this: {exc.title}: {' '.join(exc.problems)}"
            ) from None
    return message


# -- delivering -------------------------------------------------------------------------------


def _deliver(client: Client, url: str, message: Message) -> HttpResponse:
    headers = dict(message.headers)
    if message.method == "GET":  # the body is the query string (Worldline's GET)
        query = message.body.decode("ascii")
        target = f"{url}{'&' if '?' in url else '?'}{query}"
        return client.get(target, headers=headers)  # type: ignore[return-value]
    return client.generic(  # type: ignore[return-value]
        message.method, url, message.body, content_type=message.content_type, headers=headers
    )


@contextmanager
def _recording(signals: list[SignalSent]) -> Iterator[None]:
    receivers: list[tuple[Any, Callable[..., None]]] = []
    for name, signal in SIGNALS.items():

        def record(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            signals.append(SignalSent(_name, sender, kwargs))

        signal.connect(record, weak=False)
        receivers.append((signal, record))
    try:
        yield
    finally:
        for signal, record in receivers:
            signal.disconnect(record)


def _last_log_pk() -> int:
    return int(NotificationLog.objects.aggregate(last=Max("pk"))["last"] or 0)


def notify(
    client: Client,
    slug: str,
    *,
    reference: str,
    amount: Decimal | str | None = None,
    currency: str | None = None,
    status: str = "paid",
    charged: Decimal | str | None = None,
    tamper: bool = False,
    forged: bool = False,
    twice: bool = False,
    transaction_id: str | None = None,
    method: str | None = None,
    url: str | None = None,
    fake: FakePayPal | None = None,
) -> Notified:
    """Post the gateway's notification for ``reference`` to the shop, as the gateway would.

    - ``amount``, ``currency``: what the shop asked for (default: its payment's);
    - ``status``: ``"paid"``, ``"failed"``, ``"cancelled"``, ``"pending"``, as the
      gateway can report them (``statuses(slug)``);
    - ``charged``: the amount the gateway reports, if not ``amount`` (an authentic
      notification the shop must hold for review);
    - ``tamper``: the amount changed on the wire after the gateway produced it;
    - ``forged``: made by someone who does not know the shop's secrets (PayPal: a body
      PayPal never sent);
    - ``twice``: the same bytes delivered twice, as a gateway repeats itself;
    - ``transaction_id``: the gateway's id (default: a new one); ``method``: ``"GET"``
      or ``"POST"`` instead of the gateway's way; ``url``: the notify URL if not
      ``billing:notify``;
    - ``fake``: the ``FakePayPal`` to vouch with (default: the innermost entered, else a
      new one); one not entered is entered for this call.

    Processing runs inside the request with Django's immediate Tasks backend, so the
    result's logs carry the outcome and ``signals`` what was sent.
    """
    stand_in = _stand_in(slug)
    if amount is None or currency is None:
        payment = Payment.objects.filter(integration=slug, reference=reference).first()
        if payment is None:
            raise NotifyError(
                f"no {slug} payment {reference!r} to take the amount and currency from: "
                "pass amount= and currency=, or render the checkout first "
                "(your checkout page, or billing.testing.checkout)"
            )
        amount = payment.amount if amount is None else amount
        currency = payment.currency if currency is None else currency
    message = build_notification(
        slug,
        reference=reference,
        amount=amount,
        currency=currency,
        status=status,
        charged=charged,
        forged=forged,
        transaction_id=transaction_id,
    )
    target = url or reverse("billing:notify", kwargs={"integration": slug})
    result = Notified(slug=slug, reference=reference, message=message)
    with ExitStack() as stack:
        if stand_in.verified_by == "postback":
            vouching = fake or active_fake(slug) or _postback_fake(slug)
            if not vouching.installed:  # answering the postback for this call only
                stack.enter_context(vouching)
            if not forged:
                vouching.send(message.body, message.transaction_id)
        if tamper:
            message = stand_in.tamper(message)
        if method:
            message = dataclasses.replace(message, method=method.upper())
        result.message = message
        stack.enter_context(_recording(result.signals))
        for _ in range(2 if twice else 1):
            before = _last_log_pk()
            result.responses.append(_deliver(client, target, message))
            log = NotificationLog.objects.filter(pk__gt=before, integration=slug, kind="notify")
            stored = log.order_by("pk").first()
            if stored is None:
                raise NotifyError(
                    f"nothing was stored for the delivery to {target}: is "
                    'path("billing/", include("billing.urls")) in your URLconf?'
                )
            result.logs.append(stored)
    return result


class Notifier:
    """``notify`` bound to a client (and a fake): ``Notifier(self.client)("pay_pal", ...)``.

    What the pytest fixture ``billing_notify`` gives a test.
    """

    def __init__(self, client: Client, fake: FakePayPal | None = None) -> None:
        self.client = client
        self.fake = fake

    def __call__(self, slug: str, **options: Any) -> Notified:
        options.setdefault("fake", self.fake)
        return notify(self.client, slug, **options)


# -- the payment to notify about -------------------------------------------------------------


def checkout(
    slug: str,
    *,
    reference: str,
    amount: Decimal | str,
    currency: str,
    description: str = "",
    request: HttpRequest | None = None,
    **fields: Any,
) -> dict[str, str]:
    """What the shop's checkout page does: the gateway's form for an order, which records
    the payment a notification is bound to. Returns the form's fields.

    The callback URLs are built on ``BILLING_SITE_URL``, else on ``request``'s host (by
    default the test client's, ``testserver``).
    """
    integration = get_integration(slug)
    integration.add_order(
        reference=reference,
        amount=_decimal(amount, "amount"),
        currency=currency,
        description=description or f"Order {reference}",
    )
    integration.add_fields(fields)
    return integration.generate_form(request or RequestFactory().get("/"))
