"""What the gateways' test modules share: the shop's account, notify/, what it recorded."""

from collections.abc import Callable
from typing import Any

from django.test import Client

from billing.models import NotificationLog, Payment


def use_account(settings: Any, slug: str, account: dict[str, Any]) -> Any:
    """The shop in test mode with one gateway's account (a copy, which a test may change)."""
    settings.MERCHANT_SETTINGS = {slug: dict(account)}
    settings.MERCHANT_TEST_MODE = True
    return settings


def poster(slug: str) -> Callable[[bytes, Any], Any]:
    """``post(body, django_capture_on_commit_callbacks)``: a form POST to the gateway's
    notify/, with the callbacks run on commit (where the payment is processed)."""
    url = f"/billing/{slug}/notify/"

    def post(body: bytes, capture: Any) -> Any:
        with capture(execute=True):
            return Client().post(url, body, content_type="application/x-www-form-urlencoded")

    return post


def payment_of(slug: str) -> Callable[..., Payment]:
    """``payment(reference="ORDER-1")``: the gateway's payment for an order."""

    def payment(reference: str = "ORDER-1") -> Payment:
        return Payment.objects.get(integration=slug, reference=reference)

    return payment


def outcomes(**filters: Any) -> list[str]:
    """What the notification log made of each request, oldest first."""
    logs = NotificationLog.objects.filter(**filters).order_by("pk")
    return list(logs.values_list("outcome", flat=True))


def signed_ref(slug: str, reference: str = "ORDER-1", *, html: bool = False) -> str:
    """The query billing puts on return and cancel URLs: ``ref=...&sig=...``."""
    from billing.links import reference_signer

    query = f"ref={reference}&sig={reference_signer(slug).signature(reference)}"
    return query.replace("&", "&amp;") if html else query
