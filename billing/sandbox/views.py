"""The parts of a gateway every stand-in shares: hosted page, decision, delivery, records.

Every view answers 404 unless ``serves(slug)``: DEBUG, ``BILLING_SANDBOX``, and the
gateway's integration configured and in test mode, checked on every request. Mounting
the URLs in a production URLconf by mistake, or a live integration beside the sandbox,
exposes nothing (and the system checks refuse both).
"""

import codecs
import hashlib
import math
import re
import secrets
import time
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import conf
from .delivery import Attempt, deliver, deliver_later
from .gateways import get_stand_in, stand_ins
from .gateways.base import (
    APPROVED,
    CANCELLED,
    DECLINED,
    FormRejected,
    Message,
    Order,
    StandIn,
    Variation,
    first_values,
)
from .guard import not_enabled, serves
from .models import Checkout, SentNotification
from .origins import is_shop_url, shop_links, shop_url

# How the Approve / Decline button sends its notification (the page's test options).
SEND_MODES = {
    "normal": "Send the notification once",
    "twice": "Send it twice",
    "delay": "Send it late",
    "amount": "Report a different amount",
    "tamper": "Tamper with the amount on the way to the shop",
    "stale": "Send one signed ten minutes ago",
}
MAX_DELAY_SECONDS = 120
# Amounts the sandbox takes from its pages and the CLI: plain decimals of sane size
# (an exponent or 40 digits would make the gateways' formatting raise).
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,6})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRANSACTION_ID = re.compile(r"^[!-~]{1,64}$")  # it goes back in a response header


def sandbox_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 unless the sandbox serves the view's gateway (or, for the index, any)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        gateway = kwargs.get("gateway")
        allowed = serves(gateway) if gateway else any(map(serves, stand_ins()))
        return view(request, *args, **kwargs) if allowed else not_enabled()

    return wrapper


def _redirect(url: str, status: int = 302) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = status
    return response


# -- records -------------------------------------------------------------------------------


def record(
    stand_in: StandIn,
    message: Message,
    *,
    authentic: bool,
    target: str = "",
    checkout: Checkout | None = None,
) -> SentNotification:
    return SentNotification.objects.create(
        gateway=stand_in.slug,
        checkout=checkout,
        body=message.body,
        digest=hashlib.sha256(message.body).hexdigest(),
        authentic=authentic,
        transaction_id=message.transaction_id[:64],
        status=message.status[:32],
        target=target,
    )


def was_sent(slug: str, body: bytes) -> bool:
    """Did this stand-in issue exactly these bytes (untampered)? The postback's answer."""
    digest = hashlib.sha256(body).hexdigest()
    candidates = SentNotification.objects.filter(gateway=slug, digest=digest, authentic=True)
    return any(bytes(sent.body) == body for sent in candidates)


def sent_body(slug: str, transaction_id: str) -> bytes | None:
    """The latest authentic notification of a transaction (PayPal's PDT answers with it)."""
    if not transaction_id:
        return None
    sent = (
        SentNotification.objects.filter(gateway=slug, transaction_id=transaction_id, authentic=True)
        .order_by("-pk")
        .first()
    )
    return bytes(sent.body) if sent is not None else None


# -- the customer's side ----------------------------------------------------------------------


def error_page(request: HttpRequest, stand_in: StandIn, error: FormRejected) -> HttpResponse:
    context = {"stand_in": stand_in, "title": error.title, "problems": error.problems}
    return render(request, "billing_sandbox/error.html", context, status=error.status)


def foreign_target(stand_in: StandIn, order: Order) -> FormRejected | None:
    """The refusal for a notification URL outside the shop's origins (see origins.py)."""
    if not order.notify_url or is_shop_url(order.notify_url):
        return None
    return FormRejected(
        f"{stand_in.display_name} cannot process this payment",
        [
            f"The notification URL {order.notify_url!r} is not on one of the shop's own "
            "origins: the sandbox only notifies BILLING_SITE_URL, BILLING_SANDBOX_URL and "
            "BILLING_SANDBOX_ALLOWED_ORIGINS (scheme, host and port)."
        ],
    )


@csrf_exempt
def hosted_page(request: HttpRequest, gateway: str) -> HttpResponse:
    """Where the shop's form lands (a stand-in's ``checkout_paths``): posted to from the
    shop's pages, so CSRF-exempt, and 404 unless the sandbox serves this gateway."""
    if not serves(gateway):
        return not_enabled()
    return begin_checkout(request, get_stand_in(gateway), first_values(request))


def begin_checkout(request: HttpRequest, stand_in: StandIn, fields: dict[str, str]) -> HttpResponse:
    """Check the shop's form as the gateway would, remember it, show the hosted page."""
    try:
        order = stand_in.check_form(fields)
    except FormRejected as exc:
        return error_page(request, stand_in, exc)
    refused = foreign_target(stand_in, order)
    if refused is not None:
        return error_page(request, stand_in, refused)
    checkout = Checkout.objects.create(
        token=secrets.token_urlsafe(24), gateway=stand_in.slug, fields=fields
    )
    url = reverse(f"billing_sandbox:{stand_in.slug}:checkout", kwargs={"token": checkout.token})
    return _redirect(url, status=303)


def _finished(
    request: HttpRequest, stand_in: StandIn, checkout: Checkout, status: int = 200
) -> HttpResponse:
    order = stand_in.check_form(checkout.fields)
    back = order.cancel_url if checkout.decision == "cancelled" else order.return_url
    context = {"stand_in": stand_in, "checkout": checkout, "order": order, "back": shop_url(back)}
    return render(request, "billing_sandbox/done.html", context, status=status)


def _back_to_shop(
    request: HttpRequest, stand_in: StandIn, checkout: Checkout, url: str
) -> HttpResponse:
    """Redirect to the shop, and only there; anywhere else gets the sandbox's done page."""
    return _redirect(url) if is_shop_url(url) else _finished(request, stand_in, checkout)


@sandbox_only
def checkout_page(request: HttpRequest, gateway: str, token: str) -> HttpResponse:
    stand_in = get_stand_in(gateway)
    checkout = get_object_or_404(Checkout, token=token, gateway=gateway)
    try:
        if checkout.decision:
            return _finished(request, stand_in, checkout)
        order = stand_in.check_form(checkout.fields)
    except FormRejected as exc:  # the shop's settings changed since the form came
        return error_page(request, stand_in, exc)
    context = {
        "stand_in": stand_in,
        "checkout": checkout,
        "order": order,
        "modes": _modes(stand_in),
        "other_amount": (order.total / 2).quantize(order.total) if order.total >= 1 else "0.01",
        "decide_url": reverse(f"billing_sandbox:{gateway}:decide", kwargs={"token": token}),
    }
    return render(request, "billing_sandbox/checkout.html", context)


def _modes(stand_in: StandIn) -> dict[str, str]:
    """The testing options this gateway has: a stale signature only where it signs time."""
    return {k: v for k, v in SEND_MODES.items() if k != "stale" or stand_in.signs_time}


def _other_amount(text: str) -> Decimal:
    if not _AMOUNT.match(text.strip()):
        raise FormRejected("The sandbox cannot send that", [f"{text!r} is not an amount."])
    return Decimal(text.strip())


@sandbox_only
@require_POST
def decide(request: HttpRequest, gateway: str, token: str) -> HttpResponse:
    """Approve, Decline or Cancel: notify the shop as asked, then send the customer back."""
    stand_in = get_stand_in(gateway)
    checkout = get_object_or_404(Checkout, token=token, gateway=gateway)
    action = request.POST.get("action", "")
    mode = request.POST.get("send", "normal")
    if action not in ("approve", "decline", "cancel") or mode not in _modes(stand_in):
        return HttpResponse(b"unknown action\n", status=400, content_type="text/plain")
    try:
        amount = _other_amount(request.POST.get("other_amount", "")) if mode == "amount" else None
        order = stand_in.check_form(checkout.fields)
    except FormRejected as exc:
        return error_page(request, stand_in, exc)
    # Again at sending time: the shop's settings may have changed since the form came.
    refused = foreign_target(stand_in, order)
    if refused is not None:
        return error_page(request, stand_in, refused)
    decision = {"approve": "approved", "decline": "declined", "cancel": "cancelled"}[action]
    # One decision per checkout, even when the customer double-clicks.
    claimed = Checkout.objects.filter(pk=checkout.pk, decision="").update(
        decision=decision, decided_at=timezone.now()
    )
    checkout.refresh_from_db()
    if not claimed:
        return _finished(request, stand_in, checkout, status=409)
    fields = checkout.fields
    notifies = {"cancel": stand_in.notifies_cancel, "decline": stand_in.notifies_decline}
    if not notifies.get(action, True):
        # The gateway tells the shop nothing; the customer goes back (a fail URL).
        return _back_to_shop(request, stand_in, checkout, stand_in.cancel_url(fields))

    status = {"approve": APPROVED, "decline": DECLINED, "cancel": CANCELLED}[action]
    message = stand_in.notification(fields, status=status, vary=Variation(amount=amount))
    authentic = mode not in ("tamper", "stale")
    if mode == "tamper":  # the untampered original is never recorded, so never verifiable
        message = stand_in.tamper(message)
    elif mode == "stale":  # signed long ago: the shop must refuse it however genuine
        message = stand_in.stale(message)
    sent = record(
        stand_in, message, authentic=authentic, target=order.notify_url, checkout=checkout
    )
    attempts: list[Attempt] = []
    if order.notify_url:
        timeout = conf.http_timeout()
        if mode == "delay" and not stand_in.shows_reply:
            seconds = _delay(request.POST.get("delay", ""))
            # The thread only talks HTTP: no database writes outside a request.
            deliver_later(order.notify_url, message, delay=seconds, timeout=timeout)
            sent.delivery = f"scheduled {seconds:g} s after the decision"
        else:
            if mode == "delay":  # the customer waits for the gateway, which waits for the shop
                time.sleep(_delay(request.POST.get("delay", "")))
            times = 2 if mode == "twice" else 1
            attempts = deliver(order.notify_url, message, times=times, timeout=timeout)
            sent.delivery = "; ".join(attempt.summary() for attempt in attempts)
        sent.save(update_fields=["delivery"])
    if stand_in.shows_reply and attempts:
        return _show_reply(request, stand_in, checkout, attempts[0])
    if action == "cancel":
        url = stand_in.cancel_url(fields)
    else:
        url = stand_in.return_url(fields, message)
    return _back_to_shop(request, stand_in, checkout, url)


def _show_reply(
    request: HttpRequest, stand_in: StandIn, checkout: Checkout, attempt: Attempt
) -> HttpResponse:
    """The shop's answer, at the gateway's URL, as a relay-response gateway shows it.

    Not as the page itself: served from the sandbox's origin with the answer's own
    content type, any server the form named could run script here. So it is shown as
    text inside a sandbox page, with the links it holds that lead to the shop's own
    origins, and its refresh followed when that leads there too (as the customer's
    browser would on the gateway's page).

    When the shop did not answer 200 in time, the gateway shows its own page instead
    (the payment stands; only the shop was not told).
    """
    order = stand_in.check_form(checkout.fields)
    context: dict[str, Any] = {
        "stand_in": stand_in,
        "checkout": checkout,
        "order": order,
        "attempt": attempt,
    }
    if attempt.status_code != 200:
        context["back"] = shop_url(order.return_url)
        return render(request, "billing_sandbox/reply_failed.html", context)
    text = _decode(attempt.reply, attempt.reply_type)
    context["links"], context["refresh"] = shop_links(text, attempt.url)
    context["text"] = text
    response = render(request, "billing_sandbox/reply.html", context)
    # Nothing on this page runs: a second fence should the escaping ever fail.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _decode(body: bytes, content_type: str) -> str:
    """The reply as text, in the charset its content type names (else UTF-8)."""
    charset = "utf-8"
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("'\"") or charset
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return body.decode(charset, errors="replace")


def _delay(text: str) -> float:
    try:
        seconds = float(text or 3)
    except ValueError:
        seconds = 3.0
    if not math.isfinite(seconds):  # "nan" and "inf" parse, and time.sleep refuses them
        seconds = 3.0
    return min(max(seconds, 0.0), MAX_DELAY_SECONDS)


# -- for the `billing` command -------------------------------------------------------------------


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(
        f"{text}\n".encode(), status=status, content_type="text/plain; charset=utf-8"
    )


@csrf_exempt
@sandbox_only
@require_POST
def issue(request: HttpRequest, gateway: str) -> HttpResponse:
    """Build and remember an authentic notification for given terms; answer its body.

    ``billing send --sandbox`` uses it so that the shop's postback to this sandbox
    verifies the message. The sandbox only ever vouches for bodies it built itself.

    Only for gateways verified by postback (PayPal): a signed or password-carrying
    notification is built from the shop's secrets, and handing one to whoever asks
    would be a signing service. The CLI builds those itself, with the shop's settings.
    """
    stand_in = get_stand_in(gateway)
    if stand_in.verified_by != "postback":
        return _plain(
            400,
            f"The sandbox issues no {stand_in.display_name} notifications: they are "
            f"verified by {stand_in.verified_by}, so their bodies carry or are built from "
            "the shop's secrets. Run `billing send` without --sandbox, in the shop's "
            "project, to build one locally.",
        )
    data = request.POST
    if any(_CONTROL.search(value) for _, values in data.lists() for value in values):
        return _plain(400, "A field holds control characters.")
    status = data.get("status", APPROVED)
    if status not in stand_in.statuses:
        return _plain(400, f"status must be one of {', '.join(stand_in.statuses)}.")
    transaction_id = data.get("transaction_id", "")
    if transaction_id and not _TRANSACTION_ID.match(transaction_id):
        return _plain(400, "transaction_id must be 1 to 64 printable ASCII characters.")
    try:
        fields = stand_in.form_for(
            reference=data.get("reference", ""),
            amount=_other_amount(data.get("amount", "")),
            currency=data.get("currency", "USD"),
            receiver=data.get("receiver", ""),
        )
        charged = _other_amount(data["charged"]) if data.get("charged") else None
        vary = Variation(amount=charged, transaction_id=transaction_id or None)
        message = stand_in.notification(fields, status=status, vary=vary)
    except FormRejected as exc:
        return _plain(400, f"{exc.title}: {' '.join(exc.problems)}")
    record(stand_in, message, authentic=True, target=data.get("target", ""))
    response = HttpResponse(message.body, content_type=message.content_type)
    response["X-Sandbox-Transaction"] = message.transaction_id
    response["X-Sandbox-Status"] = message.status
    response["X-Sandbox-Method"] = message.method
    return response


@sandbox_only
def index(request: HttpRequest) -> HttpResponse:
    """What the sandbox stands in for, and what it recently sent where: only for the
    integrations it serves (in test mode)."""
    from .endpoints import sandbox_endpoint

    served = [slug for slug in stand_ins() if serves(slug)]
    gateways = [
        {
            "stand_in": stand_ins()[slug],
            "endpoints": {key: sandbox_endpoint(slug, key) for key in stand_ins()[slug].endpoints},
        }
        for slug in served
    ]
    sent = SentNotification.objects.filter(gateway__in=served)[:25]
    context = {"gateways": gateways, "sent": sent}
    return render(request, "billing_sandbox/index.html", context)
