"""Finding notifications that were acknowledged but never finished, and when to look.

A worker killed mid-task leaves its row ``received`` with a lease that runs out; a
retry waits for a time that a backend without deferral never wakes up for; a queue
that refused the task leaves the row unqueued. These queries find such rows; the
task layer (``billing.tasks``) queues them again. The ledger makes a second run safe.
"""

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from . import conf
from .models import NotificationLog, Outcome, RecoverySchedule

UNFINISHED = (Outcome.RECEIVED, Outcome.RETRY)
_SCHEDULE_PK = 1


def _notifications() -> QuerySet[NotificationLog]:
    # Return rows record the customer's visit; they are not processed.
    return NotificationLog.objects.exclude(kind="return")


# A row queued again waits lease * 2**requeues before the next time (at most 2**10).
_MAX_BACKOFF_DOUBLINGS = 10


def stale_ids(now: datetime, *, grace: timedelta, limit: int, backoff: bool = True) -> list[int]:
    """Unfinished rows nobody is working on.

    - a row a worker claimed whose lease ran out: the worker died; at once;
    - a row never claimed (lost by the queue, or still waiting in a long one: a queue
      cannot be asked which) and a retry that is due (``grace``: how late a deferred
      retry may start): a lease after it was due, then, with ``backoff`` (a queue that
      may still hold it), after twice as long each time.
    """
    lease = timedelta(seconds=conf.lease_seconds())
    abandoned = Q(lease_expires_at__lt=now)
    forgotten = Q(outcome=Outcome.RECEIVED, received_at__lt=now - lease)
    due = Q(outcome=Outcome.RETRY, next_attempt_at__lte=now - grace)
    unclaimed = Q(lease_expires_at__isnull=True) & (forgotten | due)
    rows = _notifications().filter(outcome__in=UNFINISHED).filter(abandoned | unclaimed)
    found = []
    for pk, claimed, requeued_at, requeues in rows.order_by("pk").values_list(
        "pk", "lease_expires_at", "requeued_at", "requeues"
    ):
        wait = lease * 2 ** min(requeues, _MAX_BACKOFF_DOUBLINGS)
        fresh = requeued_at is None or requeued_at < now - wait
        if claimed is not None or not backoff or fresh:
            found.append(pk)
            if len(found) == limit:
                break
    return found


def mark_requeued(ids: list[int], now: datetime) -> None:
    """Queued again: no claim any more, and the next time waits twice as long."""
    NotificationLog.objects.filter(pk__in=ids).update(
        requeued_at=now, requeues=F("requeues") + 1, lease_expires_at=None
    )


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
