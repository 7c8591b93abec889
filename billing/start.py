"""The start/ route of a checkout created by API: open the gateway's session, redirect.

The form the shop rendered carries only a signed token naming the recorded payment
(``ApiCheckoutIntegration.start_token``); the amount, currency and reference come from
that payment, never from the request. Whatever goes wrong, the customer gets a page
(400 for a link we did not sign, 409 for a payment that is settled, 502 with a retry
button when the gateway's API failed), never a 500, and the log says why without
secrets.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from .exceptions import BillingError
from .registry import get_integration

if TYPE_CHECKING:
    from .api_checkout import ApiCheckoutIntegration

logger = logging.getLogger("billing.start")


class CheckoutUnavailable(BillingError):
    """The gateway's API did not open the checkout: unreachable, slow, an error, or an
    answer that is not a session. The message is safe to log (no keys)."""


class StartRefused(BillingError):
    """A start request that opens nothing: a token we did not sign (or that expired), or
    a payment that is no longer payable."""

    def __init__(self, message: str, *, status: int = 400, heading: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.heading = heading or "This payment link is not valid"


def page(
    request: HttpRequest,
    gateway: ApiCheckoutIntegration | None,
    *,
    status: int,
    heading: str,
    message: str,
    retry_token: str = "",
) -> HttpResponse:
    slug = gateway.slug if gateway is not None else ""
    context = {
        "integration": gateway,
        "heading": heading,
        "message": message,
        "retry_token": retry_token,
        "retry_url": request.path,
    }
    templates = [f"billing/{slug}/start_failed.html", "billing/start_failed.html"]
    return render(request, templates, context, status=status)


def _gateway(slug: str) -> ApiCheckoutIntegration | None:
    try:
        gateway = get_integration(slug)
    except BillingError:
        return None
    except Exception:
        logger.exception("integration %r could not be built", slug)
        return None
    # Only an integration whose checkout is created by API has a start route.
    return gateway if hasattr(gateway, "open_checkout") else None  # type: ignore[return-value]


@csrf_exempt  # the signed token is the authority; the shop's page may not carry a CSRF token
@transaction.non_atomic_requests  # no transaction held open over the gateway's API call
def start(request: HttpRequest, integration: str) -> HttpResponse:
    gateway = _gateway(integration)
    if gateway is None:
        return HttpResponse(b"unknown integration\n", status=404, content_type="text/plain")
    if request.method != "POST":
        response = HttpResponse(b"POST only\n", status=405, content_type="text/plain")
        response["Allow"] = "POST"
        return response
    token = request.POST.get("token", "")
    try:
        claim = gateway.read_start_token(token)
        payment = gateway.payable_payment(claim)
    except StartRefused as exc:
        logger.info("%s start refused: %s", integration, exc)
        return page(request, gateway, status=exc.status, heading=exc.heading, message=str(exc))
    name = gateway.display_name
    try:
        url = gateway.open_checkout(payment, claim.extra, request)
    except CheckoutUnavailable as exc:
        logger.warning(
            "%s: could not open the checkout of payment %s: %s", integration, payment.pk, exc
        )
        reason = f"{name} did not answer as expected"
    except Exception:  # a bug or a misconfiguration: logged with its trace, still a page
        logger.exception("%s: opening the checkout of payment %s failed", integration, payment.pk)
        reason = f"The checkout at {name} could not be opened"
    else:
        response = HttpResponseRedirect(url)
        response.status_code = 303
        return response
    return page(
        request,
        gateway,
        status=502,
        heading=f"We could not reach {name}",
        message=f"{reason}, so the payment for order {payment.reference} has not started.",
        retry_token=token,
    )
