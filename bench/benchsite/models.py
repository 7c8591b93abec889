from django.db import models


class Sink(models.Model):
    """The durable floor: one INSERT of the raw body per request."""

    body = models.BinaryField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sink #{self.pk}"
