"""The demo shop's checkout through each gateway's sandbox page: what each gateway does
differently, one row per gateway, and the customer's steps every flow shares.

``GATEWAYS`` is the table the flows in test_flows.py run over; ``gateways(where)``
parametrizes a test with the rows it applies to.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest

from billing.models import Payment, PaymentStatus


class Ending(NamedTuple):
    """What the order page says, and what the payment became."""

    label: str
    status: str


@dataclass(frozen=True)
class Gateway:
    slug: str
    name: str  # as on the shop's "Pay with ..." button
    declined_with: bytes  # what the decline notification says, in the gateway's words
    preselected: bool = False  # the shop's first (checked) choice
    # The gateway shows the customer the shop's answer at its own URL (a relay response).
    shows_reply: bool = False
    # The customer's redirection carries a signed copy of the notification (Worldline).
    feedback: bool = False
    declined: Ending = Ending("Payment failed", PaymentStatus.FAILED)
    cancel_reported: bool = False  # the gateway notifies the shop of a cancel
    # The gateway knows no cancel URL: its Cancel ends on its own page, whose link goes
    # back the way the customer came (the shop's pay page, which then shows the order).
    cancel_goes_back: bool = False
    amount_signed: bool = True  # else a tampered amount is authentic: held, not rejected
    # An authentic different amount fails verification like a tampered one.
    other_amount_rejected: bool = False
    secret: str = ""  # one the gateway sends the shop, which the log must never show
    # With "Send it late", the customer is back before the notification.
    notifies_late: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        """How the shop logs the gateway's messages: the notification, and its copy."""
        return ("notify", "feedback") if self.feedback else ("notify",)

    def outcome(self, mode: str) -> str:
        """What the shop makes of a testing option's notification: held or rejected."""
        if mode == "tamper":
            return "rejected" if self.amount_signed else "held"
        return "rejected" if self.other_amount_rejected else "held"


GATEWAYS = (
    Gateway(
        "pay_pal",
        "PayPal",
        declined_with=b"payment_status=Denied",
        preselected=True,
        notifies_late=True,
    ),
    # Worldpay reports authorised (Y) and cancelled (C) payments only: Decline is a
    # refused card after which the shopper cancels. Its callback is not signed (the
    # password is its only authentication), so a tampered amount arrives authentic.
    Gateway(
        "world_pay",
        "Worldpay",
        declined_with=b"transStatus=C",
        shows_reply=True,
        declined=Ending("Cancelled", PaymentStatus.CANCELLED),
        cancel_reported=True,
        amount_signed=False,
        secret="demo-callback-password",
    ),
    # The HPP reports only a transaction it attempted, and its response hash does not
    # cover AMOUNT: a changed amount fails against the amount the hashed ORDER_ID carries.
    Gateway(
        "global_payments",
        "Global Payments",
        declined_with=b"RESULT=101",
        shows_reply=True,
        cancel_goes_back=True,
        other_amount_rejected=True,
    ),
    # Worldline tells the shop twice, both signed with SHA-OUT: the post-sale request,
    # then the customer's redirection with the same parameters (always a duplicate).
    Gateway(
        "ogone_payments",
        "Worldline e-Commerce (Ogone)",
        declined_with=b"STATUS=2",
        feedback=True,
    ),
    # Authorize.Net posts the relay response and shows the customer the shop's answer.
    Gateway(
        "authorize_net_dpm",
        "Authorize.Net",
        declined_with=b"x_response_code=2",
        shows_reply=True,
    ),
    # The reference gateway contributors copy: a signed form, a signed notification.
    Gateway("dummy", "Dummy gateway", declined_with=b"status=failed"),
)


def gateways(where: Callable[[Gateway], bool] = lambda gateway: True) -> Any:
    """Parametrize a test with the gateways ``where`` picks, named by slug."""
    chosen = [gateway for gateway in GATEWAYS if where(gateway)]
    return pytest.mark.parametrize("gateway", chosen, ids=[gateway.slug for gateway in chosen])


# -- the customer's steps ---------------------------------------------------------------------


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def to_sandbox(page: Any, shop: str, gateway: Gateway, product: str = "enamel-mug") -> str:
    """Shop -> product -> checkout -> the gateway's page. Returns the order reference."""
    page.goto(shop + "/")
    page.steps("products")
    page.locator(f"[data-product={product}] button").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    choice = page.locator(f"input[name=gateway][value={gateway.slug}]")
    if gateway.preselected:
        expect(choice).to_be_checked()
    choice.check()
    page.steps("checkout")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    reference: str = page.url.rstrip("/").split("/")[-3]
    page.steps("review")
    page.get_by_role("button", name=f"Pay with {gateway.name}").click()
    page.wait_for_url(f"**/sandbox/{gateway.slug}/checkout/**")
    expect(page.get_by_test_id("total")).to_have_text("12.00 EUR")
    page.steps("sandbox")
    return reference


# What the sandbox page's hint beside a testing option says the shop does.
SAYS = {"held": "the shop must hold the payment for review", "rejected": "the shop must reject it"}


def choose_option(page: Any, mode: str, **inputs: str) -> None:
    page.locator("details.testing summary").click()
    page.locator(f"input[name=send][value={mode}]").check()
    for name, value in inputs.items():
        page.locator(f"input[name={name}]").fill(value)
    page.steps("options")


def expect_hint(page: Any, gateway: Gateway, mode: str) -> None:
    """The hint beside a testing option says what the shop will do with it."""
    hint = page.get_by_test_id(f"hint-{mode}")
    outcome = gateway.outcome(mode)
    expect(hint).to_be_visible()
    expect(hint).to_contain_text(SAYS[outcome])
    other = next(said for said in SAYS if said != outcome)
    expect(hint).not_to_contain_text(SAYS[other])


def expect_order_page(page: Any, state: str) -> None:
    """The order page agrees with itself: the state tag says what the banner says, and
    the gateway is "Paid with" only once the order is paid."""
    expect(page.locator("#state")).to_have_text(state)
    expect(page.get_by_test_id("state-tag")).to_have_text(state)
    paid = state == "Paid"
    expect(page.get_by_text("Paid with", exact=True)).to_have_count(int(paid))
    expect(page.get_by_text("Chosen payment method", exact=True)).to_have_count(int(not paid))


def decide(page: Any, button: str, state: str) -> None:
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/orders/*/")
    expect_order_page(page, state)
    page.steps("order")


def cancel_and_go_back(page: Any, gateway: Gateway) -> None:
    """Cancel on a page that knows no cancel URL, then its link back to the shop."""
    page.get_by_role("button", name="Cancel and return").click()
    expect(page.get_by_role("heading", name="Checkout cancelled")).to_be_visible()
    expect(page.get_by_text("was cancelled just now")).to_be_visible()
    page.steps("cancelled")
    page.get_by_role("link", name="Return to").click()
    page.wait_for_url("**/orders/*/")
    expect_order_page(page, "Cancelled")
    page.steps("order")


def keep_replies(page: Any) -> list[str]:
    """What the gateway shows after the customer's decision (the shop's answer)."""
    shown: list[str] = []

    def keep(route: Any) -> None:
        response = route.fetch()
        shown.append(response.text())
        route.fulfill(response=response)

    page.route("**/decide/", keep)
    return shown


def open_log(page: Any) -> Any:
    """The order's notification log; its rows for the gateway's notifications."""
    page.get_by_role("link", name="Notification log").click()
    expect(page.get_by_role("heading", name="Notification log")).to_be_visible()
    page.steps("log")
    return page.locator("tr[data-kind=notify]")


def payment(gateway: Gateway, reference: str) -> Payment:
    return Payment.objects.get(integration=gateway.slug, reference=reference)
