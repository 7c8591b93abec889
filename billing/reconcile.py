"""Reconciliation: ask the gateway about checkouts it never told the shop about.

A checkout created by API (Stripe Checkout, and every ApiCheckoutIntegration) has the
gateway's id on its payment (``gateway_reference``). When the webhook is lost, or the
gateway sends none (eWAY), or the customer closed the tab before the return, the
payment stays pending although the gateway has the outcome. ``reconcile`` fetches that
outcome for pending payments older than a given age (``fetch_status``) and runs each
answer through the same pipeline as a notification (``process_fetched``): stored as a
row of method FETCH and kind ``"fetch"``, verified (only billing's own fetches are),
bound to the payment's amount, currency, reference and mode, applied at most once.

A gateway that cannot be asked leaves its payments pending: each is reported, and
nothing is stored for it. Running it again, or alongside a webhook, applies nothing
twice (the ledger's unique key and its state machine see to it).

``billing reconcile`` and ``manage.py billing_reconcile`` run it; schedule either
(cron, a beat task) every few minutes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .api_checkout import ApiCheckoutIntegration
from .exceptions import BillingError, InvalidData, VerificationUnavailable
from .models import NotificationLog, Outcome, Payment, PaymentStatus
from .pipeline import process_fetched
from .registry import get_integration, integration_class

logger = logging.getLogger("billing.reconcile")

DEFAULT_AGE = timedelta(minutes=10)
FETCH_KIND = "fetch"

# What one payment's reconciliation came to, besides the pipeline's outcomes.
UNREACHABLE = "unreachable"  # the gateway could not be asked: still pending, try again
NOTHING = "nothing"  # the gateway has nothing to tell yet (fetch_status gave None)
FAILED = "failed"  # the integration cannot be built, or cannot fetch
# Outcomes that leave nothing for a person to look at.
SETTLED = frozenset({Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE, Outcome.IGNORED, NOTHING})
# Outcomes that mean the payment could not be reconciled this time.
TROUBLE = frozenset({UNREACHABLE, FAILED, Outcome.ERROR, Outcome.REJECTED})

_AGE = re.compile(r"(\d{1,9})\s*([smhd]?)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "minutes"}


def parse_age(text: str) -> timedelta:
    """``10m``, ``90s``, ``2h``, ``1d``; a bare number is minutes. InvalidData otherwise."""
    found = _AGE.fullmatch(text.strip().lower())
    if found is None:
        raise InvalidData(f"{text!r} is not an age such as 10m, 90s, 2h or 1d")
    return timedelta(**{_UNITS[found[2]]: int(found[1])})


@dataclass(frozen=True)
class Reconciled:
    """One pending payment, asked about: what came of it, and its state now."""

    integration: str
    reference: str
    result: str  # a pipeline Outcome, or UNREACHABLE, NOTHING, FAILED
    status: str  # the payment's status afterwards
    detail: str = ""
    log_id: int | None = None  # the stored fetch, when there was one

    @property
    def trouble(self) -> bool:
        return self.result in TROUBLE


def _api_slugs(slugs: Collection[str]) -> list[str]:
    """The slugs whose integration creates its checkouts by API."""
    found = []
    for slug in slugs:
        try:
            cls = integration_class(slug)
        except BillingError:
            continue  # an integration no longer installed: nothing can fetch for it
        if issubclass(cls, ApiCheckoutIntegration):
            found.append(slug)
    return sorted(found)


def due(
    older_than: timedelta = DEFAULT_AGE,
    *,
    integrations: Collection[str] = (),
    now: datetime | None = None,
) -> QuerySet[Payment]:
    """Pending payments of API integrations with a gateway id, made before ``older_than``
    ago (the webhook's head start), oldest first."""
    cutoff = (now or timezone.now()) - older_than
    pending = Payment.objects.filter(status=PaymentStatus.PENDING, created_at__lte=cutoff)
    pending = pending.exclude(gateway_reference="")
    if integrations:
        pending = pending.filter(integration__in=list(integrations))
    slugs = set(pending.values_list("integration", flat=True).distinct())
    return pending.filter(integration__in=_api_slugs(slugs)).order_by("created_at", "pk")


def reconcile(
    older_than: timedelta = DEFAULT_AGE,
    *,
    integrations: Collection[str] = (),
    now: datetime | None = None,
) -> list[Reconciled]:
    """Fetch and apply the gateway's state of every due payment (see ``due``)."""
    results: list[Reconciled] = []
    built: dict[str, ApiCheckoutIntegration | BillingError] = {}
    for payment in due(older_than, integrations=integrations, now=now):
        slug = payment.integration
        if slug not in built:
            try:
                integration = get_integration(slug)
            except BillingError as exc:
                built[slug] = exc
            else:
                built[slug] = (
                    integration
                    if isinstance(integration, ApiCheckoutIntegration)
                    else BillingError(f"{slug} does not create its checkouts by API")
                )
        results.append(reconcile_payment(built[slug], payment))
    return results


def reconcile_payment(
    integration: ApiCheckoutIntegration | BillingError, payment: Payment
) -> Reconciled:
    """Ask the gateway about one payment and run the answer through the pipeline."""

    def result(outcome: str, detail: str = "", log_id: int | None = None) -> Reconciled:
        status = Payment.objects.filter(pk=payment.pk).values_list("status", flat=True).first()
        return Reconciled(
            payment.integration,
            payment.reference,
            outcome,
            str(status or payment.status),
            detail,
            log_id,
        )

    if isinstance(integration, BillingError):
        return result(FAILED, str(integration))
    try:
        body = integration.fetch_status(payment)
    except VerificationUnavailable as exc:
        logger.warning(
            "reconcile %s %s: %s could not be asked: %s",
            payment.integration,
            payment.reference,
            integration.display_name,
            exc,
        )
        return result(UNREACHABLE, str(exc))
    except NotImplementedError as exc:
        return result(FAILED, str(exc))
    except BillingError as exc:
        logger.warning("reconcile %s %s: %s", payment.integration, payment.reference, exc)
        return result(FAILED, str(exc))
    if body is None:
        return result(NOTHING, f"{integration.display_name} has nothing to tell yet")
    outcome = process_fetched(integration, None, kind=FETCH_KIND, body=body)
    # The row just stored, for the report (the pipeline keeps the claimed reference).
    log = (
        NotificationLog.objects.filter(
            integration=integration.slug, kind=FETCH_KIND, claimed_reference=payment.reference
        )
        .order_by("-pk")
        .values_list("pk", "error")
        .first()
    )
    log_id, error = log if log is not None else (None, "")
    logger.info("reconcile %s %s: %s", payment.integration, payment.reference, outcome)
    return result(outcome, error, log_id)
