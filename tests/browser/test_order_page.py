"""What the demo's pages tell a person, beyond the flows: an order that is never
confirmed, the wording on the way to a gateway, and pages that fit a phone.
"""

from typing import Any

import pytest

from billing.models import NotificationLog, Outcome, PaymentStatus
from tests.browser.flows import (
    GATEWAYS,
    Gateway,
    choose_option,
    decide,
    expect,
    expect_order_page,
    gateways,
    open_log,
    payment,
    to_sandbox,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def by_slug(slug: str) -> Gateway:
    return next(gateway for gateway in GATEWAYS if gateway.slug == slug)


def test_unconfirmed_order_stops_waiting(page: Any, shop: str) -> None:
    """A notification that failed verification leaves the order waiting; after two
    minutes the page stops asking and says why, and what the customer can do."""
    gateway = by_slug("pay_pal")  # a tampered IPN: the postback answers INVALID
    page.clock.install()
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "tamper")
    decide(page, "Approve payment", "Waiting for confirmation")
    assert NotificationLog.objects.get(kind="notify").outcome == Outcome.REJECTED
    polls: list[str] = []

    def count(request: Any) -> None:
        if "/status/" in request.url:
            polls.append(request.url)

    page.on("request", count)
    page.clock.fast_forward("01:50")
    expect(page.locator("#state")).to_have_text("Waiting for confirmation")
    page.clock.fast_forward("00:15")
    expect_order_page(page, "Payment not confirmed")
    page.steps("unconfirmed")
    banner = page.locator("[data-state]")
    expect(banner).to_have_attribute("data-state", "unconfirmed")
    expect(page.locator(".spinner")).to_have_count(0)
    expect(banner).to_contain_text("PayPal Payments Standard has not confirmed this payment")
    expect(banner).to_contain_text("rejected")  # the log holds what arrived
    expect(banner).to_contain_text(reference)  # what to quote when asking the shop
    expect(page.get_by_role("link", name="Check again")).to_be_visible()
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    asked = len(polls)
    page.clock.fast_forward("10:00")
    page.wait_for_timeout(1500)
    assert len(polls) == asked, "the page still polls after giving up"
    assert payment(gateway, reference).status == PaymentStatus.PENDING
    rows = open_log(page)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.REJECTED)


def test_wording_on_the_way_to_global_payments(page: Any, shop: str) -> None:
    """Possessives of names ending in s, and "just now" for what happened a moment ago."""
    page.goto(shop + "/")
    page.locator("[data-product=enamel-mug] button").click()
    expect(page.get_by_text("You'll pay on Global Payments' page")).to_be_visible()
    expect(page.get_by_text("You'll pay on PayPal Payments Standard's page")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("s's")
    page.locator("input[name=gateway][value=global_payments]").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You'll go to Global Payments' secure page")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("s's")
    page.steps("review")
    page.goto(shop + "/")
    orders = page.locator("section.recent")
    expect(orders).to_contain_text("just now")
    expect(orders).not_to_contain_text("0 minutes")
    page.steps("products")


def expect_fits(page: Any, what: str) -> None:
    """Nothing makes the page scroll sideways (tables scroll inside their own box)."""
    wide, window = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert wide <= window, f"{what} is {wide}px wide in a {window}px window"


@gateways()
def test_nothing_overflows_on_a_phone(page: Any, shop: str, gateway: Gateway) -> None:
    page.set_viewport_size(PHONE)
    to_sandbox(page, shop, gateway)
    page.locator("details.testing summary").click()
    expect_fits(page, "the sandbox's page with its notes")
    decide(page, "Approve payment", "Paid")
    expect_fits(page, "the order page")
    open_log(page)
    for summary in page.locator("details summary").all():
        summary.click()  # the raw bodies, one field per line
    page.steps("log-open")
    expect_fits(page, "the notification log")
    page.goto(shop + "/sandbox/")
    expect_fits(page, "the sandbox's list of notifications sent")


def test_held_order_fits_a_phone(page: Any, shop: str) -> None:
    page.set_viewport_size(PHONE)
    to_sandbox(page, shop, by_slug("pay_pal"))
    choose_option(page, "amount", other_amount="6.00")
    decide(page, "Approve payment", "Held for review")
    expect_fits(page, "the held order's page")
    open_log(page)
    expect_fits(page, "the held order's notification log")
