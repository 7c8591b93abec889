"""A customer buys in the demo shop, pays on the Global Payments HPP sandbox, comes back.

The HPP posts its response to the shop and shows the customer the shop's answer at its
own URL: a small page that sends them on to the order page. A customer who leaves the
HPP is not reported (the HPP posts a response only for a transaction it attempted), and
its response hash does not cover AMOUNT: a changed amount fails against the amount the
hashed ORDER_ID carries, so the shop rejects it.
"""

from typing import Any

import pytest

from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from tests.browser.test_pay_pal_flow import choose_option, decide, expect, open_log

pytestmark = pytest.mark.browser

SLUG = "global_payments"


def to_sandbox(page: Any, shop: str, product: str = "enamel-mug") -> str:
    """Shop -> product -> checkout (Global Payments) -> the HPP. Returns the reference."""
    page.goto(shop + "/")
    page.locator(f"[data-product={product}] button").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.locator(f"input[name=gateway][value={SLUG}]").check()
    page.steps("checkout")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    reference = page.url.rstrip("/").split("/")[-3]
    page.steps("review")
    page.get_by_role("button", name="Pay with Global Payments").click()
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


def test_decline_fails_the_order(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    decide(page, "Decline", "Payment failed")
    assert payment(reference).status == PaymentStatus.FAILED
    expect(page.get_by_role("link", name="Try again")).to_be_visible()


def test_leaving_the_hpp_tells_the_shop_nothing(page: Any, shop: str) -> None:
    reference = to_sandbox(page, shop)
    page.get_by_role("button", name="Cancel and return").click()
    expect(page.get_by_role("heading", name="Checkout cancelled")).to_be_visible()
    page.steps("left")
    page.go_back()  # the HPP's page (now decided) ...
    page.go_back()  # ... and the shop's page before it
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    page.steps("back")
    assert payment(reference).status == PaymentStatus.PENDING
    assert not NotificationLog.objects.filter(kind="notify").exists()


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
