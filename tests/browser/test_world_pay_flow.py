"""A customer buys in the demo shop, pays on the Worldpay sandbox page and comes back.

Worldpay posts the Payment Response to the shop and shows the shopper the shop's answer
at its own URL: a small page that sends them on to the order page. Worldpay reports only
authorised (Y) and cancelled (C) payments: a refused card is not reported, so Decline is
a refused card after which the shopper gives up and cancels. Its callback is not signed
(the password is its only authentication), so a tampered amount arrives authentic: what
the library guarantees is that it is held for review, never paid.
"""

from typing import Any

import pytest

from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from tests.browser.test_pay_pal_flow import choose_option, decide, expect, open_log

pytestmark = pytest.mark.browser

SLUG = "world_pay"


def to_sandbox(page: Any, shop: str, product: str = "enamel-mug") -> str:
    """Shop -> product -> checkout (Worldpay) -> its payment page. Returns the reference."""
    page.goto(shop + "/")
    page.locator(f"[data-product={product}] button").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.locator(f"input[name=gateway][value={SLUG}]").check()
    page.steps("checkout")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    reference = page.url.rstrip("/").split("/")[-3]
    page.steps("review")
    page.get_by_role("button", name="Pay with Worldpay").click()
    page.wait_for_url(f"**/sandbox/{SLUG}/checkout/**")
    expect(page.get_by_test_id("total")).to_have_text("12.00 EUR")
    page.steps("sandbox")
    return reference


def payment(reference: str) -> Payment:
    return Payment.objects.get(integration=SLUG, reference=reference)


def test_approve_pays_the_order(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Approve payment", "Paid")
    assert payment(reference).status == PaymentStatus.PAID
    rows = open_log(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.APPLIED)
    expect(rows.first).not_to_contain_text("demo-callback-password")  # stored redacted


def test_decline_is_reported_as_the_shoppers_cancellation(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Decline", "Cancelled")
    assert payment(reference).status == PaymentStatus.CANCELLED
    log = NotificationLog.objects.get(kind="notify")
    assert b"transStatus=C" in bytes(log.body) and log.outcome == Outcome.APPLIED


def test_cancel_is_reported_to_the_shop(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Cancel and return", "Cancelled")
    assert payment(reference).status == PaymentStatus.CANCELLED
    rows = open_log(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.APPLIED)


def test_tampered_amount_is_held_for_review(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "tamper")
    decide(page, "Approve payment", "Held for review")
    expect(page.get_by_text("amount 0.01 instead of 12.00")).to_be_visible()
    assert payment(reference).status == PaymentStatus.REVIEW
    log = NotificationLog.objects.get(kind="notify")
    assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.HELD)
    rows = open_log(page)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.HELD)


def test_duplicated_notification_is_applied_once(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    choose_option(page, "twice")
    decide(page, "Approve payment", "Paid")
    assert payment(reference).events.count() == 1
    rows = open_log(page)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-outcome", Outcome.APPLIED)
    expect(rows.nth(1)).to_have_attribute("data-outcome", Outcome.DUPLICATE)
