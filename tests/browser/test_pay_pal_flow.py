"""A customer buys in the demo shop, pays on the PayPal sandbox page and comes back.

The order page must show what the notification made of the payment, for every way
PayPal (or someone in the middle) can answer.
"""

from typing import Any

import pytest

from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict

pytestmark = pytest.mark.browser


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def to_sandbox(page: Any, shop: str, product: str = "enamel-mug") -> str:
    """Shop -> product -> checkout -> PayPal's page. Returns the order reference."""
    page.goto(shop + "/")
    page.steps("products")
    page.locator(f"[data-product={product}] button").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.steps("checkout")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    reference = page.url.rstrip("/").split("/")[-3]
    page.steps("review")
    page.get_by_role("button", name="Pay with PayPal").click()
    page.wait_for_url("**/sandbox/pay_pal/checkout/**")
    expect(page.get_by_test_id("total")).to_have_text("12.00 EUR")
    page.steps("sandbox")
    return reference


def choose_option(page: Any, mode: str, **inputs: str) -> None:
    page.locator("details.testing summary").click()
    page.locator(f"input[name=send][value={mode}]").check()
    for name, value in inputs.items():
        page.locator(f"input[name={name}]").fill(value)
    page.steps("options")


def decide(page: Any, button: str, state: str) -> None:
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/orders/*/")
    expect(page.locator("#state")).to_have_text(state)
    page.steps("order")


def open_log(page: Any) -> Any:
    page.get_by_role("link", name="Notification log").click()
    expect(page.get_by_role("heading", name="Notification log")).to_be_visible()
    page.steps("log")
    return page.locator("tr[data-kind=notify]")


def payment(reference: str) -> Payment:
    return Payment.objects.get(integration="pay_pal", reference=reference)


def test_approve_pays_the_order(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Approve payment", "Paid")
    assert payment(reference).status == PaymentStatus.PAID
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
    assert payment(reference).status == PaymentStatus.PENDING  # the gateway said nothing
    assert not NotificationLog.objects.filter(kind="notify").exists()
    expect(open_log(page)).to_have_count(0)


def test_tampered_amount_is_rejected(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "tamper")
    decide(page, "Approve payment", "Waiting for confirmation")
    assert payment(reference).status == PaymentStatus.PENDING
    log = NotificationLog.objects.get(kind="notify")
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


def test_different_amount_is_held_for_review(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "amount", other_amount="6.00")
    decide(page, "Approve payment", "Held for review")
    expect(page.get_by_text("amount 6.00 instead of 12.00")).to_be_visible()
    assert payment(reference).status == PaymentStatus.REVIEW


def test_late_notification_updates_the_open_page(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "delay", delay="2")
    decide(page, "Approve payment", "Waiting for confirmation")
    expect(page.locator("#state")).to_have_text("Paid", timeout=20_000)  # polled, reloaded
    page.steps("paid-later")
    assert payment(reference).status == PaymentStatus.PAID
