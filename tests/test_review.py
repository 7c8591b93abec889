"""The review desk: a person resolves a held payment, once, through the ledger and signals.

Also the audit trail around it: the admin edits nothing, replays keep the first outcome,
and unverified notifications are findable by the order they claim.
"""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from billing import get_integration, pipeline, review
from billing.__main__ import main
from billing.exceptions import ReviewError
from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus
from billing.signals import transaction_was_successful, transaction_was_unsuccessful
from tests.pay_pal_data import ipn_body

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def held(settings: Any, fake_paypal: Any) -> Payment:
    """ORDER-1 asked 12.00; PayPal reported an authentic 11.00, so it is held."""
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "12.00"}).generate_form()
    body = fake_paypal.send(ipn_body(amount=Decimal("11.00")))
    Client().post("/billing/pay_pal/notify/", body, content_type=FORM)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    return payment


@pytest.fixture
def heard() -> Any:
    """What the shop's receivers hear: (signal name, reference)."""
    calls: list[tuple[str, str]] = []

    def paid(sender: Any, response: Any, **kwargs: Any) -> None:
        calls.append(("paid", response.reference))

    def unpaid(sender: Any, response: Any, **kwargs: Any) -> None:
        calls.append(("unpaid", response.reference))

    transaction_was_successful.connect(paid, weak=False)
    transaction_was_unsuccessful.connect(unpaid, weak=False)
    yield calls
    transaction_was_successful.disconnect(paid)
    transaction_was_unsuccessful.disconnect(unpaid)


def reviewer(client: Client, *, allowed: bool) -> Client:
    user = User.objects.create_user("ann", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_payment"))
    if allowed:
        user.user_permissions.add(Permission.objects.get(codename="review_payment"))
    client.force_login(user)
    return client


# -- the Python API ---------------------------------------------------------------------------


def test_accept_pays_with_the_held_transaction_once(held: Payment, heard: list[Any]) -> None:
    event = review.accept(held, by="ann", note="customer paid the rest by bank transfer")
    held.refresh_from_db()
    assert held.status == PaymentStatus.PAID and held.paid_at is not None
    assert held.transaction_id == "61E67681CH3238416"
    assert (event.actor, event.from_status, event.to_status) == ("ann", "review", "paid")
    assert event.note.startswith("customer paid")
    assert heard == [("paid", "ORDER-1")]
    with pytest.raises(ReviewError, match="not held for review"):
        review.accept(held, by="bob")
    with pytest.raises(ReviewError):
        review.refuse(held, by="bob")
    assert heard == [("paid", "ORDER-1")]


def test_refuse_fails_it_and_tells_the_shop(held: Payment, heard: list[Any]) -> None:
    review.refuse(held, by="ann", note="looks like fraud")
    held.refresh_from_db()
    assert held.status == PaymentStatus.FAILED and held.paid_at is None
    assert heard == [("unpaid", "ORDER-1")]


def test_a_note_changes_nothing_but_the_history(held: Payment, heard: list[Any]) -> None:
    review.add_note(held, by="ann", note="called the customer")
    review.add_note(held, by="ann", note="waiting for a reply")
    held.refresh_from_db()
    assert held.status == PaymentStatus.REVIEW and heard == []
    notes = held.events.filter(event_key__startswith="review:note:")
    assert [e.note for e in notes] == ["called the customer", "waiting for a reply"]


def test_a_decision_needs_a_name_and_a_held_payment(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    get_integration("pay_pal", {"invoice": "ORDER-9", "amount": "1.00"}).generate_form()
    pending = Payment.objects.get()
    with pytest.raises(ReviewError, match="not held"):
        review.accept(pending, by="ann")
    with pytest.raises(ReviewError, match="name"):
        review.accept(pending, by=" ")


def test_a_failing_receiver_leaves_the_payment_held(held: Payment) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("shop down")

    transaction_was_successful.connect(broken, weak=False)
    try:
        with pytest.raises(Exception, match="broken raised RuntimeError"):
            review.accept(held, by="ann")
    finally:
        transaction_was_successful.disconnect(broken)
    held.refresh_from_db()
    assert held.status == PaymentStatus.REVIEW
    assert not held.events.filter(event_key=review.DECISION_KEY).exists()
    review.accept(held, by="ann")  # once the shop is fixed, the decision can be taken
    assert Payment.objects.get().status == PaymentStatus.PAID


# -- the admin --------------------------------------------------------------------------------


def test_admin_is_read_only(admin_client: Client, held: Payment) -> None:
    change = f"/admin/billing/payment/{held.pk}/change/"
    page = admin_client.get(change).content.decode()
    assert 'name="_save"' not in page and "deletelink" not in page
    assert "12.00 USD" in page and "12.0000" not in page
    assert "Resolve" in page and "amount 11.00 instead of 12.00" in page
    admin_client.post(change, {"status": "paid", "amount": "1.00"})
    assert Payment.objects.get().status == PaymentStatus.REVIEW
    assert admin_client.get("/admin/billing/payment/add/").status_code == 403
    assert admin_client.post(f"/admin/billing/payment/{held.pk}/delete/").status_code == 403
    logs = admin_client.get("/admin/billing/notificationlog/").content.decode()
    assert "delete_selected" not in logs
    log = NotificationLog.objects.get()
    assert admin_client.post(f"/admin/billing/notificationlog/{log.pk}/delete/").status_code == 403


def test_a_reviewer_accepts_in_the_admin(held: Payment, heard: list[Any]) -> None:
    client = reviewer(Client(), allowed=True)
    url = f"/admin/billing/payment/{held.pk}/review/"
    page = client.get(url).content.decode()
    assert "amount 11.00 instead of 12.00" in page and "Accept as paid" in page
    client.post(url, {"decision": "accept", "note": "ok by phone"})
    client.post(url, {"decision": "accept", "note": "twice"})  # a double click
    held.refresh_from_db()
    assert held.status == PaymentStatus.PAID and heard == [("paid", "ORDER-1")]
    decision = PaymentEvent.objects.get(event_key=review.DECISION_KEY)
    assert (decision.actor, decision.note) == ("ann", "ok by phone")


def test_without_the_permission_nothing_can_be_decided(held: Payment) -> None:
    client = reviewer(Client(), allowed=False)
    url = f"/admin/billing/payment/{held.pk}/review/"
    assert "Accept as paid" not in client.get(url).content.decode()
    assert client.post(url, {"decision": "accept"}).status_code == 403
    assert Payment.objects.get().status == PaymentStatus.REVIEW


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_lists_and_resolves(held: Payment, heard: list[Any], capsys: Any) -> None:
    assert main(["review", "list"]) == 0
    out = capsys.readouterr().out
    assert "ORDER-1" in out and "amount 11.00 instead of 12.00" in out
    assert main(["review", "accept", "pay_pal", "ORDER-1", "--by", "ann", "--note", "ok"]) == 0
    assert "paid" in capsys.readouterr().out
    assert main(["review", "refuse", "pay_pal", "ORDER-1", "--by", "ann"]) == 1
    assert "not held for review" in capsys.readouterr().out
    assert heard == [("paid", "ORDER-1")]


# -- replays keep history ----------------------------------------------------------------------


def test_a_replay_keeps_the_first_outcome_and_adds_an_attempt(held: Payment) -> None:
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.HELD
    assert pipeline.process(log.pk) == Outcome.DUPLICATE
    log.refresh_from_db()
    assert log.outcome == Outcome.HELD and "11.00" in log.error
    [again] = log.history.all()
    assert (again.number, again.outcome) == (2, Outcome.DUPLICATE)


def test_replay_skips_return_rows(held: Payment, capsys: Any) -> None:
    Client().get("/billing/pay_pal/return/?ref=ORDER-1")
    visit = NotificationLog.objects.get(kind="return")
    assert main(["replay", str(visit.pk)]) == 0
    assert "return visit" in capsys.readouterr().out
    visit.refresh_from_db()
    assert visit.attempts == 0


def test_an_unverified_notification_keeps_the_order_it_claims(
    admin_client: Client, held: Payment
) -> None:
    forged = ipn_body(reference="ORDER-7", transaction_id="FORGED")  # never sent by PayPal
    Client().post("/billing/pay_pal/notify/", forged, content_type=FORM)
    log = NotificationLog.objects.get(claimed_reference="ORDER-7")
    assert log.outcome == Outcome.REJECTED and log.reference == ""
    page = admin_client.get("/admin/billing/notificationlog/?q=ORDER-7").content.decode()
    assert "ORDER-7 (unverified)" in page


def test_money_reported_after_a_failure_is_held_for_a_person(
    settings: Any, fake_paypal: Any
) -> None:
    """Failed, then an authentic Completed for another amount: a person must look at it."""
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "12.00"}).generate_form()
    denied = fake_paypal.send(ipn_body(amount=Decimal("12.00"), status="Denied"))
    Client().post("/billing/pay_pal/notify/", denied, content_type=FORM)
    assert Payment.objects.get().status == PaymentStatus.FAILED
    paid = fake_paypal.send(ipn_body(amount=Decimal("11.00"), transaction_id="T-2"))
    Client().post("/billing/pay_pal/notify/", paid, content_type=FORM)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW and "11.00" in payment.review_reason
    review.accept(payment, by="ann")
    assert Payment.objects.get().transaction_id == "T-2"
