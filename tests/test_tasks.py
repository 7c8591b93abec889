"""Processing through the Tasks framework: off the request path with a real backend."""

from typing import Any

import pytest
from django.utils import timezone

from billing.models import NotificationLog, Outcome, Payment, PaymentStatus
from billing.tasks import process_notification, task_backends
from tests.pay_pal_data import ipn_body, pay_pal_order, post_ipn

try:
    import django.tasks  # noqa: F401

    DUMMY = "django.tasks.backends.dummy.DummyBackend"
    IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"
except ImportError:
    DUMMY = "django_tasks.backends.dummy.DummyBackend"
    IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(settings: Any) -> Any:
    """A backend that queues without running, like a worker-based one would."""
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}, "queue": {"BACKEND": DUMMY}}
    settings.BILLING_TASK_BACKEND = "queue"
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    backend = task_backends["queue"]
    yield backend
    backend.clear()


def test_notify_only_stores_and_queues_with_a_real_backend(queued: Any, fake_paypal: Any) -> None:
    pay_pal_order()
    body = fake_paypal.send(ipn_body())
    response = post_ipn(body)
    assert response.status_code == 200
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.RECEIVED and fake_paypal.postbacks == []
    [queued_result] = queued.results
    assert queued_result.task.name == process_notification.name
    assert queued_result.args == [log.pk]
    # The worker's turn:
    process_notification.call(*queued_result.args)
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_unknown_verification_is_requeued_for_later(queued: Any, fake_paypal: Any) -> None:
    pay_pal_order()
    body = fake_paypal.send(ipn_body())
    fake_paypal.unreachable = True
    post_ipn(body)
    log = NotificationLog.objects.get()
    assert process_notification.call(log.pk) == Outcome.RETRY
    retry = queued.results[-1]
    assert retry.args == [log.pk]
    run_after = retry.task.run_after
    assert run_after is not None and run_after > timezone.now()
    log.refresh_from_db()
    assert log.next_attempt_at == run_after
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_gives_up_after_max_attempts(queued: Any, fake_paypal: Any, settings: Any) -> None:
    settings.BILLING_MAX_VERIFY_ATTEMPTS = 2
    pay_pal_order()
    fake_paypal.unreachable = True
    post_ipn(fake_paypal.send(ipn_body()))
    log = NotificationLog.objects.get()
    assert process_notification.call(log.pk) == Outcome.RETRY
    assert process_notification.call(log.pk) == Outcome.ERROR
    log.refresh_from_db()
    assert "gave up after 2 attempts" in log.error
    assert Payment.objects.get().status == PaymentStatus.PENDING
