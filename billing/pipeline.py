"""Steps 3-7 of a notification: verify, bind, apply once, transition, signal on commit.

Runs from the stored raw request only, so it can be re-run at any time; re-running
an applied notification finds its event in the ledger and changes nothing.
"""

import logging
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import conf
from .exceptions import BillingError, MalformedNotification, VerificationUnavailable
from .integration import Integration
from .models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus, Verdict
from .money import format_amount
from .protocols.base import Notification, Status, Verification
from .registry import get_integration
from .signals import (
    payment_status_changed,
    transaction_was_successful,
    transaction_was_unsuccessful,
)

logger = logging.getLogger("billing.pipeline")

# Which states a gateway may move a payment to. REVIEW leaves only by a person.
ALLOWED: dict[str, frozenset[str]] = {
    PaymentStatus.PENDING: frozenset(
        {Status.PENDING, Status.PAID, Status.FAILED, Status.CANCELLED}
    ),
    PaymentStatus.FAILED: frozenset({Status.PAID}),
    PaymentStatus.CANCELLED: frozenset({Status.PAID, Status.FAILED}),
    PaymentStatus.PAID: frozenset({Status.REFUNDED, Status.REVERSED}),
    PaymentStatus.REVERSED: frozenset({Status.PAID, Status.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
    PaymentStatus.REVIEW: frozenset(),
}
UNSUCCESSFUL = frozenset({Status.FAILED, Status.CANCELLED})


def process(log_id: int) -> str:
    """Process one stored notification; returns its outcome."""
    log = NotificationLog.objects.get(pk=log_id)
    log.attempts += 1
    try:
        integration = get_integration(log.integration)
        fields = integration.parse_notification(log)
        try:
            verdict = integration.verify(log, fields)
        except VerificationUnavailable as exc:
            return _retry_later(log, str(exc))
        log.verification = verdict
        if verdict is not Verification.VALID:
            return _finish(log, Outcome.REJECTED, "the gateway did not confirm this notification")
        notification = integration.to_notification(fields)
        log.reference = notification.reference[:127]
        log.transaction_id = notification.transaction_id[:127]
        return _apply_and_finish(integration, notification, log)
    except MalformedNotification as exc:
        return _finish(log, Outcome.REJECTED, str(exc))
    except BillingError as exc:
        return _finish(log, Outcome.ERROR, str(exc))
    except Exception as exc:  # recorded, never lost; the traceback goes to the logger
        logger.exception("notification %s failed", log.pk)
        return _finish(log, Outcome.ERROR, f"internal error: {type(exc).__name__}")


def mismatches(integration: Integration, payment: Payment, n: Notification) -> list[str]:
    """Why an authentic notification does not belong to what the shop asked for."""
    problems = []
    if n.test and not integration.test_mode:
        problems.append("a test notification reached a live shop")
    elif n.test != payment.test:
        problems.append(f"notification test={n.test} for a payment made with test={payment.test}")
    if not integration.receiver_matches(payment, n):
        problems.append(f"paid to {n.receiver!r}, not the shop's account")
    if n.currency.upper() != payment.currency.upper():
        problems.append(f"currency {n.currency!r} instead of {payment.currency}")
    asked = format_amount(payment.amount, payment.currency)
    if n.status is Status.PAID and n.amount != payment.amount:
        problems.append(f"amount {n.amount} instead of {asked}")
    if n.status in (Status.REFUNDED, Status.REVERSED) and (
        n.amount is None or abs(n.amount) > payment.amount
    ):
        problems.append(f"{n.status} of {n.amount} on a payment of {asked}")
    return problems


def _apply_and_finish(integration: Integration, n: Notification, log: NotificationLog) -> str:
    """Apply and record the outcome in one transaction, so the ledger and the log agree."""
    try:
        with transaction.atomic():
            outcome, error = apply(integration, n, log)
            return _finish(log, outcome, error)
    except IntegrityError:
        # The ledger's unique key: this event was applied by another delivery.
        return _finish(log, Outcome.DUPLICATE, "")


def apply(integration: Integration, n: Notification, log: NotificationLog) -> tuple[str, str]:
    """Bind the notification to its payment and apply it at most once.

    Raises IntegrityError when the event is already in the ledger and the state
    machine alone did not tell (the caller reports it as a duplicate).
    """
    if n.status is Status.UNKNOWN or not n.transaction_id:
        return Outcome.IGNORED, f"gateway status {n.gateway_status!r} changes no payment"
    # No savepoint: a failed ledger INSERT aborts the caller's transaction on purpose.
    with transaction.atomic(savepoint=False):
        # The row lock serialises concurrent deliveries; the ledger's unique key
        # makes a second application impossible even without it.
        payment = (
            Payment.objects.select_for_update()
            .filter(integration=integration.slug, reference=n.reference)
            .first()
        )
        if payment is None:
            return Outcome.HELD, f"no payment with reference {n.reference!r}"
        log.payment = payment
        problems = mismatches(integration, payment, n)
        old = payment.status
        if problems:
            # A pending payment waits for a person; a settled one keeps its state.
            new = PaymentStatus.REVIEW if old == PaymentStatus.PENDING else old
        elif n.status in ALLOWED[old]:
            new = n.status
        elif PaymentEvent.objects.filter(payment=payment, event_key=n.event_key).exists():
            return Outcome.DUPLICATE, ""
        else:
            return Outcome.STALE, f"{n.gateway_status} cannot follow {old}"
        PaymentEvent.objects.create(
            payment=payment,
            event_key=n.event_key,
            from_status=old,
            to_status=new,
            notification=log,
        )
        if problems:
            payment.status = new
            payment.review_reason = "; ".join(problems)
            payment.save(update_fields=["status", "review_reason", "updated_at"])
            if new != old:
                _on_commit_changed(integration, payment, old, n)
            return Outcome.HELD, payment.review_reason
        first_paid = new == PaymentStatus.PAID and payment.paid_at is None
        payment.status = new
        if new == PaymentStatus.PAID:
            payment.transaction_id = n.transaction_id[:127]
            payment.paid_at = payment.paid_at or timezone.now()
        payment.save(update_fields=["status", "transaction_id", "paid_at", "updated_at"])
        if old != new:
            _on_commit_changed(integration, payment, old, n)
        sender = type(integration)
        if first_paid:
            transaction.on_commit(
                partial(transaction_was_successful.send, sender=sender, type=new, response=n)
            )
        elif new in UNSUCCESSFUL and old != new:
            transaction.on_commit(
                partial(transaction_was_unsuccessful.send, sender=sender, type=new, response=n)
            )
    return Outcome.APPLIED, ""


def _on_commit_changed(
    integration: Integration, payment: Payment, old: str, n: Notification
) -> None:
    transaction.on_commit(
        partial(
            payment_status_changed.send,
            sender=type(integration),
            payment=payment,
            old_status=old,
            new_status=payment.status,
            notification=n,
        )
    )


def _finish(log: NotificationLog, outcome: str, error: str) -> str:
    log.outcome = outcome
    log.error = error
    log.processed_at = timezone.now()
    log.next_attempt_at = None
    log.save(
        update_fields=[
            "outcome",
            "error",
            "processed_at",
            "next_attempt_at",
            "attempts",
            "verification",
            "reference",
            "transaction_id",
            "payment",
        ]
    )
    logger.info("notification %s (%s): %s", log.pk, log.integration, outcome)
    return outcome


def _retry_later(log: NotificationLog, reason: str) -> str:
    """The gateway could not be asked: never accept, ask again later."""
    log.verification = Verdict.UNKNOWN
    if log.attempts >= conf.max_verify_attempts():
        return _finish(log, Outcome.ERROR, f"gave up after {log.attempts} attempts: {reason}")
    delay = timedelta(seconds=min(30 * 2 ** (log.attempts - 1), 6 * 3600))
    log.outcome = Outcome.RETRY
    log.error = reason
    log.next_attempt_at = timezone.now() + delay
    log.save(update_fields=["outcome", "error", "next_attempt_at", "attempts", "verification"])
    logger.warning(
        "notification %s: verification unavailable, retry at %s", log.pk, log.next_attempt_at
    )
    from .tasks import enqueue

    enqueue(log.pk, run_after=log.next_attempt_at)
    return Outcome.RETRY


def process_fetched(
    integration: Integration, source: NotificationLog, *, kind: str, body: bytes
) -> str:
    """Store and process data the library fetched from the gateway itself (e.g. PDT)."""
    log = NotificationLog.objects.create(
        integration=integration.slug,
        kind=kind,
        method="FETCH",
        path=source.path,
        body=body,
        declared_length=len(body),
        remote_addr=None,
    )
    return process(log.pk)
