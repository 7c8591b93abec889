"""Reconciliation (billing.reconcile, ``billing reconcile``, ``billing_reconcile``) against
the Stripe stand-in: the checkout is created through start/, the customer approves on
the sandbox's page, and the webhook never reaches the shop (nor does the customer, who
closed the tab). Reconciling fetches the session from the stand-in's API and pays the
payment once; an API that is down leaves it pending, says so, and exits non-zero.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing import get_integration
from billing.__main__ import main
from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus, Verdict
from billing.pipeline import process_fetched
from billing.reconcile import Reconciled, due, parse_age, reconcile
from billing.sandbox import views as sandbox_views
from billing.sandbox.delivery import Attempt
from billing.sandbox.gateways.base import Message
from billing.sandbox.models import Checkout
from billing.signals import transaction_was_successful
from tests.test_stripe import SECRET_KEY, WEBHOOK_SECRET, Sandbox, api, rendered, shop, start

__all__ = ["api", "shop"]  # the fixtures, shared with tests/test_stripe.py

LATER = timedelta(minutes=11)  # past the default age of 10 minutes


class LostWebhooks:
    """The sandbox's deliveries, lost on the way to the shop (and kept to send late)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Message]] = []

    def __call__(self, url: str, message: Message, **options: Any) -> list[Attempt]:
        self.messages.append((url, message))
        return [Attempt(url, None, "ConnectError: the webhook was lost", 0.0)]


@pytest.fixture
def lost(monkeypatch: Any) -> LostWebhooks:
    webhooks = LostWebhooks()
    monkeypatch.setattr(sandbox_views, "deliver", webhooks)
    return webhooks


def checkout(reference: str = "ORDER-1", amount: str = "10.00") -> str:
    """The shop's pay button, posted to start/: the session's id at the stand-in."""
    response = start(rendered(reference, amount))
    assert response.status_code == 303, response.content
    payment = Payment.objects.get(integration="stripe", reference=reference)
    assert payment.gateway_reference.startswith("cs_test_")
    return payment.gateway_reference


def decide(session_id: str, action: str = "approve", **options: str) -> Any:
    """The customer's click on the sandbox's hosted page; they never come back."""
    url = reverse("billing_sandbox:stripe:decide", kwargs={"token": session_id})
    return Client().post(url, {"action": action, "send": "normal", **options})


def payment(reference: str = "ORDER-1") -> Payment:
    return Payment.objects.get(integration="stripe", reference=reference)


def later() -> Any:
    return timezone.now() + LATER


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("10m", timedelta(minutes=10)),
        ("90s", timedelta(seconds=90)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("15", timedelta(minutes=15)),
        ("0s", timedelta(0)),
    ],
)
def test_ages(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["", "ten", "-5m", "5w", "1.5h", "10 minutes"])
def test_bad_ages(text: str) -> None:
    with pytest.raises(ValueError):
        parse_age(text)


@pytest.mark.django_db
class TestStripeReconciliation:
    def test_a_lost_webhook_still_ends_paid_once(self, api: Sandbox, lost: LostWebhooks) -> None:
        paid: list[Any] = []

        def receiver(**kwargs: Any) -> None:
            paid.append(kwargs)

        transaction_was_successful.connect(receiver, weak=False)
        try:
            session_id = checkout()
            decide(session_id)
            assert len(lost.messages) == 1 and NotificationLog.objects.count() == 0
            assert payment().status == PaymentStatus.PENDING
            # Within the webhook's head start, nothing is asked.
            assert reconcile() == [] and not [r for r in api.requests if r.method == "GET"]

            [result] = reconcile(now=later())
            assert (result.result, result.status) == (Outcome.APPLIED, PaymentStatus.PAID)
            paid_payment = payment()
            assert paid_payment.status == PaymentStatus.PAID
            assert paid_payment.transaction_id.startswith("pi_") and paid_payment.paid_at
            fetch = api.requests[-1]
            assert fetch.method == "GET"
            assert fetch.url.path == f"/sandbox/stripe/v1/checkout/sessions/{session_id}"
            assert fetch.headers["Authorization"] == f"Bearer {SECRET_KEY}"
            log = NotificationLog.objects.get()
            assert (log.kind, log.method, log.path) == ("fetch", "FETCH", "")
            assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.APPLIED)
            assert log.pk == result.log_id and log.payment_id == paid_payment.pk
            stored = bytes(log.body)
            assert SECRET_KEY.encode() not in stored and WEBHOOK_SECRET.encode() not in stored
            assert SECRET_KEY not in str(log.headers)

            # Again: the payment is no longer pending, so nothing is asked or applied.
            asked = len(api.requests)
            assert reconcile(now=later()) == [] and len(api.requests) == asked
            # The same answer processed again, and the lost webhook arriving late after
            # all: neither applies anything.
            integration = get_integration("stripe")
            assert process_fetched(integration, None, kind="fetch", body=stored) == "duplicate"
            url, message = lost.messages[0]
            response = Client().generic(
                "POST",
                "/billing/stripe/notify/",
                message.body,
                content_type=message.content_type,
                headers=message.headers,
            )
            assert response.status_code == 200
            late = NotificationLog.objects.filter(kind="notify").get()
            from billing.pipeline import process

            assert process(late.pk) == Outcome.STALE
            assert PaymentEvent.objects.filter(payment=paid_payment).count() == 1
            assert len(paid) == 1
        finally:
            transaction_was_successful.disconnect(receiver)

    def test_an_api_that_is_down_leaves_it_pending_and_says_so(
        self, api: Sandbox, lost: LostWebhooks, caplog: Any
    ) -> None:
        session_id = checkout()
        decide(session_id)
        api.down = [httpx.ConnectError("refused"), httpx.ConnectError("refused")]
        [result] = reconcile(now=later())
        assert result == Reconciled(
            "stripe",
            "ORDER-1",
            "unreachable",
            "pending",
            "Stripe could not be reached (ConnectError)",
        )
        assert result.trouble and payment().status == PaymentStatus.PENDING
        assert NotificationLog.objects.count() == 0  # nothing stored, nothing accepted
        assert "could not be asked" in caplog.text and SECRET_KEY not in caplog.text
        # Once the API is back, the next run pays it.
        [result] = reconcile(now=later())
        assert result.result == Outcome.APPLIED and payment().status == PaymentStatus.PAID

    @pytest.mark.parametrize("failure", [503, 401, 404, "junk"])
    def test_an_api_that_answers_nonsense_is_not_accepted(
        self, failure: Any, api: Sandbox, lost: LostWebhooks
    ) -> None:
        decide(checkout())
        api.down = [failure, failure]
        [result] = reconcile(now=later())
        assert result.result == "unreachable" and payment().status == PaymentStatus.PENDING
        assert NotificationLog.objects.count() == 0

    def test_a_retry_after_a_5xx_is_enough(self, api: Sandbox, lost: LostWebhooks) -> None:
        decide(checkout())
        api.down = [503]
        [result] = reconcile(now=later())
        assert result.result == Outcome.APPLIED

    def test_an_open_session_changes_nothing(self, api: Sandbox) -> None:
        checkout()  # the customer is still on the page, or left it
        keys = [r.headers["Idempotency-Key"] for r in api.requests]
        [result] = reconcile(now=later())
        assert (result.result, result.status) == (Outcome.IGNORED, PaymentStatus.PENDING)
        assert payment().events.count() == 0
        # The pay button still opens the same session (no new attempt was recorded).
        assert start(rendered()).status_code == 303
        assert [r.headers["Idempotency-Key"] for r in api.requests if r.method == "POST"] == [
            *keys,
            keys[0],
        ]
        assert Checkout.objects.count() == 1

    def test_a_cancelled_session_is_cancelled_once_it_expires(self, api: Sandbox) -> None:
        session_id = checkout()
        decide(session_id, "cancel")
        [result] = reconcile(now=later())
        assert result.result == Outcome.IGNORED  # Stripe keeps it open until it expires
        Checkout.objects.update(created_at=timezone.now() - timedelta(hours=25))
        [result] = reconcile(now=later())
        assert (result.result, result.status) == (Outcome.APPLIED, PaymentStatus.CANCELLED)

    def test_a_declined_delayed_payment_is_left_to_its_webhook(
        self, api: Sandbox, lost: LostWebhooks
    ) -> None:
        """The session says complete and unpaid for a delayed method still running and
        for one that failed alike: only the webhook tells them apart."""
        decide(checkout(), "decline")
        [result] = reconcile(now=later())
        assert (result.result, result.status) == (Outcome.IGNORED, PaymentStatus.PENDING)

    def test_another_amount_is_held_for_review(self, api: Sandbox, lost: LostWebhooks) -> None:
        decide(checkout(), send="amount", other_amount="1.00")
        [result] = reconcile(now=later())
        assert (result.result, result.status) == (Outcome.HELD, PaymentStatus.REVIEW)
        assert "amount 1.00 instead of 10.00" in payment().review_reason

    def test_only_pending_api_payments_with_a_session_are_due(
        self, api: Sandbox, settings: Any
    ) -> None:
        checkout("ORDER-1")
        rendered("ORDER-2")  # no session opened yet: nothing to fetch
        checkout("ORDER-3")
        Payment.objects.filter(reference="ORDER-3").update(status=PaymentStatus.PAID)
        settings.MERCHANT_SETTINGS = {
            **settings.MERCHANT_SETTINGS,
            "dummy": {"MERCHANT_ID": "M", "SECRET": "s"},
        }
        dummy = get_integration("dummy")
        dummy.add_order(reference="D-1", amount=Decimal("5.00"), currency="EUR")
        dummy.generate_form()
        Payment.objects.filter(reference="D-1").update(gateway_reference="not-an-api-checkout")
        assert [p.reference for p in due(now=later())] == ["ORDER-1"]
        assert [p.reference for p in due(now=later(), integrations=["dummy"])] == []
        assert list(due()) == []  # made just now: the webhook's head start


# -- the commands ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestCommands:
    def test_billing_reconcile(self, api: Sandbox, lost: LostWebhooks, capsys: Any) -> None:
        decide(checkout())
        code = main(["reconcile"])
        out = capsys.readouterr().out
        assert code == 0 and "no pending API checkout is due" in out
        code = main(["reconcile", "--older-than", "0s"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "ORDER-1" in out and "applied" in out and "1 asked, 1 applied" in out
        assert payment().status == PaymentStatus.PAID
        assert SECRET_KEY not in out

    def test_billing_reconcile_exit_status_when_the_api_is_down(
        self, api: Sandbox, lost: LostWebhooks, capsys: Any
    ) -> None:
        decide(checkout())
        api.down = [httpx.ConnectError("refused")] * 2
        code = main(["reconcile", "--older-than", "0m", "--integration", "stripe"])
        out = capsys.readouterr().out
        assert code == 1
        assert "unreachable" in out and "could not be reconciled" in out
        assert payment().status == PaymentStatus.PENDING

    def test_billing_reconcile_refuses_a_bad_age(self, capsys: Any) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["reconcile", "--older-than", "soon"])
        assert exited.value.code == 2
        assert "not an age" in capsys.readouterr().err

    def test_management_command(self, api: Sandbox, lost: LostWebhooks, capsys: Any) -> None:
        decide(checkout())
        api.down = [httpx.ConnectError("refused")] * 2
        with pytest.raises(CommandError) as failed:
            call_command("billing_reconcile", "--older-than", "0s")
        assert failed.value.returncode == 1 and "could not be reconciled" in str(failed.value)
        assert "unreachable" in capsys.readouterr().out
        call_command("billing_reconcile", "--older-than", "0s")
        out = capsys.readouterr().out
        assert "ORDER-1: applied (payment paid)" in out and "1 applied" in out
        assert payment().status == PaymentStatus.PAID
