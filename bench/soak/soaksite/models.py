from django.db import models


class SignalRecord(models.Model):
    """One call of transaction_was_successful, as the shop's receiver saw it.

    Deliberately not unique: a second delivery of the signal is a second row.
    """

    integration = models.CharField(max_length=50)
    reference = models.CharField(max_length=127, db_index=True)
    transaction_id = models.CharField(max_length=127, blank=True)
    pid = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.integration}:{self.reference} ({self.pid})"
