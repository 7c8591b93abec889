"""A customer buys in the demo shop, pays on a gateway's sandbox page and comes back.

The order page must show what the gateway's notifications made of the payment, for
every way the gateway (or someone in the middle) can answer. Each flow runs for every
gateway in flows.GATEWAYS it applies to; the table says how each gateway differs.
"""

from typing import Any

import pytest

from billing.models import NotificationLog, Outcome, PaymentStatus, Verdict
from billing.registry import get_integration
from billing.sandbox.gateways import get_stand_in
from tests.browser.flows import (
    GATEWAYS,
    Gateway,
    cancel_and_go_back,
    choose_option,
    decide,
    expect,
    expect_hint,
    expect_order_page,
    gateways,
    keep_replies,
    open_log,
    payment,
    to_sandbox,
)
from tests.helpers import outcomes

pytestmark = pytest.mark.browser


def expect_rejected(page: Any, gateway: Gateway, reference: str) -> None:
    """Every copy of the notification failed verification: the order still waits."""
    assert payment(gateway, reference).status == PaymentStatus.PENDING
    for kind in gateway.kinds:
        log = NotificationLog.objects.get(kind=kind)
        assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    rows = open_log(page, gateway.kinds[0])
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.REJECTED)
    expect(rows.first).to_contain_text("claims this order")


def expect_held(page: Any, gateway: Gateway, reference: str, amount: str) -> None:
    """An authentic notification of another amount: held for review, never paid."""
    expect(page.get_by_text(f"amount {amount} instead of 12.00")).to_be_visible()
    assert payment(gateway, reference).status == PaymentStatus.REVIEW


@gateways()
def test_approve_pays_the_order(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    replies = keep_replies(page) if gateway.shows_reply else []
    decide(page, "Approve payment", "Paid")
    if gateway.shows_reply:  # the gateway showed the shop's answer, which sent them back
        assert f"/billing/{gateway.slug}/return/?ref={reference}" in replies[0]
    assert payment(gateway, reference).status == PaymentStatus.PAID
    if gateway.feedback:  # the redirection's signed feedback is the same event
        assert outcomes(integration=gateway.slug, kind="notify") == [Outcome.APPLIED]
        assert outcomes(integration=gateway.slug, kind="feedback") == [Outcome.DUPLICATE]
    rows = open_log(page, gateway.kinds[0])
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-outcome", Outcome.APPLIED)
    if gateway.secret:
        expect(rows.first).not_to_contain_text(gateway.secret)  # stored redacted


@gateways()
def test_decline_is_reported_to_the_shop(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    decide(page, "Decline", gateway.declined.label)
    assert payment(gateway, reference).status == gateway.declined.status
    if not gateway.notifies_decline:  # the gateway only sent the customer back
        assert not NotificationLog.objects.filter(kind__in=gateway.kinds).exists()
        expect(page.get_by_role("link", name="Try again")).to_be_visible()
        return
    log = NotificationLog.objects.get(kind=gateway.kinds[0])
    integration = get_integration(gateway.slug)
    fields = integration.parse_notification(integration.inbound(log))
    name, value = gateway.declined_with
    assert fields[name] == value and log.outcome == Outcome.APPLIED
    # Not charged, whether the gateway calls it failed or cancelled: another go.
    expect(page.get_by_role("link", name="Try again")).to_be_visible()


@gateways()
def test_try_again_after_a_decline_pays_the_order(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    decide(page, "Decline", gateway.declined.label)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.locator(f"input[name=gateway][value={gateway.slug}]").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name=f"Pay with {gateway.name}").click()
    page.wait_for_url(f"**/sandbox/{gateway.slug}/checkout/**")
    decide(page, "Approve payment", "Paid")
    assert payment(gateway, reference).status == PaymentStatus.PAID


@gateways()
def test_cancel_leaves_the_order_unpaid(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    if gateway.cancel_goes_back:
        cancel_and_go_back(page, gateway)
    else:
        decide(page, "Cancel and return", "Cancelled")  # the gateway's link to the shop
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    reported = gateway.cancel_reported
    status = PaymentStatus.CANCELLED if reported else PaymentStatus.PENDING
    assert payment(gateway, reference).status == status  # else the gateway said nothing
    assert NotificationLog.objects.filter(kind__in=gateway.kinds).count() == int(reported)
    rows = open_log(page, gateway.kinds[0])
    expect(rows).to_have_count(int(reported))
    if reported:
        expect(rows.first).to_have_attribute("data-outcome", Outcome.APPLIED)


@gateways(lambda gateway: gateway.cancel_goes_back)
def test_back_from_the_gateway_shows_the_order(page: Any, shop: str, gateway: Gateway) -> None:
    """The browser's Back from the gateway's page: the shop shows the order, not paid."""
    reference = to_sandbox(page, shop, gateway)
    page.go_back()
    page.wait_for_url(f"**/orders/{reference}/")
    expect_order_page(page, "Cancelled")
    page.steps("back")
    assert payment(gateway, reference).status == PaymentStatus.PENDING


@gateways(lambda gateway: gateway.amount_signed)
def test_tampered_amount_is_rejected(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "tamper")
    expect_hint(page, gateway, "tamper")
    decide(page, "Approve payment", "Waiting for confirmation")
    expect_rejected(page, gateway, reference)


@gateways(lambda gateway: not gateway.amount_signed)
def test_tampered_amount_is_held_for_review(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "tamper")
    expect_hint(page, gateway, "tamper")
    decide(page, "Approve payment", "Held for review")
    expect_held(page, gateway, reference, "0.01")
    log = NotificationLog.objects.get(kind=gateway.kinds[0])
    assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.HELD)
    rows = open_log(page, gateway.kinds[0])
    expect(rows.first).to_have_attribute("data-outcome", Outcome.HELD)


@gateways()
def test_duplicated_notification_is_applied_once(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "twice")
    decide(page, "Approve payment", "Paid")
    assert payment(gateway, reference).events.count() == 1
    rows = open_log(page, gateway.kinds[0])
    if gateway.notification_kind == "fetch":  # nothing is sent: billing fetched it once
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-outcome", Outcome.APPLIED)
        return
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-outcome", Outcome.APPLIED)
    expect(rows.nth(1)).to_have_attribute("data-outcome", Outcome.DUPLICATE)


@gateways(lambda gateway: not gateway.other_amount_rejected)
def test_different_amount_is_held_for_review(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "amount", other_amount="6.00")
    expect_hint(page, gateway, "amount")
    decide(page, "Approve payment", "Held for review")
    expect_held(page, gateway, reference, "6.00")


@gateways(lambda gateway: gateway.other_amount_rejected)
def test_different_amount_is_rejected_like_a_tampered_one(
    page: Any, shop: str, gateway: Gateway
) -> None:
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "amount", other_amount="6.00")
    expect_hint(page, gateway, "amount")
    decide(page, "Approve payment", "Waiting for confirmation")
    expect_rejected(page, gateway, reference)


@gateways(lambda gateway: gateway.notifies_late)
def test_late_notification_updates_the_open_page(page: Any, shop: str, gateway: Gateway) -> None:
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "delay", delay="2")
    decide(page, "Approve payment", "Waiting for confirmation")
    expect(page.locator("#state")).to_have_text("Paid", timeout=20_000)  # polled, reloaded
    page.steps("paid-later")
    assert payment(gateway, reference).status == PaymentStatus.PAID


def test_only_the_customers_browser_sees_the_order(page: Any, shop: str, browser: Any) -> None:
    """Another browser gets a 404 for the order until it opens the order's private link."""
    gateway = GATEWAYS[0]
    reference = to_sandbox(page, shop, gateway)
    decide(page, "Approve payment", "Paid")
    link = page.get_by_role("link", name="private link").get_attribute("href")
    other = browser.new_context()
    try:
        elsewhere = other.new_page()
        for path in ("", "notifications/", "status/"):
            assert elsewhere.goto(f"{shop}/orders/{reference}/{path}").status == 404
        elsewhere.goto(shop + "/")
        expect(elsewhere.get_by_text(reference)).to_have_count(0)
        elsewhere.goto(shop + link)
        assert elsewhere.url == f"{shop}/orders/{reference}/"  # the key is gone from the URL
        expect(elsewhere.locator("#state")).to_have_text("Paid")
    finally:
        other.close()


@gateways(lambda gateway: get_stand_in(gateway.slug).signs_time)
def test_a_stale_signature_is_rejected(page: Any, shop: str, gateway: Gateway) -> None:
    """Genuinely signed, ten minutes ago: past the shop's tolerance, so rejected."""
    reference = to_sandbox(page, shop, gateway)
    choose_option(page, "stale")
    expect(page.get_by_test_id("hint-stale")).to_contain_text("the shop must reject it")
    decide(page, "Approve payment", "Waiting for confirmation")
    expect_rejected(page, gateway, reference)


@gateways(lambda gateway: gateway.slug == "dummy")  # one suffices: the page's option list
def test_no_stale_option_where_the_signature_has_no_time(
    page: Any, shop: str, gateway: Gateway
) -> None:
    to_sandbox(page, shop, gateway)
    page.locator("details.testing summary").click()
    expect(page.locator("input[name=send][value=stale]")).to_have_count(0)
