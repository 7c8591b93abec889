"""The notify, return and cancel views shared by every integration."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from . import capture
from .exceptions import BillingError, MalformedNotification
from .links import signed_reference
from .models import NotificationLog, Outcome, Payment
from .protocols.base import Reply
from .registry import get_integration
from .tasks import enqueue, tick_from_request

if TYPE_CHECKING:
    from .integration import Integration

logger = logging.getLogger("billing.views")


def _reject(log: NotificationLog, status: int, message: str) -> HttpResponse:
    log.outcome = Outcome.REJECTED
    log.error = message
    log.save(update_fields=["outcome", "error"])
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _unavailable() -> HttpResponse:
    """Nothing was stored: a 5xx makes the gateway send the notification again."""
    response = HttpResponse(
        b"temporarily unable to store the notification\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "30"
    return response


def _store(
    request: HttpRequest, slug: str, kind: str, gateway: Integration | None
) -> NotificationLog | None:
    redact = gateway.redact_body if gateway is not None else None
    keep = gateway.verified_headers if gateway is not None else ()
    try:
        return capture.store(request, slug, kind, redact=redact, keep_headers=keep)
    except DatabaseError:
        logger.exception("could not store a %s request for %r", kind, slug)
        return None


def _integration_or_none(slug: str) -> Integration | None:
    """The configured integration, or None: even a broken one must not stop the store."""
    try:
        return get_integration(slug)
    except BillingError:
        return None
    except Exception:
        logger.exception("integration %r could not be built", slug)
        return None


@csrf_exempt
@transaction.non_atomic_requests
def notify(request: HttpRequest, integration: str) -> HttpResponse:
    """Store first, check the body can be read, queue processing, answer the gateway."""
    gateway = _integration_or_none(integration)
    log = _store(request, integration, "notify", gateway)
    if log is None:
        return _unavailable()
    if gateway is None:
        return _reject(log, 404, f"no configured integration {integration!r}")
    if request.method not in ("POST", *gateway.notify_methods):
        return _reject(log, 405, f"{request.method} is not accepted here")
    if log.truncated:
        return _reject(log, 413, "notification body too large")
    try:
        fields = gateway.parse_notification(gateway.inbound(log))
    except MalformedNotification as exc:
        return _reject(log, 400, f"malformed notification: {exc}")
    except Exception:  # a parser bug: the sender still gets a clear 4xx, the log the trace
        logger.exception("notification %s could not be parsed", log.pk)
        return _reject(log, 400, "malformed notification")
    try:
        enqueue(log.pk)
    except Exception:  # stored already: the recovery sweep queues it again
        logger.exception("could not queue notification %s", log.pk)
    try:
        reply = gateway.acknowledge(fields, request)
    except Exception:  # stored and queued: acknowledge plainly rather than fail
        logger.exception("could not build the answer to notification %s", log.pk)
        reply = Reply()
    tick_from_request()
    return HttpResponse(reply.content, status=reply.status, content_type=reply.content_type)


def _payment_for(gateway: Integration, request: HttpRequest) -> Payment | None:
    """The payment a return or cancel URL names, if billing signed that URL."""
    reference = request.GET.get("ref", "")
    signature = request.GET.get("sig", "")
    if not reference or not signature:
        return None
    if not signed_reference(gateway.slug, reference, signature):
        return None
    return Payment.objects.filter(integration=gateway.slug, reference=reference).first()


@csrf_exempt
@transaction.non_atomic_requests
def return_view(request: HttpRequest, integration: str) -> HttpResponse:
    """The customer is back. The page shows state; only verified data ever changes it."""
    gateway = _integration_or_none(integration)
    log = _store(request, integration, "return", gateway)
    if gateway is None:
        message = f"no configured integration {integration!r}"
        if log is None:
            return HttpResponse(message + "\n", status=404, content_type="text/plain")
        return _reject(log, 404, message)
    if log is not None:  # the customer still sees the page; the notification decides
        gateway.handle_return(log)
    tick_from_request()
    return _customer_page(request, gateway, "return")


@csrf_exempt
def cancel_view(request: HttpRequest, integration: str) -> HttpResponse:
    gateway = _integration_or_none(integration)
    if gateway is None:
        return HttpResponse("unknown integration\n", status=404, content_type="text/plain")
    return _customer_page(request, gateway, "cancel")


def _customer_page(request: HttpRequest, gateway: Integration, page: str) -> HttpResponse:
    payment = _payment_for(gateway, request)
    redirect = gateway.settings.get(f"{page.upper()}_REDIRECT_URL")
    if redirect and payment is not None:
        # Only this placeholder is filled: a brace elsewhere in the URL is the shop's own.
        target = str(redirect).replace("{reference}", quote(payment.reference))
        return HttpResponseRedirect(target)
    return render(
        request,
        [f"billing/{gateway.slug}/{page}.html", f"billing/{page}.html"],
        {"integration": gateway, "payment": payment},
    )
