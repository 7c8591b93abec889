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
from billing.registry import integration_class
from billing.sandbox.gateways import get_stand_in
from billing.testing.traits import TRAITS, GatewayTraits


class Ending(NamedTuple):
    """What the order page says, and what the payment became."""

    label: str
    status: str


@dataclass(frozen=True)
class Gateway:
    """A gateway's row in billing.testing.traits, as the demo shop's checkout shows it."""

    traits: GatewayTraits
    preselected: bool = False  # the shop's first (checked) choice

    def __getattr__(self, name: str) -> Any:
        return getattr(self.traits, name)

    @property
    def name(self) -> str:
        """As on the shop's "Pay with ..." button: the gateway's own name."""
        return get_stand_in(self.traits.slug).display_name

    @property
    def currency(self) -> str:
        """The demo's prices are in euros; a gateway that takes others is asked in its own."""
        accepted = integration_class(self.traits.slug).currencies
        return accepted[0] if accepted and "EUR" not in accepted else "EUR"

    @property
    def declined(self) -> Ending:
        if not self.traits.notifies_decline:  # only the fail URL: nothing to record
            return Ending("Cancelled", PaymentStatus.PENDING)
        if self.traits.declines:
            return Ending("Payment failed", PaymentStatus.FAILED)
        return Ending("Cancelled", PaymentStatus.CANCELLED)

    @property
    def cancel_reported(self) -> bool:
        return self.traits.notifies_cancel

    @property
    def secret(self) -> str:
        """What the gateway sends the shop that the log must never show."""
        from demo import settings as demo

        key = self.traits.sent_secret
        return str(demo.MERCHANT_SETTINGS[self.traits.slug][key]) if key else ""

    @property
    def kinds(self) -> tuple[str, ...]:
        """How the shop logs the gateway's messages: the notification, and its copy."""
        kind = self.traits.notification_kind
        return (kind, "feedback") if self.feedback else (kind,)

    def outcome(self, mode: str) -> str:
        """What the shop makes of a testing option's notification: held or rejected."""
        if mode == "tamper":
            return "rejected" if self.amount_signed else "held"
        return "rejected" if self.other_amount_rejected else "held"


# PayPal is the demo shop's first choice; every other gateway follows in table order.
GATEWAYS = tuple(Gateway(traits, preselected=slug == "pay_pal") for slug, traits in TRAITS.items())


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
    expect(page.get_by_test_id("total")).to_have_text(f"12.00 {gateway.currency}")
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


def open_log(page: Any, kind: str = "notify") -> Any:
    """The order's notification log; its rows for the gateway's notifications (``kind``:
    "fetch" for a gateway whose result billing fetches)."""
    page.get_by_role("link", name="Notification log").click()
    expect(page.get_by_role("heading", name="Notification log")).to_be_visible()
    page.steps("log")
    return page.locator(f"tr[data-kind={kind}]")


def payment(gateway: Gateway, reference: str) -> Payment:
    return Payment.objects.get(integration=gateway.slug, reference=reference)
