"""The end-to-end flows every gateway's stand-in must run with the shop's integration
behind a real server, as a mixin for pytest test classes (``StandInFlows``), and a
customer who clicks through the sandbox's pages without a browser (``Customer``).

A test module defines a ``sandbox`` fixture: the shop with the gateway's account, run as
the sandbox must be (DEBUG, test mode, ``BILLING_SANDBOX``). The class names the slug,
where the hosted page is, what it shows, and how the tamper option leaves the amount;
how the gateway behaves comes from its row in ``billing.testing.traits``. For a checkout
created by API (an ``ApiCheckoutIntegration``), the hosted page is opened by the shop's own
start/, whose call to the gateway's API ``routed_api`` answers in process.
"""

import html
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from importlib import import_module
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from .. import get_integration, http
from ..api_checkout import ApiCheckoutIntegration
from ..models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from ..sandbox.gateways import get_stand_in
from ..sandbox.models import Checkout, SentNotification
from .routing import InProcessApi, routed
from .traits import TRAITS, GatewayTraits

SANDBOX = "http://sandbox.test"


def logs() -> list[tuple[str, str]]:
    """Every request the shop logged, (kind, outcome), oldest first."""
    return list(NotificationLog.objects.order_by("pk").values_list("kind", "outcome"))


def link(page: Any) -> str:
    """Where the shop's page, shown (as text) at the gateway's URL, sends the customer:
    the sandbox's page follows the shop's refresh when it leads to the shop."""
    found = re.search(r'<meta http-equiv="refresh" content="\d+;url=([^"]+)">', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


class Customer:
    """A browser without a browser: the stand-in's pages, with cookies and CSRF."""

    def __init__(self, base: str, slug: str, shop_form: Callable[[], dict[str, str]]) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.slug = slug
        self.shop_form = shop_form

    def pay(
        self, action: str = "approve", form: dict[str, str] | None = None, **options: str
    ) -> httpx.Response:
        """Post the shop's form to the gateway, then press ``action`` on its page."""
        service_url = get_integration(self.slug).service_url
        start = self.http.post(service_url, data=form or self.shop_form())
        assert start.status_code == 303, start.text
        page = self.http.get(start.headers["location"])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        decide = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert token and decide
        data = {"csrfmiddlewaretoken": token.group(1), "action": action, **options}
        return self.http.post(decide.group(1), data=data)


@pytest.mark.django_db
class StandInFlows:
    """The stand-in and the shop's integration, face to face.

    The module defines a ``sandbox`` fixture (``sandbox_settings``); the class says how
    the gateway behaves. The defaults are a gateway that signs what it sends (or confirms
    it by postback), reports declines and not cancels, and redirects the customer.
    """

    slug: ClassVar[str]
    service_path: ClassVar[str]  # the sandbox's URL for the integration's SERVICE_URL
    page_shows: ClassVar[tuple[str, ...]]  # what the hosted page shows of the shop's form
    secrets: ClassVar[tuple[str, ...]] = ()  # never on a page the sandbox shows
    # The notification's amount as the tamper option leaves it on the wire.
    tampered: ClassVar[bytes]
    # A checkout created by API: what answers start/'s call to the sandbox's API, in
    # process (a class, or a function that returns one).
    routed_api: ClassVar[Callable[[], InProcessApi] | None] = None

    # -- how the gateway behaves: its row in billing.testing.traits ------------------------

    @property
    def traits(self) -> GatewayTraits:
        return TRAITS[self.slug]

    @property
    def declined_page(self) -> str:
        """billing's page Decline sends the customer to: a gateway that only reports
        cancellations (Worldpay) cancels."""
        return "return" if self.traits.declines else "cancel"

    @property
    def cancel_page(self) -> str | None:
        """billing's page Cancel sends the customer to; None: the gateway ends the
        checkout on its own page, and the customer leaves it with Back."""
        return None if self.traits.cancel_goes_back else "cancel"

    def shop_form(self, **extra: str) -> dict[str, str]:
        """The fields billing's integration renders for ORDER-1, 10.00."""
        raise NotImplementedError

    # -- what only this gateway does, after the shared checks ------------------------------

    def check_page(self, fields: dict[str, str]) -> None:
        """The form the sandbox kept for the hosted page."""

    def check_approved(self, reply: httpx.Response) -> None:
        """The gateway's answer to Approve, once the shop has the notification."""

    def check_declined(self, reply: httpx.Response) -> None:
        """The gateway's answer to Decline."""

    def check_cancelled(self, reply: httpx.Response) -> None:
        """The gateway's answer to Cancel."""

    # -- harness ----------------------------------------------------------------------------

    @pytest.fixture
    def live(self, sandbox: Any, live_server: Any, transactional_db: Any) -> Iterator[Customer]:
        sandbox.BILLING_SANDBOX_URL = live_server.url
        sandbox.BILLING_SITE_URL = live_server.url
        # Clients closed at teardown: a kept-alive connection would outlive the test server.
        shop_client = httpx.Client(timeout=10)
        http.set_client(shop_client)
        customer = Customer(live_server.url, self.slug, self.shop_form)
        yield customer
        customer.http.close()
        shop_client.close()
        http.set_client(None)

    def arrive(self, reply: httpx.Response, live: Customer) -> None:
        """The customer follows the redirection; with feedback, the shop reads it."""
        if self.traits.feedback:
            live.http.get(reply.headers["location"])

    def sent_back(self, reply: httpx.Response, *, shown: bool) -> tuple[str, dict[str, list[str]]]:
        """Where the customer goes next, as path and query: the link on the shop's page that
        the gateway shows at its own URL (``shown``), or the gateway's redirect."""
        if shown:
            assert reply.status_code == 200 and f"/sandbox/{self.slug}/" in str(reply.url)
            url = link(reply)
        else:
            assert reply.status_code == 302
            url = reply.headers["location"]
        parts = urlsplit(url)
        return parts.path, parse_qs(parts.query)

    @property
    def kinds(self) -> tuple[str, ...]:
        """How the shop logs the gateway's messages: the notification, and its copy."""
        return ("notify", "feedback") if self.traits.feedback else ("notify",)

    # -- the page -----------------------------------------------------------------------------

    def api_routed(self) -> AbstractContextManager[Any]:
        """While open, start/'s calls to the gateway's API reach the sandbox in process."""
        make = type(self).routed_api  # read off the class: a function stays unbound
        return routed(make()) if make is not None else nullcontext()

    def test_sandbox_is_the_service_url(self, sandbox: Any) -> None:
        module = import_module(f"billing.sandbox.gateways.{self.slug}")
        assert get_stand_in(self.slug) is module.stand_in
        integration = get_integration(self.slug)
        if not isinstance(integration, ApiCheckoutIntegration):
            assert integration.service_url == SANDBOX + self.service_path
            return
        # The form posts to the shop's own start/, which calls the sandbox's API.
        assert integration.service_url == self.service_path
        assert integration.endpoint("API_URL") == f"{SANDBOX}/sandbox/{self.slug}/"

    def test_good_form_opens_the_hosted_page(self, sandbox: Any) -> None:
        with self.api_routed():
            client = Client()
            response = client.post(self.service_path, self.shop_form())
            assert response.status_code == 303
            page = client.get(response["Location"])
        assert page.status_code == 200
        text = page.content.decode()
        for shown in (*self.page_shows, "Approve payment", "Decline", "Cancel and return"):
            assert shown in text
        for secret in self.secrets:
            assert secret not in text and secret.lower() not in text
        checkout = Checkout.objects.get()
        assert checkout.gateway == self.slug
        self.check_page(checkout.fields)

    # -- end to end through a real server -------------------------------------------------------

    def test_approve_pays(self, live: Customer) -> None:
        reply = live.pay("approve")
        path, query = self.sent_back(reply, shown=self.traits.shows_reply)
        assert path == f"/billing/{self.slug}/return/" and query["ref"] == ["ORDER-1"]
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.PAID
        sent = SentNotification.objects.get()
        assert "HTTP 200" in sent.delivery and payment.transaction_id == sent.transaction_id
        log = NotificationLog.objects.get(kind="notify")
        assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.APPLIED)
        self.arrive(reply, live)
        self.check_approved(reply)

    def test_decline(self, live: Customer) -> None:
        reply = live.pay("decline")
        assert Payment.objects.get().status == self.traits.declined_state
        path, query = self.sent_back(reply, shown=self.traits.shows_reply)
        assert path == f"/billing/{self.slug}/{self.declined_page}/" and query["ref"] == ["ORDER-1"]
        self.check_declined(reply)

    def test_cancel(self, live: Customer) -> None:
        reply = live.pay("cancel")
        if self.traits.notifies_cancel:
            assert Payment.objects.get().status == PaymentStatus.CANCELLED
            assert [outcome for _, outcome in logs()] == [Outcome.APPLIED]
        else:  # the gateway tells the shop nothing
            assert Payment.objects.get().status == PaymentStatus.PENDING
            assert not NotificationLog.objects.exists()
            assert not SentNotification.objects.exists()
        if self.cancel_page:  # a reported cancel is answered like any notification
            path, query = self.sent_back(
                reply, shown=self.traits.shows_reply and self.traits.notifies_cancel
            )
            assert path == f"/billing/{self.slug}/{self.cancel_page}/"
            assert query["ref"] == ["ORDER-1"]
        self.check_cancelled(reply)

    def test_twice_is_applied_once(self, live: Customer) -> None:
        live.pay("approve", send="twice")
        assert Payment.objects.get().status == PaymentStatus.PAID
        assert logs() == [("notify", Outcome.APPLIED), ("notify", Outcome.DUPLICATE)]

    def test_tampered_amount_is_not_paid(self, live: Customer) -> None:
        reply = live.pay("approve", send="tamper")
        if self.traits.shows_reply:
            assert reply.status_code == 200  # the shop still answers the customer's page
        self.arrive(reply, live)
        payment = Payment.objects.get()
        assert self.tampered in bytes(NotificationLog.objects.get(kind="notify").body)
        if self.traits.amount_signed:  # the signature (or the postback) fails on every path
            assert payment.status == PaymentStatus.PENDING
            for kind in self.kinds:
                log = NotificationLog.objects.get(kind=kind)
                assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
        else:  # no signature to break: the amount check is what keeps the order unpaid
            assert payment.status == PaymentStatus.REVIEW
            assert "amount 0.01 instead of 10.00" in payment.review_reason
            log = NotificationLog.objects.get(kind="notify")
            assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.HELD)

    def test_different_amount(self, live: Customer) -> None:
        live.pay("approve", send="amount", other_amount="4.00")
        payment = Payment.objects.get()
        if self.traits.other_amount_rejected:
            assert payment.status == PaymentStatus.PENDING
            assert NotificationLog.objects.get(kind="notify").verification == Verdict.INVALID
        else:  # authentic, but not what the order asked: held for review
            assert payment.status == PaymentStatus.REVIEW
            assert "amount 4.00 instead of 10.00" in payment.review_reason
