"""What every gateway stand-in provides, so the hosted page, delivery and the CLI are shared.

A stand-in module (``gateways/<slug>.py``) defines a ``StandIn`` subclass and a module
level ``stand_in`` instance. It must not import ``billing.protocols`` or
``billing.integrations``: it is the other side of the wire, written from the gateway's
documentation, and is only useful as a test if it can disagree with the shop's code.
Nothing here touches the database, so the ``billing`` command can build notifications
without Django settings.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from django.urls import URLPattern


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
    accent: ClassVar[str] = "#334155"

    def urlpatterns(self) -> list[URLPattern]:
        """The gateway's own entry points (payment page, postback, ...)."""
        raise NotImplementedError

    def check_form(self, fields: Mapping[str, str]) -> Order:
        """Validate the customer's form as the gateway would; raise FormRejected."""
        raise NotImplementedError

    def form_for(
        self, *, reference: str, amount: Decimal, currency: str, receiver: str
    ) -> dict[str, str]:
        """A minimal shop form for these terms (the CLI sends notifications from it)."""
        raise NotImplementedError

    def notification(
        self,
        fields: Mapping[str, str],
        *,
        status: str,
        amount: Decimal | None = None,
        transaction_id: str | None = None,
    ) -> Message:
        """The authentic notification for this form; amount overrides what was charged."""
        raise NotImplementedError

    def tamper(self, message: Message) -> Message:
        """The message with its amount changed after the gateway produced it."""
        raise NotImplementedError

    def return_url(self, fields: Mapping[str, str], message: Message | None) -> str:
        """Where the customer goes after paying or being declined ("" if nowhere)."""
        raise NotImplementedError

    def cancel_url(self, fields: Mapping[str, str]) -> str:
        raise NotImplementedError
