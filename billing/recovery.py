"""Finding notifications that were acknowledged but never finished, and when to look.

A worker killed mid-task leaves its row ``received`` with a lease that runs out; a
retry waits for a time that a backend without deferral never wakes up for; a queue
that refused the task leaves the row unqueued. These queries find such rows; the
task layer (``billing.tasks``) queues them again. The ledger makes a second run safe.
"""

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from . import conf
from .models import NotificationLog, Outcome, RecoverySchedule

UNFINISHED = (Outcome.RECEIVED, Outcome.RETRY)
_SCHEDULE_PK = 1


def _notifications() -> QuerySet[NotificationLog]:
    # Return rows record the customer's visit; they are not processed.
    return NotificationLog.objects.exclude(kind="return")


def stale_ids(now: datetime, *, grace: timedelta, limit: int) -> list[int]:
    """Unfinished rows nobody is working on: forgotten ones, and retries that are due.

    ``grace`` is how late a deferred retry may start before it counts as lost.
    """
    lease = timedelta(seconds=conf.lease_seconds())
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    not_just_requeued = Q(requeued_at__isnull=True) | Q(requeued_at__lt=now - lease)
    forgotten = Q(outcome=Outcome.RECEIVED, received_at__lt=now - lease)
    due = Q(outcome=Outcome.RETRY, next_attempt_at__lte=now - grace)
    rows = _notifications().filter(free, not_just_requeued, forgotten | due).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def mark_requeued(ids: list[int], now: datetime) -> None:
    NotificationLog.objects.filter(pk__in=ids).update(requeued_at=now)


def unfinished_exist() -> bool:
    return _notifications().filter(outcome__in=UNFINISHED).exists()


def unfinished_counts(now: datetime) -> dict[str, int]:
    """For the admin and checks: what waits, and what waits longer than it should."""
    lease = timedelta(seconds=conf.lease_seconds())
    rows = _notifications()
    return {
        "retry": rows.filter(outcome=Outcome.RETRY).count(),
        "overdue": len(stale_ids(now, grace=lease, limit=10_000)),
        "error": rows.filter(outcome=Outcome.ERROR).count(),
    }


def claim_next_run(now: datetime, due: datetime) -> bool:
    """True for the one caller that gets to schedule the next sweep (a conditional UPDATE),
    so a deployment of many processes keeps a single sweep queued."""
    RecoverySchedule.objects.get_or_create(pk=_SCHEDULE_PK)
    return bool(
        RecoverySchedule.objects.filter(pk=_SCHEDULE_PK)
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lt=now))
        .update(next_run_at=due)
    )


def release_next_run() -> None:
    RecoverySchedule.objects.filter(pk=_SCHEDULE_PK).update(next_run_at=None)
