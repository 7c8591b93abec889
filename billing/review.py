"""A person's decisions on a payment held for review: accept it as paid, refuse it, or
leave a note.

Each decision is a ledger event carrying who took it and why, applied under the
payment's row lock and sent through the same signals a gateway's report would send, in
the same transaction. A payment is decided once: the ledger's unique key refuses a
second decision, even from two people clicking at the same moment. Refusing changes
nothing at the gateway: money that was taken must be refunded there.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .exceptions import BillingError, ReviewError
from .ledger import emit
from .models import NotificationLog, Payment, PaymentEvent, PaymentStatus, clipped
from .protocols.base import Notification
from .registry import get_integration

DECISION_KEY = "review:decision"


def held_notification(payment: Payment) -> NotificationLog | None:
    """The notification that put the payment on hold (the latest, if several did)."""
    event = (
        payment.events.filter(to_status=PaymentStatus.REVIEW, notification__isnull=False)
        .select_related("notification")
        .order_by("-pk")
        .first()
    )
    return event.notification if event is not None else None


def accept(payment: Payment, *, by: str, note: str = "") -> PaymentEvent:
    """Paid, with the held notification's transaction: the shop's receivers hear of it."""
    return _decide(payment, PaymentStatus.PAID, by=by, note=note)


def refuse(payment: Payment, *, by: str, note: str = "") -> PaymentEvent:
    """Failed: the shop's receivers hear of it; any refund is made at the gateway."""
    return _decide(payment, PaymentStatus.FAILED, by=by, note=note)


def add_note(payment: Payment, *, by: str, note: str) -> PaymentEvent:
    """A note in the payment's history; its state does not change."""
    if not note.strip():
        raise ReviewError("a note needs some text")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        count = locked.events.filter(event_key__startswith="review:note:").count()
        return PaymentEvent.objects.create(
            payment=locked,
            event_key=f"review:note:{count + 1}",
            from_status=locked.status,
            to_status=locked.status,
            actor=clipped(PaymentEvent, "actor", by),
            note=note,
        )


def _decide(payment: Payment, new: str, *, by: str, note: str) -> PaymentEvent:
    if not by.strip():
        raise ReviewError("a decision needs the name of the person taking it")
    try:
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if locked.status != PaymentStatus.REVIEW:
                raise ReviewError(
                    f"payment {locked.reference} is {locked.status}, not held for review"
                )
            log = held_notification(locked)
            if log is None:
                raise ReviewError(f"payment {locked.reference} has no held notification")
            integration = get_integration(locked.integration)
            notification = _notification(log)
            event = PaymentEvent.objects.create(
                payment=locked,
                event_key=DECISION_KEY,
                from_status=locked.status,
                to_status=new,
                notification=log,
                actor=clipped(PaymentEvent, "actor", by),
                note=note,
            )
            first_paid = new == PaymentStatus.PAID and locked.paid_at is None
            locked.status = new
            if new == PaymentStatus.PAID:
                locked.transaction_id = clipped(
                    Payment, "transaction_id", notification.transaction_id
                )
                locked.paid_at = locked.paid_at or timezone.now()
            locked.save(update_fields=["status", "transaction_id", "paid_at", "updated_at"])
            emit(integration, locked, PaymentStatus.REVIEW, notification, first_paid=first_paid)
    except IntegrityError:
        raise ReviewError(f"payment {payment.reference} was already decided") from None
    payment.refresh_from_db()
    return event


def _notification(log: NotificationLog) -> Notification:
    """The held notification as the gateway reported it (it was verified when held)."""
    integration = get_integration(log.integration)
    try:
        return integration.to_notification(integration.parse_notification(integration.inbound(log)))
    except BillingError as exc:
        raise ReviewError(f"the held notification #{log.pk} cannot be read: {exc}") from exc
