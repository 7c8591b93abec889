"""The ledger: what the shop asked for, and gateway events applied to it at most once.

``record_payment`` writes the terms a form asks for; ``apply`` binds an authentic
notification to its payment and applies it in four steps: lock the payment row, decide
the next state (or why there is none), record the event under the ledger's unique key,
and emit the signals, all inside the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from .exceptions import PaymentConflict, ReceiverFailed
from .models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus, clipped
from .money import currency_code, exact_amount, format_amount
from .protocols.base import Notification, PaymentTerms, Status
from .signals import (
    payment_status_changed,
    transaction_was_successful,
    transaction_was_unsuccessful,
)

if TYPE_CHECKING:
    from .integration import Integration

# Which states a gateway may move a payment to. REVIEW leaves only by a person.
ALLOWED: dict[str, frozenset[str]] = {
    PaymentStatus.PENDING: frozenset(
        {Status.PENDING, Status.PAID, Status.FAILED, Status.CANCELLED}
    ),
    PaymentStatus.FAILED: frozenset({Status.PAID}),
    PaymentStatus.CANCELLED: frozenset({Status.PAID, Status.FAILED}),
    PaymentStatus.PAID: frozenset({Status.REFUNDED, Status.REVERSED}),
    PaymentStatus.REVERSED: frozenset({Status.PAID, Status.REINSTATED, Status.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
    PaymentStatus.REVIEW: frozenset(),
}
# The payment state a notification's status moves to, where the two differ.
RESULTING_STATE = {Status.REINSTATED: PaymentStatus.PAID}
UNSUCCESSFUL = frozenset({Status.FAILED, Status.CANCELLED})


def record_payment(slug: str, terms: PaymentTerms, *, test: bool) -> Payment:
    """Record what a form asks for. The terms must be exact: an unknown currency or an
    amount finer than the currency's minor unit is refused, never rounded."""
    currency = currency_code(terms.currency)
    values = {
        "amount": exact_amount(terms.amount, currency),
        "currency": currency,
        "receiver": terms.receiver,
        "test": test,
    }
    # A new reference is one INSERT; only a repeated one pays for the lock.
    try:
        with transaction.atomic():
            return Payment.objects.create(integration=slug, reference=terms.reference, **values)
    except IntegrityError:
        pass
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(
            integration=slug, reference=terms.reference
        )
        if all(getattr(payment, k) == v for k, v in values.items()):
            return payment
        if payment.status != PaymentStatus.PENDING:
            raise PaymentConflict(
                f"payment {terms.reference} is {payment.status}; its terms cannot change"
            )
        for key, value in values.items():
            setattr(payment, key, value)
        payment.save(update_fields=[*values, "updated_at"])
        return payment


def mismatches(integration: Integration, payment: Payment, n: Notification) -> list[str]:
    """Why an authentic notification does not belong to what the shop asked for."""
    problems = []
    if n.test and not integration.test_mode:
        problems.append("a test notification reached a live shop")
    elif n.test != payment.test:
        problems.append(f"notification test={n.test} for a payment made with test={payment.test}")
    if not integration.receiver_matches(payment.receiver, n):
        problems.append(f"paid to {n.receiver!r}, not the shop's account")
    if n.currency.upper() != payment.currency.upper():
        problems.append(f"currency {n.currency!r} instead of {payment.currency}")
    asked = format_amount(payment.amount, payment.currency)
    if n.status in (Status.PAID, Status.REINSTATED) and n.amount != payment.amount:
        problems.append(f"amount {n.amount} instead of {asked}")
    if n.status in (Status.REFUNDED, Status.REVERSED) and (
        n.amount is None or abs(n.amount) > payment.amount
    ):
        problems.append(f"{n.status} of {n.amount} on a payment of {asked}")
    return problems


def apply(integration: Integration, n: Notification, log: NotificationLog) -> tuple[str, str]:
    """Bind the notification to its payment and apply it at most once.

    Raises IntegrityError when the event is already in the ledger and the state
    machine alone did not tell (the caller reports it as a duplicate), and
    ReceiverFailed when a signal receiver raised (the caller's transaction rolls back).
    """
    if n.status is Status.UNKNOWN or not n.transaction_id:
        return Outcome.IGNORED, f"gateway status {n.gateway_status!r} changes no payment"
    # No savepoint: a failed ledger INSERT aborts the caller's transaction on purpose.
    with transaction.atomic(savepoint=False):
        payment = _lock(integration, n.reference)
        if payment is None:
            return Outcome.HELD, f"no payment with reference {n.reference!r}"
        log.payment = payment
        problems = mismatches(integration, payment, n)
        decision = _decide(payment, n, problems)
        if isinstance(decision, tuple):
            return decision
        old, new = payment.status, decision
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
            emit(integration, payment, old, n, first_paid=False)
            return Outcome.HELD, payment.review_reason
        first_paid = new == PaymentStatus.PAID and payment.paid_at is None
        payment.status = new
        if new == PaymentStatus.PAID:
            payment.transaction_id = clipped(Payment, "transaction_id", n.transaction_id)
            payment.paid_at = payment.paid_at or timezone.now()
        payment.save(update_fields=["status", "transaction_id", "paid_at", "updated_at"])
        emit(integration, payment, old, n, first_paid=first_paid)
    return Outcome.APPLIED, ""


def _lock(integration: Integration, reference: str) -> Payment | None:
    """The payment row, locked: concurrent deliveries of one payment queue up here (the
    ledger's unique key would make a second application impossible even without it)."""
    return (
        Payment.objects.select_for_update()
        .filter(integration=integration.slug, reference=reference)
        .first()
    )


def _decide(payment: Payment, n: Notification, problems: list[str]) -> str | tuple[str, str]:
    """The payment's next state, or the outcome when nothing is to be recorded."""
    old = payment.status
    if problems:
        # A pending payment waits for a person, as does a failed or cancelled one that
        # the gateway now says was paid after all (money may have arrived); a paid,
        # refunded or reversed payment keeps its state (review_reason says why).
        unpaid = old in (PaymentStatus.FAILED, PaymentStatus.CANCELLED)
        if old == PaymentStatus.PENDING or (unpaid and n.status is Status.PAID):
            return PaymentStatus.REVIEW
        return old
    if n.status in ALLOWED[old]:
        return RESULTING_STATE.get(n.status, n.status)
    if PaymentEvent.objects.filter(payment=payment, event_key=n.event_key).exists():
        return Outcome.DUPLICATE, ""
    return Outcome.STALE, f"{n.gateway_status} cannot follow {old}"


def emit(
    integration: Integration, payment: Payment, old: str, n: Notification, *, first_paid: bool
) -> None:
    """The signals of one transition, inside the applying transaction."""
    new = payment.status
    if new == old:
        return
    sender = type(integration)
    _send(
        payment_status_changed,
        sender=sender,
        payment=payment,
        old_status=old,
        new_status=new,
        notification=n,
    )
    if first_paid:
        _send(transaction_was_successful, sender=sender, type=new, response=n)
    elif new in UNSUCCESSFUL:
        _send(transaction_was_unsuccessful, sender=sender, type=new, response=n)


def _send(signal: Signal, **kwargs: object) -> None:
    """Every receiver runs; if any raised, ReceiverFailed rolls the whole change back."""
    failed = [
        f"{getattr(receiver, '__qualname__', receiver)} raised {type(result).__name__}"
        for receiver, result in signal.send_robust(**kwargs)
        if isinstance(result, Exception)
    ]
    if failed:  # send_robust has logged each traceback
        raise ReceiverFailed("signal receiver failed: " + "; ".join(failed))
