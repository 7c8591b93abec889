"""What the stand-ins remember between requests.

A database table rather than state signed into the page, because the postback must
recognise a notification body from any thread or process that shares the database
(``runserver``'s request threads, the live test server, the ``billing`` command), and
because a checkout must survive between the form arriving and the customer's decision.
"""

from django.db import models


class Checkout(models.Model):
    """One visit to a stand-in's hosted page: the form exactly as the gateway read it."""

    token = models.CharField(max_length=64, unique=True)
    gateway = models.CharField(max_length=50)
    fields = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=16, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.gateway} checkout {self.token} {self.decision or 'open'}"


class SentNotification(models.Model):
    """A notification the stand-in issued; postback verification answers from this table.

    A tampered body is recorded too (for the record) but never counts as authentic.
    """

    gateway = models.CharField(max_length=50)
    checkout = models.ForeignKey(Checkout, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.BinaryField()
    digest = models.CharField(max_length=64, db_index=True)
    authentic = models.BooleanField(default=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    target = models.TextField(blank=True)
    delivery = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        kind = "authentic" if self.authentic else "tampered"
        return f"{self.gateway} {self.transaction_id} {self.status} ({kind})"
