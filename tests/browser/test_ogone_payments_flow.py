"""A customer buys in the demo shop, pays on the Worldline (Ogone) sandbox page, comes back.

Worldline tells the shop twice, both signed with SHA-OUT: the post-sale request to the
back office's URL, then the customer's redirection with the same parameters. The order
page must show what they made of the payment; the second is always a duplicate.
"""

from typing import Any

import pytest

from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from tests.browser.test_pay_pal_flow import choose_option, decide, expect, open_log

pytestmark = pytest.mark.browser

SLUG = "ogone_payments"


def to_sandbox(page: Any, shop: str, product: str = "enamel-mug") -> str:
    """Shop -> product -> checkout (Worldline) -> Worldline's page. Returns the reference."""
    page.goto(shop + "/")
    page.locator(f"[data-product={product}] button").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.locator(f"input[name=gateway][value={SLUG}]").check()
    page.steps("checkout")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    reference = page.url.rstrip("/").split("/")[-3]
    page.steps("review")
    page.get_by_role("button", name="Pay with Worldline e-Commerce (Ogone)").click()
    page.wait_for_url(f"**/sandbox/{SLUG}/checkout/**")
    expect(page.get_by_test_id("total")).to_have_text("12.00 EUR")
    page.steps("sandbox")
    return reference


def payment(reference: str) -> Payment:
    return Payment.objects.get(integration=SLUG, reference=reference)


def outcome(kind: str) -> list[str]:
    return list(
        NotificationLog.objects.filter(integration=SLUG, kind=kind)
        .order_by("pk")
        .values_list("outcome", flat=True)
    )


def test_approve_pays_the_order(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Approve payment", "Paid")
    assert payment(reference).status == PaymentStatus.PAID
    # The post-sale request paid it; the redirection's signed feedback is the same event.
    assert outcome("notify") == [Outcome.APPLIED]
    assert outcome("feedback") == [Outcome.DUPLICATE]
    rows = open_log(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.APPLIED)


def test_decline_fails_the_order(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Decline", "Payment failed")
    assert payment(reference).status == PaymentStatus.FAILED
    expect(page.get_by_role("link", name="Try again")).to_be_visible()


def test_cancel_returns_without_notification(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Cancel and return", "Cancelled")
    assert payment(reference).status == PaymentStatus.PENDING
    assert not NotificationLog.objects.filter(kind__in=("notify", "feedback")).exists()
    expect(open_log(page)).to_have_count(0)


def test_tampered_amount_is_rejected(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "tamper")
    decide(page, "Approve payment", "Waiting for confirmation")
    assert payment(reference).status == PaymentStatus.PENDING
    for kind in ("notify", "feedback"):  # the SHA-OUT signature fails on both paths
        log = NotificationLog.objects.get(kind=kind)
        assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    rows = open_log(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.REJECTED)
    expect(rows.first).to_contain_text("claims this order")


def test_duplicated_notification_is_applied_once(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "twice")
    decide(page, "Approve payment", "Paid")
    assert payment(reference).events.count() == 1
    rows = open_log(page)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-outcome", Outcome.APPLIED)
    expect(rows.nth(1)).to_have_attribute("data-outcome", Outcome.DUPLICATE)
