"""Retention: return rows and payer data are not kept for ever.

Return rows (the customer's visits) are deleted. Of notifications, never touched:
anything still being decided (received, retry), anything behind a
payment that is not settled (pending, held for review), and held notifications that
name no known payment (a person may still need them). What is pruned keeps its
outcome, reference and ledger links; only the request as received goes.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from .exceptions import InvalidData
from .models import NotificationLog, Outcome, PaymentStatus

UNSETTLED = (PaymentStatus.PENDING, PaymentStatus.REVIEW)


@dataclass(frozen=True)
class Pruned:
    returns_deleted: int
    notifications_scrubbed: int


def _kept() -> Q:
    return (
        Q(outcome__in=(Outcome.RECEIVED, Outcome.RETRY))
        | Q(payment__status__in=UNSETTLED)
        | Q(payment__isnull=True, outcome=Outcome.HELD)
    )


def prune(now: datetime, days: int) -> Pruned:
    if days < 1:
        raise InvalidData("retention must be at least one day")
    old = NotificationLog.objects.filter(received_at__lt=now - timedelta(days=days))
    # A return row records the customer's visit; notifications come on their own.
    deleted, _ = old.filter(kind="return").delete()
    scrubbed = (
        old.exclude(kind="return")
        .exclude(_kept())
        .filter(pruned_at__isnull=True)
        .update(body=b"", headers={}, query_string="", remote_addr=None, pruned_at=now)
    )
    return Pruned(returns_deleted=deleted, notifications_scrubbed=scrubbed)
