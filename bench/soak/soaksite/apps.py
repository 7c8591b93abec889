import os
import random
from typing import Any

from django.apps import AppConfig


class SoakReceiverError(RuntimeError):
    """Raised on purpose by the soak's receiver (SOAK_RAISE_RATE)."""


def record_success(sender: Any, type: Any = None, response: Any = None, **kwargs: Any) -> None:
    """The shop's fulfilment: one SignalRecord row per call, or a failure on purpose."""
    from django.conf import settings

    from .models import SignalRecord

    if settings.SOAK_RAISE_RATE and random.random() < settings.SOAK_RAISE_RATE:  # noqa: S311
        raise SoakReceiverError("the soak's receiver failed on purpose")
    SignalRecord.objects.create(
        integration=getattr(sender, "slug", "") or "",
        reference=getattr(response, "reference", "") or "",
        transaction_id=getattr(response, "transaction_id", "") or "",
        pid=os.getpid(),
    )


class SoaksiteConfig(AppConfig):
    name = "soaksite"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing.signals import transaction_was_successful

        transaction_was_successful.connect(
            record_success, weak=False, dispatch_uid="soak-record-success"
        )
