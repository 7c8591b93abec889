"""Signals, sent inside the database transaction that changes the payment.

A receiver's writes commit with the payment's new state, exactly once; a receiver that
raises rolls the change back and the notification is retried (see billing.pipeline).
Side effects outside the database belong in ``transaction.on_commit``.
"""

from django.dispatch import Signal

# sender = the integration class, type = the new status, response = the Notification.
transaction_was_successful = Signal()
transaction_was_unsuccessful = Signal()
# Every applied transition: sender, payment, old_status, new_status, notification.
payment_status_changed = Signal()
