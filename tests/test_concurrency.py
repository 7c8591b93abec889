"""Many deliveries of the same IPN at once: exactly one success (PostgreSQL, real threads)."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from billing import get_integration
from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus
from billing.signals import transaction_was_successful
from tests.pay_pal_data import ipn_body

THREADS = 16
DELIVERIES_PER_THREAD = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_pay_once(postgres: None, settings: Any, fake_paypal: Any) -> None:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "ORDER-1", "amount": "10.00", "item_name": "Mug"})
    integration.generate_form()
    body = fake_paypal.send(ipn_body())

    successes: list[Any] = []
    lock = threading.Lock()

    def on_success(sender: Any, response: Any, **kwargs: Any) -> None:
        with lock:
            successes.append(response)

    transaction_was_successful.connect(on_success, weak=False, dispatch_uid="concurrency")
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            client = Client()
            barrier.wait()
            for _ in range(DELIVERIES_PER_THREAD):
                response = client.post(
                    "/billing/pay_pal/notify/",
                    body,
                    content_type="application/x-www-form-urlencoded",
                )
                with lock:
                    statuses.append(response.status_code)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        transaction_was_successful.disconnect(dispatch_uid="concurrency")

    deliveries = THREADS * DELIVERIES_PER_THREAD
    assert errors == []
    assert statuses == [200] * deliveries
    assert len(successes) == 1
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert PaymentEvent.objects.count() == 1
    outcomes = list(NotificationLog.objects.values_list("outcome", flat=True))
    assert len(outcomes) == deliveries  # every delivery stored
    assert outcomes.count(Outcome.APPLIED) == 1
    assert outcomes.count(Outcome.DUPLICATE) == deliveries - 1
