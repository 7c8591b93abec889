"""The shop's payments, the exactly-once ledger of applied gateway events, and the raw log."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .money import format_amount
from .protocols.base import Status, Verification


def clipped(model: type[models.Model], field: str, value: str) -> str:
    """``value`` cut to the column's length, read from the field itself."""
    length = getattr(model._meta.get_field(field), "max_length", None)
    return value[:length] if isinstance(length, int) else value


def storable(text: str) -> str:
    """``text`` as any column can hold it: NUL and lone surrogates, which PostgreSQL
    refuses, written out as escapes (for what is kept only to be searched or read)."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


class PaymentStatus(models.TextChoices):
    PENDING = Status.PENDING.value, _("pending")
    PAID = Status.PAID.value, _("paid")
    FAILED = Status.FAILED.value, _("failed")
    CANCELLED = Status.CANCELLED.value, _("cancelled")
    REFUNDED = Status.REFUNDED.value, _("refunded")
    REVERSED = Status.REVERSED.value, _("reversed")
    REVIEW = Status.REVIEW.value, _("held for review")


class Payment(models.Model):
    """What the shop asked the gateway for; notifications are bound against it."""

    integration = models.CharField(max_length=50)
    reference = models.CharField(max_length=127)
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    receiver = models.CharField(max_length=255, blank=True)
    test = models.BooleanField(help_text=_("Created while the integration was in test mode."))
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    transaction_id = models.CharField(max_length=127, blank=True)
    # The gateway's id of the checkout it created by API (a Stripe Checkout Session, a
    # Mollie payment, a PayPal order), for fetching its state later.
    gateway_reference = models.CharField(max_length=255, blank=True, db_index=True)
    review_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "reference"], name="billing_payment_unique_reference"
            )
        ]
        indexes = [models.Index(fields=["status"])]
        permissions = [("review_payment", "Can resolve payments held for review")]

    def __str__(self) -> str:
        amount = format_amount(self.amount, self.currency)
        return f"{self.integration}:{self.reference} {amount} {self.currency} {self.status}"


class Verdict(models.TextChoices):
    PENDING = Verification.PENDING.value, _("not yet verified")
    VALID = Verification.VALID.value, _("valid")
    INVALID = Verification.INVALID.value, _("invalid")
    UNKNOWN = Verification.UNKNOWN.value, _("unknown (gateway unreachable)")


class Outcome(models.TextChoices):
    RECEIVED = "received", _("received, not processed")
    APPLIED = "applied", _("applied")
    DUPLICATE = "duplicate", _("duplicate, acknowledged")
    STALE = "stale", _("late or out of order, not applied")
    HELD = "held", _("held for review")
    REJECTED = "rejected", _("rejected")
    RETRY = "retry", _("verification to be retried")
    IGNORED = "ignored", _("ignored")
    ERROR = "error", _("error")


class NotificationLog(models.Model):
    """Every inbound gateway request, stored as received before anything else happens."""

    integration = models.CharField(max_length=50, db_index=True)
    kind = models.CharField(max_length=16, default="notify")
    method = models.CharField(max_length=8)
    path = models.TextField()
    query_string = models.TextField(blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    declared_length = models.BigIntegerField(null=True, blank=True)
    truncated = models.BooleanField(default=False)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    verification = models.CharField(max_length=8, choices=Verdict.choices, default=Verdict.PENDING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker processes the row; a row whose lease ran out unfinished (the
    # worker was killed) is taken up again by billing.recovery.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When recovery last queued the row again, and how often it has: each time it waits
    # twice as long before the next, so a long queue is not flooded with copies.
    requeued_at = models.DateTimeField(null=True, blank=True)
    requeues = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set when retention removed the payer data (body, headers, query, address).
    pruned_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=127, blank=True, db_index=True)
    # What the request says its order is, before (or without) verification: for finding
    # "why is order X stuck", never for deciding anything.
    claimed_reference = models.CharField(
        max_length=127, blank=True, db_index=True, help_text=_("unverified")
    )
    transaction_id = models.CharField(max_length=127, blank=True, db_index=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["outcome", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.integration} {self.kind} {self.outcome}"


class PaymentEvent(models.Model):
    """One gateway event applied to a payment. The unique key makes re-application impossible."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    event_key = models.CharField(max_length=255)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    notification = models.ForeignKey(
        NotificationLog, null=True, on_delete=models.SET_NULL, related_name="events"
    )
    # A person's decision (billing.review): who took it, and why.
    actor = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "event_key"], name="billing_event_applied_once"
            )
        ]
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.event_key}: {self.from_status} -> {self.to_status}"


class ProcessingAttempt(models.Model):
    """A run of a notification that did not decide it: a retry, or a re-run after its
    outcome was settled (which stays on the log as it first was)."""

    notification = models.ForeignKey(
        NotificationLog, on_delete=models.CASCADE, related_name="history"
    )
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    verification = models.CharField(max_length=8, choices=Verdict.choices)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["notification", "number"]

    def __str__(self) -> str:
        return f"#{self.notification_id} attempt {self.number}: {self.outcome}"


class RecoverySchedule(models.Model):
    """One row: when the next recovery sweep is due, so a deployment queues one, not many."""

    next_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"next recovery sweep: {self.next_run_at or 'none scheduled'}"
