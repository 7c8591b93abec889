"""Signals, sent after the database transaction that changed the payment commits."""

from django.dispatch import Signal

# sender = the integration class, type = the new status, response = the Notification.
transaction_was_successful = Signal()
transaction_was_unsuccessful = Signal()
# Every applied transition: sender, payment, old_status, new_status, notification.
payment_status_changed = Signal()
