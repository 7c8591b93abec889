"""Processing through Django's Tasks framework (django.tasks, or the django-tasks backport).

Besides the notifications themselves, this queues recovery, at most once per
``BILLING_RECOVERY_INTERVAL`` per process. With a backend that defers, every finished
task makes sure one sweep task is scheduled; that task keeps itself scheduled while
anything is unfinished, so rows stranded by a killed worker are recovered even when
traffic stops. The immediate backend cannot defer: notify/ and return/ sweep inline,
a few rows at a time, whenever billing is used.
"""

import logging
import time
from datetime import datetime, timedelta

from django.utils import timezone

try:  # Django 6
    from django.tasks import task, task_backends
except ImportError:  # Django 5.2
    from django_tasks import task, task_backends  # type: ignore[no-redef,assignment]

from . import conf, recovery
from .models import Outcome
from .pipeline import run

logger = logging.getLogger("billing.tasks")

INLINE_SWEEP_LIMIT = 5  # rows processed inside one request when the backend cannot defer
QUEUED_SWEEP_LIMIT = 500
_last_tick = float("-inf")


@task()
def process_notification(log_id: int) -> str:
    # A queued task only decides: a copy queued by recovery finds the row decided and
    # stops there. Re-running a decided row is for people (admin, billing_process ID).
    outcome, retry_at = run(log_id, undecided_only=True)
    tick()
    if outcome == Outcome.RETRY and retry_at is not None:
        enqueue(log_id, run_after=retry_at)
    return outcome


@task()
def recover() -> int:
    """The scheduled sweep: schedule the next one first (a kill now loses nothing), then
    queue every stale notification again."""
    recovery.release_next_run()
    if recovery.unfinished_exist():
        schedule_recovery()
    return sweep(QUEUED_SWEEP_LIMIT)


def can_defer() -> bool:
    return bool(task_backends[conf.task_backend_alias()].supports_defer)


def enqueue(log_id: int, run_after: datetime | None = None) -> None:
    """Run now (immediate backend) or queue it. A delayed retry needs a backend that
    defers; without one, the recovery sweep runs it once it is due."""
    bound = process_notification.using(backend=conf.task_backend_alias())
    if run_after is not None:
        if not can_defer():
            return
        bound = bound.using(run_after=run_after)
    bound.enqueue(log_id)


def sweep(limit: int) -> int:
    """Queue (or, on the immediate backend, run) stale notifications again."""
    grace = timedelta(seconds=conf.lease_seconds()) if can_defer() else timedelta(0)
    now = timezone.now()
    ids = recovery.stale_ids(now, grace=grace, limit=limit, backoff=can_defer())
    recovery.mark_requeued(ids, now)
    for log_id in ids:
        enqueue(log_id)
    if ids:
        logger.warning("recovery: re-queued %d unfinished notification(s)", len(ids))
    return len(ids)


def schedule_recovery() -> None:
    now = timezone.now()
    due = now + timedelta(seconds=conf.recovery_interval())
    if recovery.claim_next_run(now, due):
        recover.using(backend=conf.task_backend_alias(), run_after=due).enqueue()


def tick_from_request() -> None:
    """A request's share of recovery: only without a deferring backend, whose workers
    keep the sweep scheduled themselves (see ``process_notification``)."""
    if not can_defer():
        tick()


def tick() -> None:
    """Recovery piggybacks on billing's traffic; never fails the caller."""
    global _last_tick
    now = time.monotonic()
    if now - _last_tick < conf.recovery_interval():
        return
    _last_tick = now
    try:
        if can_defer():
            schedule_recovery()
        else:
            sweep(INLINE_SWEEP_LIMIT)
    except Exception:  # the next tick tries again
        logger.exception("recovery sweep failed")
