"""The parts of a gateway every stand-in shares: hosted page, decision, delivery, records.

Every view answers 404 unless ``BILLING_SANDBOX`` is on, so mounting the URLs in a
production URLconf by mistake exposes nothing (and the system check refuses the
setting itself outside DEBUG and test mode).
"""

import hashlib
import secrets
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import conf
from .delivery import Attempt, deliver, deliver_later
from .gateways import get_stand_in
from .gateways.base import APPROVED, CANCELLED, DECLINED, FormRejected, Message, StandIn
from .models import Checkout, SentNotification

# How the Approve / Decline button sends its notification (the page's test options).
SEND_MODES = {
    "normal": "Send the notification once",
    "twice": "Send it twice",
    "delay": "Send it late",
    "amount": "Report a different amount",
    "tamper": "Tamper with the amount after signing",
}
MAX_DELAY_SECONDS = 120


def enabled() -> bool:
    return conf.sandbox_enabled()


def not_enabled() -> HttpResponse:
    return HttpResponseNotFound(
        b"The billing sandbox is off (settings.BILLING_SANDBOX).\n", content_type="text/plain"
    )


def sandbox_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs) if enabled() else not_enabled()

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


def begin_checkout(request: HttpRequest, stand_in: StandIn, fields: dict[str, str]) -> HttpResponse:
    """Check the shop's form as the gateway would, remember it, show the hosted page."""
    try:
        stand_in.check_form(fields)
    except FormRejected as exc:
        return error_page(request, stand_in, exc)
    checkout = Checkout.objects.create(
        token=secrets.token_urlsafe(24), gateway=stand_in.slug, fields=fields
    )
    url = reverse(f"billing_sandbox:{stand_in.slug}:checkout", kwargs={"token": checkout.token})
    return _redirect(url, status=303)


def _finished(
    request: HttpRequest, stand_in: StandIn, checkout: Checkout, status: int = 200
) -> HttpResponse:
    order = stand_in.check_form(checkout.fields)
    context = {"stand_in": stand_in, "checkout": checkout, "order": order}
    return render(request, "billing_sandbox/done.html", context, status=status)


@sandbox_only
def checkout_page(request: HttpRequest, gateway: str, token: str) -> HttpResponse:
    stand_in = get_stand_in(gateway)
    checkout = get_object_or_404(Checkout, token=token, gateway=gateway)
    if checkout.decision:
        return _finished(request, stand_in, checkout)
    order = stand_in.check_form(checkout.fields)
    context = {
        "stand_in": stand_in,
        "checkout": checkout,
        "order": order,
        "modes": SEND_MODES,
        "other_amount": (order.total / 2).quantize(order.total) if order.total >= 1 else "0.01",
        "decide_url": reverse(f"billing_sandbox:{gateway}:decide", kwargs={"token": token}),
    }
    return render(request, "billing_sandbox/checkout.html", context)


def _other_amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise FormRejected(
            "The sandbox cannot send that", [f"{text!r} is not an amount."]
        ) from None
    if not amount.is_finite() or amount < 0:
        raise FormRejected("The sandbox cannot send that", [f"{text!r} is not an amount."])
    return amount


@sandbox_only
@require_POST
def decide(request: HttpRequest, gateway: str, token: str) -> HttpResponse:
    """Approve, Decline or Cancel: notify the shop as asked, then send the customer back."""
    stand_in = get_stand_in(gateway)
    checkout = get_object_or_404(Checkout, token=token, gateway=gateway)
    action = request.POST.get("action", "")
    mode = request.POST.get("send", "normal")
    if action not in ("approve", "decline", "cancel") or mode not in SEND_MODES:
        return HttpResponse(b"unknown action\n", status=400, content_type="text/plain")
    try:
        amount = _other_amount(request.POST.get("other_amount", "")) if mode == "amount" else None
    except FormRejected as exc:
        return error_page(request, stand_in, exc)
    decision = {"approve": "approved", "decline": "declined", "cancel": "cancelled"}[action]
    # One decision per checkout, even when the customer double-clicks.
    claimed = Checkout.objects.filter(pk=checkout.pk, decision="").update(
        decision=decision, decided_at=timezone.now()
    )
    checkout.refresh_from_db()
    if not claimed:
        return _finished(request, stand_in, checkout, status=409)
    fields = checkout.fields
    if action == "cancel" and not stand_in.notifies_cancel:
        # The gateway tells the shop nothing; the customer goes back.
        url = stand_in.cancel_url(fields)
        return _redirect(url) if url else _finished(request, stand_in, checkout)

    order = stand_in.check_form(fields)
    status = {"approve": APPROVED, "decline": DECLINED, "cancel": CANCELLED}[action]
    message = stand_in.notification(fields, status=status, amount=amount)
    authentic = mode != "tamper"
    if not authentic:  # the untampered original is never recorded, so never verifiable
        message = stand_in.tamper(message)
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
    return _redirect(url) if url else _finished(request, stand_in, checkout)


def _show_reply(
    request: HttpRequest, stand_in: StandIn, checkout: Checkout, attempt: Attempt
) -> HttpResponse:
    """The shop's answer, shown at the gateway's URL, as a relay-response gateway does.

    When the shop did not answer 200 in time, the gateway shows its own page instead
    (the payment stands; only the shop was not told).
    """
    if attempt.status_code == 200:
        content_type = attempt.reply_type or "text/html"
        return HttpResponse(attempt.reply, content_type=content_type)
    order = stand_in.check_form(checkout.fields)
    context = {"stand_in": stand_in, "checkout": checkout, "order": order, "attempt": attempt}
    return render(request, "billing_sandbox/reply_failed.html", context)


def _delay(text: str) -> float:
    try:
        seconds = float(text or 3)
    except ValueError:
        seconds = 3.0
    return min(max(seconds, 0.0), MAX_DELAY_SECONDS)


# -- for the `billing` command -------------------------------------------------------------------


@csrf_exempt
@sandbox_only
@require_POST
def issue(request: HttpRequest, gateway: str) -> HttpResponse:
    """Build and remember an authentic notification for given terms; answer its body.

    ``billing send --sandbox`` uses it so that the shop's postback to this sandbox
    verifies the message. The sandbox only ever vouches for bodies it built itself.
    """
    stand_in = get_stand_in(gateway)
    data = request.POST
    try:
        fields = stand_in.form_for(
            reference=data.get("reference", ""),
            amount=_other_amount(data.get("amount", "")),
            currency=data.get("currency", "USD"),
            receiver=data.get("receiver", ""),
        )
        message = stand_in.notification(
            fields,
            status=data.get("status", APPROVED),
            amount=_other_amount(data["charged"]) if data.get("charged") else None,
            transaction_id=data.get("transaction_id") or None,
        )
    except FormRejected as exc:
        return HttpResponse(
            f"{exc.title}: {' '.join(exc.problems)}\n".encode(),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    record(stand_in, message, authentic=True, target=data.get("target", ""))
    response = HttpResponse(message.body, content_type=message.content_type)
    response["X-Sandbox-Transaction"] = message.transaction_id
    response["X-Sandbox-Status"] = message.status
    response["X-Sandbox-Method"] = message.method
    return response


@sandbox_only
def index(request: HttpRequest) -> HttpResponse:
    """What the sandbox stands in for, and what it recently sent where."""
    from .endpoints import sandbox_endpoint
    from .gateways import stand_ins

    gateways = [
        {
            "stand_in": stand_in,
            "endpoints": {key: sandbox_endpoint(slug, key) for key in stand_in.endpoints},
        }
        for slug, stand_in in stand_ins().items()
    ]
    context = {"gateways": gateways, "sent": SentNotification.objects.all()[:25]}
    return render(request, "billing_sandbox/index.html", context)
