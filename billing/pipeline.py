"""Steps 3-7 of a notification: verify, bind, apply once, transition, signal.

Runs from the stored raw request only, so it can be re-run at any time; re-running
an applied notification finds its event in the ledger and changes nothing.

Signals are sent inside the transaction that applies the event: a receiver's own
writes commit together with the payment's new state, exactly once. A receiver that
raises rolls both back, and the notification is retried like any transient failure,
so the payment and the shop never disagree.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from . import conf
from .exceptions import (
    BillingError,
    MalformedNotification,
    ReceiverFailed,
    VerificationUnavailable,
)
from .ledger import apply
from .models import (
    NotificationLog,
    Outcome,
    ProcessingAttempt,
    Verdict,
    clipped,
    storable,
)
from .protocols.base import Notification, Verification
from .protocols.http_api import FETCH_METHOD
from .registry import get_integration

if TYPE_CHECKING:
    from .integration import Integration

logger = logging.getLogger("billing.pipeline")

# The database went away or was busy ("database is locked"): worth another attempt.
TRANSIENT = (OperationalError, InterfaceError)
# What process() answers when another worker holds the notification's lease.
BUSY = "busy"
_MAX_RETRY_DELAY = 6 * 3600


def process(log_id: int) -> str:
    """Process one stored notification; returns its outcome."""
    return run(log_id)[0]


def run(log_id: int, *, undecided_only: bool = False) -> tuple[str, datetime | None]:
    """Process one stored notification: its outcome, and when to retry it (or None).

    ``undecided_only`` leaves a notification alone once it has an outcome (received and
    retry are not outcomes): its recorded outcome is returned.
    """
    log = _claim(log_id, undecided_only=undecided_only)
    if log is None:
        outcome = (
            NotificationLog.objects.filter(pk=log_id).values_list("outcome", flat=True).first()
        )
        if outcome is None:
            raise NotificationLog.DoesNotExist(f"no notification {log_id}")
        if outcome in (Outcome.RECEIVED, Outcome.RETRY):
            return BUSY, None  # another worker holds its lease
        return str(outcome), None  # decided already (undecided_only)
    if log.pruned_at is not None:  # the request is gone; its recorded outcome stands
        NotificationLog.objects.filter(pk=log.pk).update(lease_expires_at=None)
        return log.outcome, None
    try:
        outcome = _process(log)
    except (*TRANSIENT, ReceiverFailed) as exc:
        outcome = _retry_after_fault(log, exc)
    return outcome, log.next_attempt_at if outcome == Outcome.RETRY else None


def _claim(log_id: int, *, undecided_only: bool = False) -> NotificationLog | None:
    """Take the notification's lease and count the attempt, unless a live worker has it."""
    now = timezone.now()
    rows = NotificationLog.objects.filter(pk=log_id)
    if undecided_only:
        rows = rows.filter(outcome__in=(Outcome.RECEIVED, Outcome.RETRY))
    claimed = rows.filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)).update(
        lease_expires_at=now + timedelta(seconds=conf.lease_seconds()),
        attempts=F("attempts") + 1,
    )
    return NotificationLog.objects.get(pk=log_id) if claimed else None


def _process(log: NotificationLog) -> str:
    try:
        integration = get_integration(log.integration)
        inbound = integration.inbound(log)
        fields = integration.parse_notification(inbound)
        # Read once, before anyone trusts it: its reference is kept for searching the
        # log; a notification too broken to read is said so after verification.
        unreadable: Exception | None = None
        try:
            notification: Notification | None = integration.to_notification(fields)
        except Exception as exc:
            notification, unreadable = None, exc
        claimed = storable(notification.reference) if notification else ""
        log.claimed_reference = clipped(NotificationLog, "claimed_reference", claimed)
        try:
            verdict = integration.verify(inbound, fields)
        except VerificationUnavailable as exc:
            log.verification = Verdict.UNKNOWN
            return _retry_later(log, str(exc))
        log.verification = verdict
        if verdict is not Verification.VALID:
            return _finish(log, Outcome.REJECTED, "the gateway did not confirm this notification")
        if notification is None:
            assert unreadable is not None
            raise unreadable
        _check_storable(notification)
        log.reference = clipped(NotificationLog, "reference", notification.reference)
        log.transaction_id = clipped(NotificationLog, "transaction_id", notification.transaction_id)
        return _apply_and_finish(integration, notification, log)
    except (*TRANSIENT, ReceiverFailed):
        raise
    except MalformedNotification as exc:
        return _finish(log, Outcome.REJECTED, str(exc))
    except BillingError as exc:
        return _finish(log, Outcome.ERROR, str(exc))
    except Exception as exc:  # recorded, never lost; the traceback goes to the logger
        logger.exception("notification %s failed", log.pk)
        return _finish(log, Outcome.ERROR, f"internal error: {type(exc).__name__}")


def _check_storable(n: Notification) -> None:
    """Text columns cannot hold NUL (PostgreSQL refuses it); no gateway sends one."""
    if any("\x00" in value for value in (n.reference, n.transaction_id, n.receiver, n.currency)):
        raise MalformedNotification("the notification contains NUL characters")


def _apply_and_finish(integration: Integration, n: Notification, log: NotificationLog) -> str:
    """Apply, signal and record the outcome in one transaction: all of it or none."""
    settled_at = log.processed_at
    try:
        with transaction.atomic():
            outcome, error = apply(integration, n, log)
            return _finish(log, outcome, error)
    except IntegrityError:
        # The ledger's unique key: this event was applied by another delivery.
        return _finish(log, Outcome.DUPLICATE, "")
    except BaseException:
        log.processed_at = settled_at  # rolled back: the row is as it was
        raise


def _record_attempt(log: NotificationLog, outcome: str, error: str) -> None:
    ProcessingAttempt.objects.create(
        notification=log,
        number=log.attempts,
        outcome=outcome,
        verification=log.verification,
        error=error,
    )


def _release(log: NotificationLog) -> None:
    NotificationLog.objects.filter(pk=log.pk).update(lease_expires_at=None)


def _finish(log: NotificationLog, outcome: str, error: str) -> str:
    if log.processed_at is not None:
        # Decided before: that outcome stays on the log; this re-run is history.
        _record_attempt(log, outcome, error)
        _release(log)
        logger.info("notification %s (%s) re-run: %s", log.pk, log.integration, outcome)
        return outcome
    log.outcome = outcome
    log.error = error
    log.processed_at = timezone.now()
    log.next_attempt_at = None
    log.lease_expires_at = None
    log.save(
        update_fields=[
            "outcome",
            "error",
            "processed_at",
            "next_attempt_at",
            "lease_expires_at",
            "verification",
            "reference",
            "claimed_reference",
            "transaction_id",
            "payment",
        ]
    )
    logger.info("notification %s (%s): %s", log.pk, log.integration, outcome)
    return outcome


def _retry_after_fault(log: NotificationLog, exc: Exception) -> str:
    """A transient failure (database, a receiver): record a retry if the database lets us.

    If even that fails, the row keeps its lease; when the lease runs out, recovery
    takes it up again. Either way it is never left as a final error.
    """
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()  # reconnect on the next query
    reason = str(exc) if isinstance(exc, ReceiverFailed) else f"{type(exc).__name__}: {exc}"
    logger.warning("notification %s: %s; retrying", log.pk, reason)
    try:
        return _retry_later(log, reason[:500])
    except DatabaseError:
        logger.exception("notification %s: could not record the retry", log.pk)
        raise


def _retry_later(log: NotificationLog, reason: str) -> str:
    """Not decided yet (the gateway could not be asked, the database failed): try again."""
    if log.processed_at is not None:  # a re-run of a decided row: nothing to retry
        _record_attempt(log, Outcome.RETRY, reason)
        _release(log)
        return Outcome.RETRY
    if log.attempts >= conf.max_verify_attempts():
        return _finish(log, Outcome.ERROR, f"gave up after {log.attempts} attempts: {reason}")
    delay = min(conf.retry_base_seconds() * 2 ** (log.attempts - 1), _MAX_RETRY_DELAY)
    log.outcome = Outcome.RETRY
    log.error = reason
    log.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    log.lease_expires_at = None
    log.requeued_at, log.requeues = None, 0  # a new due time: recovery starts afresh
    log.save(
        update_fields=[
            "outcome",
            "error",
            "next_attempt_at",
            "lease_expires_at",
            "requeued_at",
            "requeues",
            "verification",
            "claimed_reference",
        ]
    )
    _record_attempt(log, Outcome.RETRY, reason)
    logger.warning("notification %s: not decided, retry at %s", log.pk, log.next_attempt_at)
    return Outcome.RETRY


def process_fetched(
    integration: Integration, source: NotificationLog | None, *, kind: str, body: bytes
) -> str:
    """Store and process data the library fetched from the gateway itself (e.g. PDT).

    ``source`` is the request that made billing ask (a customer's return); None when
    billing asked on its own (reconciliation).
    """
    log = NotificationLog.objects.create(
        integration=integration.slug,
        kind=kind,
        method=FETCH_METHOD,
        path=source.path if source is not None else "",
        body=body,
        declared_length=len(body),
        remote_addr=None,
    )
    return process(log.pk)
