"""A person resolves a held payment in the admin, and the customer's order is paid."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from billing.models import PaymentStatus
from billing.signals import transaction_was_successful
from tests.browser.flows import GATEWAYS, choose_option, decide, expect, payment, to_sandbox

pytestmark = pytest.mark.browser

REVIEWER = ("reviewer", "a-reviewer-password")


def reviewer() -> Any:
    """Staff who may see payments and resolve held ones, and nothing else."""
    username, password = REVIEWER
    user = get_user_model().objects.create_user(username, password=password, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="billing",
            codename__in=("view_payment", "view_notificationlog", "review_payment"),
        )
    )
    return user


def test_a_held_payment_accepted_in_the_admin_pays_the_order(
    page: Any, shop: str, browser: Any
) -> None:
    gateway = GATEWAYS[0]  # PayPal: another amount, authentic, is held for review
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "amount", other_amount="6.00")
    decide(page, "Approve payment", "Held for review")
    held = payment(gateway, reference)
    assert held.status == PaymentStatus.REVIEW
    reviewer()
    calls: list[dict[str, Any]] = []

    def received(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    transaction_was_successful.connect(received, weak=False, dispatch_uid="test-review")
    staff = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        admin = staff.new_page()
        admin.goto(f"{shop}/admin/")
        admin.get_by_label("Username").fill(REVIEWER[0])
        admin.get_by_label("Password").fill(REVIEWER[1])
        admin.get_by_role("button", name="Log in").click()
        admin.get_by_role("link", name="Payments").click()
        admin.get_by_role("link", name=reference).click()
        expect(admin.get_by_text("Held: amount 6.00 instead of 12.00")).to_be_visible()
        admin.get_by_role("link", name="Resolve…").click()
        expect(admin.get_by_role("heading", name=f"Review payment {reference}")).to_be_visible()
        admin.get_by_label("Note").fill("Customer paid 6.00 in cash at the counter.")
        admin.get_by_role("button", name="Accept as paid").click()
        expect(admin.get_by_text(f"{reference}: accept recorded")).to_be_visible()
        expect(admin.get_by_role("button", name="Accept as paid")).to_have_count(0)
        expect(admin.get_by_text("Customer paid 6.00 in cash")).to_be_visible()  # history
        admin.screenshot(path=str(page.steps.folder / "admin-accepted.png"), full_page=True)
    finally:
        staff.close()
        transaction_was_successful.disconnect(dispatch_uid="test-review")
    page.reload()
    expect(page.locator("#state")).to_have_text("Paid")
    expect(page.get_by_test_id("state-tag")).to_have_text("Paid")
    expect(page.get_by_text("Paid with", exact=True)).to_be_visible()
    page.steps("paid")
    held.refresh_from_db()
    assert held.status == PaymentStatus.PAID
    assert len(calls) == 1, calls
    assert calls[0]["response"].reference == reference
