"""Faults and attacks on the core: transient database errors, stranded rows, failing
signal receivers, NUL bytes, redaction, error reports, retention, the seed's imports.

Each test tries the fault or the attack and shows what the library makes of it.
"""

import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.dispatch import receiver
from django.test import Client, RequestFactory
from django.utils import timezone
from django.views.debug import ExceptionReporter

from billing import capture, get_integration, pipeline, tasks, views
from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus
from billing.protocols.base import Notification, Status
from billing.signals import payment_status_changed, transaction_was_successful
from tests.pay_pal_data import ipn_body

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def shop(settings: Any, fake_paypal: Any) -> Any:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    settings.MERCHANT_TEST_MODE = True
    get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "10.00"}).generate_form()
    return fake_paypal


def notify(body: bytes, **extra: Any) -> Any:
    return Client().post("/billing/pay_pal/notify/", body, content_type=FORM, **extra)


def payment() -> Payment:
    return Payment.objects.get(reference="ORDER-1")


@pytest.fixture
def signals() -> Any:
    """Every success signal, as a shop's receiver would see it."""
    seen: list[Notification] = []

    def on_paid(sender: Any, response: Notification, **kwargs: Any) -> None:
        seen.append(response)

    transaction_was_successful.connect(on_paid, weak=False)
    yield seen
    transaction_was_successful.disconnect(on_paid)


# -- 11. a transient database error is retried, never a final error -----------------------


def test_a_dropped_connection_while_applying_is_retried(
    shop: Any, signals: list[Any], monkeypatch: Any
) -> None:
    real_create = PaymentEvent.objects.create
    faults = ["server closed the connection unexpectedly"]

    def dropped(**kwargs: Any) -> Any:
        if faults:
            raise OperationalError(faults.pop())
        return real_create(**kwargs)

    monkeypatch.setattr(PaymentEvent.objects, "create", dropped)
    assert notify(shop.send(ipn_body())).status_code == 200
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.RETRY, log.error
    assert "server closed the connection" in log.error
    assert log.next_attempt_at is not None and log.lease_expires_at is None
    assert payment().status == PaymentStatus.PENDING and signals == []
    assert pipeline.process(log.pk) == Outcome.APPLIED
    assert payment().status == PaymentStatus.PAID and len(signals) == 1


def test_sqlite_database_is_locked_is_retried(shop: Any, monkeypatch: Any) -> None:
    def locked(**kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(PaymentEvent.objects, "create", locked)
    notify(shop.send(ipn_body()))
    assert NotificationLog.objects.get().outcome == Outcome.RETRY


def test_a_request_that_cannot_be_stored_gets_a_5xx(shop: Any, monkeypatch: Any) -> None:
    def down(**kwargs: Any) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(capture.NotificationLog.objects, "create", down)
    response = notify(shop.send(ipn_body()))
    # The gateway was not told we accepted it, so it sends the notification again.
    assert response.status_code == 503 and response["Retry-After"]
    assert payment().status == PaymentStatus.PENDING


# -- 12. nothing stays stranded: leases and automatic recovery ------------------------------


def _age(log: NotificationLog, seconds: float) -> None:
    past = timezone.now() - timedelta(seconds=seconds)
    NotificationLog.objects.filter(pk=log.pk).update(received_at=past)


def test_a_row_left_by_a_killed_worker_is_recovered_by_the_next_request(
    shop: Any, settings: Any, monkeypatch: Any
) -> None:
    """A worker claimed the row and died (its lease ran out): the next notify sweeps it."""
    settings.BILLING_LEASE_SECONDS = 60
    body = shop.send(ipn_body())
    monkeypatch.setattr(views, "enqueue", lambda *a, **k: None)  # the queue lost it
    notify(body)
    stranded = NotificationLog.objects.get()
    assert stranded.outcome == Outcome.RECEIVED
    expired = timezone.now() - timedelta(seconds=1)
    NotificationLog.objects.filter(pk=stranded.pk).update(lease_expires_at=expired, attempts=1)
    _age(stranded, 120)
    monkeypatch.undo()
    monkeypatch.setattr(tasks, "_last_tick", float("-inf"))
    get_integration("pay_pal", {"invoice": "ORDER-2", "amount": "5.00"}).generate_form()
    notify(shop.send(ipn_body(reference="ORDER-2", amount=Decimal("5.00"), transaction_id="T2")))
    stranded.refresh_from_db()
    assert stranded.outcome == Outcome.APPLIED and stranded.attempts == 2
    assert payment().status == PaymentStatus.PAID


def test_a_live_lease_is_left_alone(shop: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "enqueue", lambda *a, **k: None)
    notify(shop.send(ipn_body()))
    log = NotificationLog.objects.get()
    later = timezone.now() + timedelta(seconds=60)
    NotificationLog.objects.filter(pk=log.pk).update(lease_expires_at=later)
    _age(log, 3600)
    assert pipeline.process(log.pk) == pipeline.BUSY
    assert tasks.sweep(10) == 0
    assert NotificationLog.objects.get().outcome == Outcome.RECEIVED


def test_a_due_retry_runs_without_a_deferring_backend(shop: Any, monkeypatch: Any) -> None:
    """The immediate backend cannot defer; the sweep runs the retry once it is due."""
    shop.unreachable = True
    notify(shop.send(ipn_body()))
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.RETRY
    shop.unreachable = False
    assert tasks.sweep(10) == 0  # not due yet
    past = timezone.now() - timedelta(seconds=1)
    NotificationLog.objects.filter(pk=log.pk).update(next_attempt_at=past)
    assert tasks.sweep(10) == 1
    assert NotificationLog.objects.get().outcome == Outcome.APPLIED


def test_a_deployment_keeps_one_recovery_sweep_scheduled(settings: Any) -> None:
    from billing import recovery
    from tests.test_tasks import DUMMY, IMMEDIATE

    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}, "queue": {"BACKEND": DUMMY}}
    settings.BILLING_TASK_BACKEND = "queue"
    backend = tasks.task_backends["queue"]
    try:
        for _ in range(5):  # five processes ticking at once
            tasks.schedule_recovery()
        assert [r.task.name for r in backend.results] == [tasks.recover.name]
        # The sweep task re-schedules itself only while something is unfinished.
        tasks.recover.call()
        assert len(backend.results) == 1
        assert recovery.claim_next_run(timezone.now(), timezone.now()) is True
    finally:
        backend.clear()


def test_stale_command_recovers_what_is_stranded(shop: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "enqueue", lambda *a, **k: None)
    notify(shop.send(ipn_body()))
    _age(NotificationLog.objects.get(), 3600)
    call_command("billing_process", "--stale")
    assert NotificationLog.objects.get().outcome == Outcome.APPLIED


# -- 13. a failing receiver never leaves the payment and the shop disagreeing ---------------


def test_a_failing_receiver_rolls_back_and_is_retried_then_sent_once(shop: Any) -> None:
    calls: list[str] = []
    broken = [True]

    @receiver(payment_status_changed, weak=False)
    def shop_writes(sender: Any, payment: Payment, **kwargs: Any) -> None:
        # A shop's own write, which must commit with the payment's state or not at all.
        Payment.objects.filter(pk=payment.pk).update(review_reason="shop saw it")

    @receiver(transaction_was_successful, weak=False)
    def mark_paid(sender: Any, response: Notification, **kwargs: Any) -> None:
        calls.append(response.reference)
        if broken:
            raise RuntimeError("the shop's database hiccupped")

    try:
        notify(shop.send(ipn_body()))
        log = NotificationLog.objects.get()
        assert log.outcome == Outcome.RETRY
        assert "mark_paid raised RuntimeError" in log.error
        # Nothing of the failed attempt stayed: no ledger event, no state, no shop write.
        assert payment().status == PaymentStatus.PENDING
        assert payment().review_reason == ""
        assert not PaymentEvent.objects.exists()
        broken.clear()
        assert pipeline.process(log.pk) == Outcome.APPLIED
        assert payment().status == PaymentStatus.PAID
        assert payment().review_reason == "shop saw it"
        assert pipeline.process(log.pk) == Outcome.DUPLICATE  # a replay sends nothing
        assert calls == ["ORDER-1", "ORDER-1"]  # one failed call, then exactly one
        log.refresh_from_db()
        assert log.outcome == Outcome.APPLIED and PaymentEvent.objects.count() == 1
    finally:
        payment_status_changed.disconnect(shop_writes)
        transaction_was_successful.disconnect(mark_paid)


def test_receivers_run_in_a_plain_test_without_on_commit_tricks(
    shop: Any, signals: list[Any]
) -> None:
    """A shop's TestCase + client.post sees its receiver run (no captureOnCommitCallbacks)."""
    notify(shop.send(ipn_body()))
    assert [n.reference for n in signals] == ["ORDER-1"]


# -- 14. NUL bytes and scoped addresses are stored, never a 500 -------------------------------


def test_nul_in_headers_and_query_is_stored_escaped(shop: Any) -> None:
    response = Client().post(
        "/billing/pay_pal/notify/?a=%00b",
        shop.send(ipn_body()),
        content_type=FORM,
        HTTP_X_ODD="x\x00y",
        QUERY_STRING="a=\x00b",
    )
    assert response.status_code == 200
    log = NotificationLog.objects.get()
    assert log.headers["X-Odd"] == "x\\x00y"
    assert log.query_string == "a=%00b"
    assert "\x00" not in repr(log.headers) + log.query_string + log.path


def test_scoped_ipv6_forwarded_for_is_stored_without_its_zone(settings: Any) -> None:
    settings.BILLING_TRUSTED_PROXIES = ["10.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="fe80::1%eth0")
    assert capture.client_address(request) == "fe80::1"


def test_a_reference_with_nul_is_rejected_with_a_reason(shop: Any) -> None:
    notify(shop.send(ipn_body(reference="ORDER-1\x00")))
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.REJECTED and "NUL" in log.error
    assert payment().status == PaymentStatus.PENDING


# -- 4. redaction reaches truncated bodies and query strings ----------------------------------


def _hide_password(data: bytes) -> bytes:
    return data.replace(b"hunter2", b"[gone]")


def test_truncated_body_and_query_string_are_redacted(settings: Any) -> None:
    settings.BILLING_MAX_NOTIFICATION_BYTES = 64
    body = b"pw=hunter2&" + b"x" * 100
    request = RequestFactory().post("/?pw=hunter2", body, content_type=FORM)
    log = capture.store(request, "pay_pal", "notify", redact=_hide_password)
    assert log.truncated
    assert b"hunter2" not in bytes(log.body) and "hunter2" not in log.query_string


# -- 10. header redaction ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["X-Hub-Signature", "X-Webhook-Sig", "X-Callback-Pw"])
def test_signature_and_password_headers_are_redacted(name: str) -> None:
    meta = "HTTP_" + name.upper().replace("-", "_")
    request = RequestFactory().get("/", **{meta: "s3cr3t"})
    assert capture.redact_headers(request)[name] == capture.REDACTED
    # An integration that verifies by that header keeps it as received.
    assert capture.redact_headers(request, keep=[name])[name] == "s3cr3t"


# -- 10. Canceled_Reversal only ever follows a reversal ----------------------------------------


def _reinstated(reference: str = "ORDER-1") -> Notification:
    return Notification(
        integration="pay_pal",
        reference=reference,
        transaction_id="61E67681CH3238416",
        amount=Decimal("10.00"),
        currency="USD",
        status=Status.REINSTATED,
        gateway_status="Canceled_Reversal",
        test=True,
        raw={"receiver_email": "shop@example.com"},
        receiver="shop@example.com",
    )


def test_a_reinstatement_never_pays_a_pending_payment(shop: Any, signals: list[Any]) -> None:
    log = NotificationLog.objects.create(integration="pay_pal", method="POST", path="/", body=b"")
    integration = get_integration("pay_pal")
    assert pipeline.apply(integration, _reinstated(), log)[0] == Outcome.STALE
    assert payment().status == PaymentStatus.PENDING and signals == []
    Payment.objects.filter(pk=payment().pk).update(status=PaymentStatus.REVERSED)
    assert pipeline.apply(integration, _reinstated(), log)[0] == Outcome.APPLIED
    assert payment().status == PaymentStatus.PAID


# -- 10. retention --------------------------------------------------------------------------


def test_prune_removes_old_payer_data_but_never_an_unsettled_payments(shop: Any) -> None:
    notify(shop.send(ipn_body()))  # paid: settled
    get_integration("pay_pal", {"invoice": "ORDER-2", "amount": "5.00"}).generate_form()
    shop.unreachable = True
    notify(shop.send(ipn_body(reference="ORDER-2", amount=Decimal("5.00"), transaction_id="T2")))
    Client().get("/billing/pay_pal/return/?ref=ORDER-1")
    for log in NotificationLog.objects.all():
        _age(log, 40 * 86400)
    call_command("billing_prune", "--days", "30")
    settled = NotificationLog.objects.get(reference="ORDER-1", kind="notify")
    assert bytes(settled.body) == b"" and settled.headers == {} and settled.pruned_at
    assert settled.outcome == Outcome.APPLIED  # the outcome stays
    assert not NotificationLog.objects.filter(kind="return").exists()
    waiting = NotificationLog.objects.get(kind="notify", outcome=Outcome.RETRY)
    assert b"ORDER-2" in bytes(waiting.body) and waiting.pruned_at is None
    # A pruned row is never re-processed into a different outcome.
    assert pipeline.process(settled.pk) == Outcome.APPLIED


# -- 3. error reports hide every integration's secrets ------------------------------------------


def test_error_reports_mask_secrets_whatever_the_key_is_called(settings: Any) -> None:
    settings.DEBUG = True
    settings.MERCHANT_SETTINGS = {
        "ogone_payments": {"PSPID": "shop", "SHA_IN": "in-passphrase-1", "SHA_OUT": "out-pass-2"}
    }
    request = RequestFactory().post("/", {"field": "echo out-pass-2 back"})
    passphrase = settings.MERCHANT_SETTINGS["ogone_payments"]["SHA_IN"]  # a local variable
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert passphrase and "boom" in report
    assert "in-passphrase-1" not in report and "out-pass-2" not in report
    assert "SHA_IN" in report  # the key is shown, its value masked


# -- 17. the seed's import paths --------------------------------------------------------------


def test_seed_import_paths() -> None:
    from billing import IntegrationModuleNotFound as a
    from billing import IntegrationNotConfigured as b
    from billing.integration import IntegrationModuleNotFound, IntegrationNotConfigured

    assert (a, b) == (IntegrationModuleNotFound, IntegrationNotConfigured)


def test_the_admin_says_when_notifications_are_overdue(
    admin_client: Client, shop: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(views, "enqueue", lambda *a, **k: None)
    notify(shop.send(ipn_body()))
    page = admin_client.get("/admin/billing/notificationlog/").content.decode()
    assert "overdue" not in page  # queued a moment ago: not overdue yet
    _age(NotificationLog.objects.get(), 3600)
    page = admin_client.get("/admin/billing/notificationlog/").content.decode()
    assert "1 notification(s) are overdue" in page and "billing_process --stale" in page


def test_error_reports_mask_nested_secrets(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com", "EWP": {"PRIVATE_KEY": "-----pem-x"}}
    }
    key = settings.MERCHANT_SETTINGS["pay_pal"]["EWP"]["PRIVATE_KEY"]  # a local variable
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = ExceptionReporter(None, *sys.exc_info()).get_traceback_text()
    assert key and "-----pem-x" not in report


def test_recovery_backs_off_on_a_row_that_may_wait_in_a_long_queue(
    shop: Any, settings: Any, monkeypatch: Any
) -> None:
    """A queue cannot be asked whether it still holds a task: a row is queued again after
    a lease, then after twice as long each time, so a long queue is not flooded."""
    from tests.test_tasks import DUMMY, IMMEDIATE

    monkeypatch.setattr(views, "enqueue", lambda *a, **k: None)
    notify(shop.send(ipn_body()))
    log = NotificationLog.objects.get()
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}, "queue": {"BACKEND": DUMMY}}
    settings.BILLING_TASK_BACKEND = "queue"
    settings.BILLING_LEASE_SECONDS = 60
    _age(log, 61)
    queued: list[int] = []
    monkeypatch.setattr(tasks, "enqueue", lambda log_id, **k: queued.append(log_id))

    def requeued(seconds_ago: float) -> None:
        past = timezone.now() - timedelta(seconds=seconds_ago)
        NotificationLog.objects.filter(pk=log.pk).update(requeued_at=past)

    assert tasks.sweep(10) == 1 and tasks.sweep(10) == 0
    requeued(61)  # a lease ago: the second time waits twice as long
    assert tasks.sweep(10) == 0
    requeued(121)
    assert tasks.sweep(10) == 1
    requeued(121)  # the third waits four leases
    assert tasks.sweep(10) == 0
    assert queued == [log.pk, log.pk]


def test_a_row_whose_worker_died_is_queued_again_at_once(shop: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "enqueue", lambda *a, **k: None)
    notify(shop.send(ipn_body()))
    log = NotificationLog.objects.get()
    just_now = timezone.now() - timedelta(seconds=1)
    NotificationLog.objects.filter(pk=log.pk).update(
        lease_expires_at=just_now, requeued_at=just_now, requeues=5
    )
    queued: list[int] = []
    monkeypatch.setattr(tasks, "enqueue", lambda log_id, **k: queued.append(log_id))
    assert tasks.sweep(10) == 1 and queued == [log.pk]


def test_a_queued_copy_of_a_decided_notification_changes_nothing(shop: Any) -> None:
    notify(shop.send(ipn_body()))
    log = NotificationLog.objects.get()
    assert (log.outcome, log.attempts) == (Outcome.APPLIED, 1)
    assert tasks.process_notification.call(log.pk) == Outcome.APPLIED
    log.refresh_from_db()
    assert log.attempts == 1 and not log.history.exists()


# -- 9. the return page shows a payment only behind the link billing signed -----------------


def test_a_typed_reference_shows_nothing_of_the_payment(shop: Any) -> None:
    from tests.helpers import signed_ref

    notify(shop.send(ipn_body()))  # ORDER-1 is paid
    typed = Client().get("/billing/pay_pal/return/?ref=ORDER-1").content.decode()
    forged = Client().get("/billing/pay_pal/return/?ref=ORDER-1&sig=x").content.decode()
    other = signed_ref("world_pay")  # signed for another integration
    crossed = Client().get(f"/billing/pay_pal/return/?{other}").content.decode()
    for page in (typed, forged, crossed):
        assert "ORDER-1" not in page and "Payment received" not in page
    signed = Client().get(f"/billing/pay_pal/return/?{signed_ref('pay_pal')}").content.decode()
    assert "Order ORDER-1 is paid" in signed


def test_a_redirect_url_with_other_braces_is_no_500(shop: Any, settings: Any) -> None:
    from tests.helpers import signed_ref

    settings.MERCHANT_SETTINGS["pay_pal"]["RETURN_REDIRECT_URL"] = "/o/{reference}/?x={y}"
    response = Client().get(f"/billing/pay_pal/return/?{signed_ref('pay_pal')}")
    assert response.status_code == 302  # Django percent-encodes the braces it keeps
    assert response["Location"] == "/o/ORDER-1/?x=%7By%7D"
