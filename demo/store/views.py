"""A small shop: products, checkout through any configured gateway, and the order page.

The order page shows billing's Payment state, i.e. what verified notifications made of
it; nothing the customer's browser brings back (return URL parameters) changes it.

An order and its notification log are shown only to the session that placed it, a
signed link, or staff (see access.py); anyone else gets a 404, as for no order at all.
Whatever changes an order is a POST with Django's CSRF token, except the cancel return
(see ``cancelled``).
"""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import conf, get_integration
from billing.exceptions import BillingError
from billing.integration import Integration
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus
from billing.review import DECISION_KEY

from . import access
from .models import Order, Product

# How long an open order page waits for the gateway's confirmation before it stops
# asking: a notification that failed verification (or never came) will not move it.
CONFIRMATION_WAIT = timedelta(minutes=2)


@dataclass(frozen=True)
class State:
    key: str
    label: str
    tone: str  # CSS modifier: neutral, info, good, bad, warn
    message: str
    waiting: bool = False  # the page polls for a change
    can_retry: bool = False


# What a waiting page turns into once CONFIRMATION_WAIT is over (its text is the page's).
UNCONFIRMED = State("unconfirmed", "Payment not confirmed", "warn", "", can_retry=True)


# How the log calls what the gateway said: its notification, or its result billing fetched.
GATEWAY_KINDS = ("notify", "fetch")


def gateways() -> list[Integration]:
    """The integrations this shop has settings for and can build."""
    found = []
    for slug in conf.merchant_settings():
        try:
            found.append(get_integration(slug))
        except BillingError:
            continue
    return found


def gateway_name(slug: str) -> str:
    try:
        return get_integration(slug).display_name
    except BillingError:
        return slug


def state_of(order: Order, payment: Payment | None) -> State:
    gateway = gateway_name(order.gateway) if order.gateway else "the payment provider"
    status = payment.status if payment is not None else None
    if status is None:
        return State(
            "new", "Awaiting payment", "neutral", "Choose how you'd like to pay.", can_retry=True
        )
    if status == PaymentStatus.PENDING and order.cancelled_at:
        return State(
            "cancelled",
            "Cancelled",
            "neutral",
            f"You cancelled the payment at {gateway}. You have not been charged.",
            can_retry=True,
        )
    if status == PaymentStatus.PENDING:
        return State(
            "pending",
            "Waiting for confirmation",
            "info",
            f"We're waiting for {gateway} to confirm your payment. This page updates by itself.",
            waiting=True,
        )
    if status == PaymentStatus.PAID:
        if payment is not None and payment.events.filter(event_key=DECISION_KEY).exists():
            message = "Thank you! We checked your payment by hand and accepted it."
        else:
            message = f"Thank you! {gateway} confirmed your payment."
        return State("paid", "Paid", "good", message)
    if status == PaymentStatus.FAILED:
        return State(
            "failed",
            "Payment failed",
            "bad",
            f"{gateway} declined the payment. You have not been charged.",
            can_retry=True,
        )
    if status == PaymentStatus.CANCELLED:
        return State(
            "cancelled",
            "Cancelled",
            "neutral",
            f"{gateway} cancelled the payment. You have not been charged.",
            can_retry=True,
        )
    if status == PaymentStatus.REVIEW:
        return State(
            "review",
            "Held for review",
            "warn",
            f"{gateway} reported a payment that does not match this order. "
            "We'll check it by hand before anything ships.",
        )
    label = payment.get_status_display() if payment is not None else status
    return State(str(status), str(label).capitalize(), "neutral", f"{gateway}: {label}.")


def _order(request: HttpRequest, reference: str) -> Order:
    """The order, if this request may see it; else 404, whether or not it exists."""
    if not access.can_see(request, reference):
        raise Http404("no such order")
    return get_object_or_404(Order.objects.select_related("product"), reference=reference)


def _paid(order: Order) -> bool:
    """Paid through any gateway: never pay twice."""
    return Payment.objects.filter(reference=order.reference, status=PaymentStatus.PAID).exists()


@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """The products, and the latest orders: this session's own, or everyone's for staff."""
    recent = Order.objects.select_related("product")
    if not request.user.is_staff:
        recent = recent.filter(reference__in=access.owned(request))
    context = {"products": Product.objects.all(), "recent": recent[:5]}
    return render(request, "store/products.html", context)


@require_POST
def buy(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(Product, slug=slug)
    order = Order.objects.create(product=product, amount=product.price, currency=product.currency)
    access.remember(request, order.reference)
    return redirect("store:checkout", reference=order.reference)


def product_currency(order: Order) -> str:
    return str(order.product.currency)


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, reference: str) -> HttpResponse:
    """Choose a gateway (a POST); the pay page then shows that gateway's form."""
    order = _order(request, reference)
    if _paid(order):
        return redirect("store:order", reference=reference)
    available = gateways()
    if request.method == "POST":
        gateway = request.POST.get("gateway", "")
        if gateway not in {integration.slug for integration in available}:
            raise Http404("no such payment method")
        order.gateway = gateway
        order.cancelled_at = None
        # A gateway that takes other currencies only (PayFast: ZAR) is asked for the
        # product's price in its own: a demo has no exchange rates.
        accepted = get_integration(gateway).currencies
        if accepted and product_currency(order) not in accepted:
            order.currency = accepted[0]
        else:
            order.currency = product_currency(order)
        order.save(update_fields=["gateway", "cancelled_at", "currency"])
        return redirect("store:pay", reference=reference, gateway=gateway)
    return render(request, "store/checkout.html", {"order": order, "gateways": available})


@require_GET
def pay(request: HttpRequest, reference: str, gateway: str) -> HttpResponse:
    """Review the order and go to the gateway: renders billing's signed form.

    Only for the gateway the checkout's POST chose. Rendering records the Payment with
    the order's own terms, which is the same record however often the page is shown.
    """
    order = _order(request, reference)
    if gateway != order.gateway:
        return redirect("store:checkout", reference=reference)
    if gateway not in {integration.slug for integration in gateways()}:
        raise Http404("no such payment method")
    if _paid(order):
        return redirect("store:order", reference=reference)
    integration = get_integration(gateway)
    integration.add_order(
        reference=order.reference,
        amount=order.amount,
        currency=order.currency,
        description=order.product.name,
    )
    context = {"order": order, "integration": integration}
    return render(request, "store/pay.html", context)


@require_GET
def order_page(request: HttpRequest, reference: str) -> HttpResponse:
    key = request.GET.get("key")
    if key is not None:  # a signed link: this browser may see the order from now on
        if not access.link_opens(reference, key):
            raise Http404("no such order")
        access.remember(request, reference)
        return redirect("store:order", reference=reference)  # the key leaves the address bar
    order = _order(request, reference)
    payment = order.payment
    state = state_of(order, payment)
    link = reverse("store:order", kwargs={"reference": reference})
    context = {
        "order": order,
        "payment": payment,
        "state": state,
        "gateway_name": gateway_name(order.gateway) if order.gateway else "",
        "signed_link": f"{link}?{urlencode({'key': access.link_key(reference)})}",
        "link_days": access.LINK_MAX_AGE.days,
    }
    if state.waiting:  # what to say if the confirmation never comes
        notified = [row.log for row in _log_rows(order, payment) if row.log.kind in GATEWAY_KINDS]
        context["unconfirmed"] = UNCONFIRMED
        context["wait_ms"] = int(CONFIRMATION_WAIT.total_seconds() * 1000)
        context["rejected"] = sum(log.outcome == Outcome.REJECTED for log in notified)
        context["held"] = sum(log.outcome == Outcome.HELD for log in notified)
    return render(request, "store/order.html", context)


@require_GET
def order_status(request: HttpRequest, reference: str) -> JsonResponse:
    order = _order(request, reference)
    state = state_of(order, order.payment)
    return JsonResponse({"state": state.key, "label": state.label})


@require_GET
def cancelled(request: HttpRequest, reference: str) -> HttpResponse:
    """The gateway's cancel link brought the customer back (via billing's cancel view).

    A GET without CSRF token, since the gateway's redirect cannot carry one. So it only
    ever notes "the customer came back from cancel" (Order.cancelled_at, shown until they
    choose a gateway again), never a payment state: a later notification still counts.
    And only for a session that owns the order (placed it, or opened its signed link),
    not for staff; anyone who may not see the order gets a 404.
    """
    order = _order(request, reference)
    payment = order.payment
    pending = payment is not None and payment.status == PaymentStatus.PENDING
    if pending and access.owns(request, reference):
        order.cancelled_at = timezone.now()
        order.save(update_fields=["cancelled_at"])
    return redirect("store:order", reference=reference)


@dataclass(frozen=True)
class LogRow:
    log: NotificationLog
    matched_by: str  # how the row is tied to the order
    body: str


def _claims(integration: Integration | None, log: NotificationLog) -> str:
    """The reference an unverified notification claims (never trusted, only shown)."""
    if integration is None:
        return ""
    try:
        return integration.to_notification(integration.parse_notification(log)).reference
    except (BillingError, KeyError, ValueError):
        return ""


def _log_rows(order: Order, payment: Payment | None) -> list[LogRow]:
    """Everything the gateway and the customer's browser sent about this order."""
    integration = get_integration(order.gateway) if order.gateway else None
    reference = order.reference
    rows: list[LogRow] = []
    recent = NotificationLog.objects.filter(integration=order.gateway).order_by("pk")
    for log in recent[:500] if order.gateway else []:
        if log.reference == reference or (payment is not None and log.payment_id == payment.pk):
            matched = "verified"
        elif log.kind == "return" and parse_qs(log.query_string).get("ref") == [reference]:
            matched = "return"
        elif log.kind == "notify" and not log.reference and _claims(integration, log) == reference:
            matched = "claimed"
        else:
            continue
        # One field per line, as received (percent-escapes and all).
        body = bytes(log.body).decode("latin-1").replace("&", "\n")
        rows.append(LogRow(log, matched, body))
    return rows


@require_GET
def notifications(request: HttpRequest, reference: str) -> HttpResponse:
    """Everything the gateway and the customer's browser sent about this order."""
    order = _order(request, reference)
    payment = order.payment
    context = {
        "order": order,
        "payment": payment,
        "rows": _log_rows(order, payment),
        "state": state_of(order, payment),
        "gateway_name": gateway_name(order.gateway) if order.gateway else "",
    }
    return render(request, "store/notifications.html", context)
