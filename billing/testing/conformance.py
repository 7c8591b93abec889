"""The behaviour every integration must show, as a mixin for pytest test classes.

A gateway's test class inherits ``IntegrationConformance`` and names the slug, its
settings and a currency. The gateway's side comes from its sandbox stand-in (how it
notifies, tampered and forged), and what the gateway does differently from its row in
``billing.testing.traits``. Every test below then runs against that integration. A test
class may still override the gateway's side, e.g. to write the wire format by hand.

For a checkout created by API (an ``ApiCheckoutIntegration``) the gateway never sees the
rendered page, which carries only a token: ``form()`` is then the session's parameters
that start/ sends. A class naming ``routed_api`` (an ``InProcessApi`` factory) has the
sandbox on and billing's outbound HTTP answered by its stand-in, in process, for
gateways whose verification asks the gateway.
"""

import html
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import unquote_to_bytes

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from ..api_checkout import ApiCheckoutIntegration
from ..exceptions import InvalidData
from ..models import NotificationLog, Outcome, Payment, PaymentStatus
from ..registry import get_integration
from ..sandbox.gateways import get_stand_in
from ..sandbox.gateways.base import Message, StandIn, Variation
from ..signals import transaction_was_successful, transaction_was_unsuccessful
from .flows import SANDBOX
from .routing import InProcessApi, routed
from .traits import TRAITS, GatewayTraits


@dataclass(frozen=True)
class Delivery:
    """One request as the gateway would send it to notify/."""

    body: bytes
    content_type: str = "application/x-www-form-urlencoded"
    method: str = "POST"
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, message: Message) -> "Delivery":
        """A stand-in's message as the request it makes."""
        if message.method == "GET":
            return cls(body=b"", method="GET", query=message.body.decode("ascii"))
        return cls(message.body, message.content_type, message.method, "", message.headers)


class SignalRecorder:
    def __init__(self) -> None:
        self.successful: list[Any] = []
        self.unsuccessful: list[Any] = []

    def on_success(self, sender: Any, type: str, response: Any, **kw: Any) -> None:
        self.successful.append(response)

    def on_failure(self, sender: Any, type: str, response: Any, **kw: Any) -> None:
        self.unsuccessful.append(response)


_INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
_BOUNDARY = "billing-conformance-boundary"
# The shop's host in the forms the suite renders (and the origin the sandbox may notify).
_SHOP_HOST = "shop.test"


def as_multipart(delivery: Delivery) -> Delivery:
    """The same fields posted as multipart/form-data (RFC 7578), byte for byte, in
    whatever charset the gateway wrote them."""
    encoded = delivery.query.encode("ascii") if delivery.method == "GET" else delivery.body
    parts = []
    for pair in encoded.split(b"&"):
        name, _, value = pair.partition(b"=")
        name, value = (unquote_to_bytes(x.replace(b"+", b" ")) for x in (name, value))
        parts.append(
            b"--" + _BOUNDARY.encode() + b"\r\n"
            b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"
        )
    body = b"".join(parts) + b"--" + _BOUNDARY.encode() + b"--\r\n"
    return Delivery(body=body, content_type=f"multipart/form-data; boundary={_BOUNDARY}")


@pytest.mark.django_db
class IntegrationConformance:
    slug: str
    merchant_settings: dict[str, Any]
    currency = "USD"
    # The suite's other currency, for an authentic notification in the wrong one.
    other_currency = "EUR"
    # Answers billing's outbound HTTP in process (the sandbox's API stand-in); None: the
    # suite makes no outbound call. A class, or a function that returns one.
    routed_api: ClassVar[Callable[[], InProcessApi] | None] = None

    # -- what the gateway does differently (its traits row) -------------------------------

    @property
    def traits(self) -> GatewayTraits:
        return TRAITS[self.slug]

    @property
    def stand_in(self) -> StandIn:
        return get_stand_in(self.slug)

    # -- the gateway's side: from the stand-in unless a test class writes its own ---------

    def order(self, reference: str, amount: Decimal, currency: str) -> dict[str, str]:
        integration = get_integration(self.slug)
        return integration.order_fields(reference, amount, currency, "")

    def gateway_notification(
        self,
        form: dict[str, str],
        *,
        status: str = "paid",
        amount: Decimal | None = None,
        currency: str | None = None,
        receiver: str | None = None,
        test: bool | None = None,
        transaction_id: str = "TX-1",
    ) -> Delivery:
        """What the gateway sends for this form, authentic (signed or confirmable)."""
        vary = Variation(
            amount=amount,
            transaction_id=transaction_id,
            currency=currency,
            receiver=receiver,
            test=test is not False,
        )
        # The sandbox only plays a test account: a test about a live shop gets the
        # notification its test account would send, signed with the same secrets.
        with self._stand_in_playing_test_mode():
            message = self.stand_in.notification(form, status=status, vary=vary)
        return Delivery.of(message)

    def _stand_in_playing_test_mode(self) -> Any:
        from django.conf import settings

        account = {**settings.MERCHANT_SETTINGS.get(self.slug, {}), "TEST_MODE": True}
        merchant_settings = {**settings.MERCHANT_SETTINGS, self.slug: account}
        return override_settings(MERCHANT_SETTINGS=merchant_settings)

    def tamper(self, delivery: Delivery) -> Delivery:
        """The same delivery with the amount changed, as an attacker would."""
        return Delivery.of(self.stand_in.tamper(self._message(delivery)))

    def forge(self, form: dict[str, str]) -> Delivery:
        """A delivery the gateway never sent (bad signature / unknown to postback)."""
        return Delivery.of(self.stand_in.forge(self._message(self.gateway_notification(form))))

    @staticmethod
    def _message(delivery: Delivery) -> Message:
        if delivery.method == "GET":
            return Message(delivery.query.encode("ascii"), "", "", method="GET")
        return Message(delivery.body, "", "", delivery.content_type, delivery.headers)

    def stored_body(self, delivery: Delivery) -> bytes:
        """The body as the log must keep it: as sent, unless the integration redacts a secret."""
        return delivery.body

    # -- harness ------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _configure(self, settings: Any) -> None:
        settings.MERCHANT_SETTINGS = {self.slug: dict(self.merchant_settings)}
        settings.MERCHANT_TEST_MODE = True

    @pytest.fixture(autouse=True)
    def _routed(self, _configure: None, settings: Any) -> Iterator[InProcessApi | None]:
        """With ``routed_api``: the sandbox on, its API answering billing's calls
        (``self.api`` records them)."""
        make = type(self).routed_api  # read off the class: a function stays unbound
        if make is None:
            yield None
            return
        settings.DEBUG = True
        settings.BILLING_SANDBOX = True
        settings.BILLING_SANDBOX_URL = SANDBOX
        settings.BILLING_SANDBOX_ALLOWED_ORIGINS = [f"http://{_SHOP_HOST}"]
        with routed(make()) as api:
            self.api = api
            yield api

    @pytest.fixture
    def signals(self) -> Any:
        recorder = SignalRecorder()
        transaction_was_successful.connect(recorder.on_success, weak=False)
        transaction_was_unsuccessful.connect(recorder.on_failure, weak=False)
        yield recorder
        transaction_was_successful.disconnect(recorder.on_success)
        transaction_was_unsuccessful.disconnect(recorder.on_failure)

    def render(self, reference: str = "ORDER-1", amount: str = "10.00", **extra: str) -> str:
        integration = get_integration(self.slug)
        integration.add_fields(self.order(reference, Decimal(amount), self.currency))
        integration.add_fields(extra)
        request = RequestFactory().get("/checkout/", HTTP_HOST=_SHOP_HOST)
        template = Template(
            "{% load render_integration from billing_tags %}{% render_integration obj %}"
        )
        return template.render(Context({"obj": integration, "request": request}))

    def form(
        self, reference: str = "ORDER-1", amount: str = "10.00", **extra: str
    ) -> dict[str, str]:
        """What the gateway receives for the order: the rendered form's hidden fields, or
        for a checkout created by API, the session's parameters."""
        page = self.render(reference, amount, **extra)
        integration = get_integration(self.slug)
        if isinstance(integration, ApiCheckoutIntegration):
            return self.session_params(integration, page, reference, amount)
        return {html.unescape(k): html.unescape(v) for k, v in _INPUT.findall(page)}

    def session_params(
        self, integration: ApiCheckoutIntegration, page: str, reference: str, amount: str
    ) -> dict[str, str]:
        """The parameters start/ sends the gateway for the payment ``page`` recorded: the
        page itself carries only the signed token, never the amount."""
        assert 'name="token"' in page and amount not in page
        request = RequestFactory().get("/", HTTP_HOST=_SHOP_HOST)
        order = integration.checkout_order(self.payment(reference), {}, request)
        protocol = integration.protocol
        assert protocol is not None, f"{integration.display_name} names no protocol"
        return protocol.form(order, integration.account)

    def deliver(self, delivery: Delivery, capture: Any) -> Any:
        url = reverse("billing:notify", kwargs={"integration": self.slug})
        if delivery.query:
            url = f"{url}?{delivery.query}"
        client = Client()
        with capture(execute=True):
            if delivery.method == "GET":
                return client.get(url)
            return client.generic(
                delivery.method,
                url,
                delivery.body,
                content_type=delivery.content_type,
                headers=dict(delivery.headers),
            )

    def payment(self, reference: str = "ORDER-1") -> Payment:
        return Payment.objects.get(integration=self.slug, reference=reference)

    # -- the behaviour --------------------------------------------------------------------

    def test_render_posts_signed_fields_to_service_url(self) -> None:
        page = self.render(item_name='Mug "<b>" & co')
        integration = get_integration(self.slug)
        assert f'action="{html.escape(integration.service_url)}"' in page
        assert "<b>" not in page  # every value escaped
        payment = self.payment()
        assert payment.amount == Decimal("10.00")
        assert payment.currency == self.currency
        assert payment.status == PaymentStatus.PENDING
        for secret in self.secrets():
            assert secret not in page

    def secrets(self) -> list[str]:
        return []

    def test_secret_settings_are_declared(self) -> None:
        """Settings holding secrets are named, for error reports to mask them."""
        integration = get_integration(self.slug)
        secret = set(self.secrets())
        holding = {k for k, v in self.merchant_settings.items() if str(v) in secret}
        assert holding <= set(integration.secret_settings)

    def test_multipart_body_is_read_like_a_form(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        delivery = as_multipart(self.gateway_notification(self.form()))
        response = self.deliver(delivery, django_capture_on_commit_callbacks)
        log = NotificationLog.objects.get()
        for secret in self.secrets():
            assert secret.encode() not in bytes(log.body)
        if not self.traits.accepts_multipart:
            assert log.outcome == Outcome.REJECTED
            assert self.payment().status == PaymentStatus.PENDING
            return
        assert response.status_code == self.traits.ack_status
        assert (log.outcome, self.payment().status) == (Outcome.APPLIED, PaymentStatus.PAID)
        assert len(signals.successful) == 1

    def test_routes(self) -> None:
        integration = get_integration(self.slug)
        names = {p.name for p in integration.urls}
        assert {"notify", "return", "cancel"} <= names

        def shape(patterns: Any) -> list[tuple[str, str]]:
            return [(str(p.pattern), p.name) for p in patterns]

        assert shape(integration.urls) == shape(integration.get_urls())
        assert reverse("billing:notify", kwargs={"integration": self.slug}).endswith(
            f"/{self.slug}/notify/"
        )

    def test_approved_payment_is_paid_once(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        delivery = self.gateway_notification(self.form())
        response = self.deliver(delivery, django_capture_on_commit_callbacks)
        assert response.status_code == self.traits.ack_status
        payment = self.payment()
        assert payment.status == PaymentStatus.PAID
        assert len(signals.successful) == 1
        notification = signals.successful[0]
        assert notification.reference == "ORDER-1"
        assert notification.amount == Decimal("10.00")
        assert notification.currency == self.currency
        assert notification.integration == self.slug
        log = NotificationLog.objects.get()
        assert log.outcome == Outcome.APPLIED
        assert bytes(log.body) == self.stored_body(delivery) or delivery.method == "GET"

    def test_duplicate_is_acknowledged_not_reapplied(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        delivery = self.gateway_notification(self.form())
        first = self.deliver(delivery, django_capture_on_commit_callbacks)
        second = self.deliver(delivery, django_capture_on_commit_callbacks)
        assert first.status_code == second.status_code == self.traits.ack_status
        outcomes = list(NotificationLog.objects.order_by("pk").values_list("outcome", flat=True))
        assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
        assert len(signals.successful) == 1

    def test_declined_payment_fails(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        if not self.traits.notifies_decline:
            pytest.skip("the gateway sends no notification for a declined payment")
        delivery = self.gateway_notification(self.form(), status="failed")
        self.deliver(delivery, django_capture_on_commit_callbacks)
        assert self.payment().status == self.traits.declined_state
        assert signals.successful == [] and len(signals.unsuccessful) == 1

    def test_late_failure_does_not_undo_payment(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        if not self.traits.notifies_decline:
            pytest.skip("the gateway sends no notification for a declined payment")
        form = self.form()
        self.deliver(self.gateway_notification(form), django_capture_on_commit_callbacks)
        late = self.gateway_notification(form, status="failed", transaction_id="TX-1")
        self.deliver(late, django_capture_on_commit_callbacks)
        assert self.payment().status == PaymentStatus.PAID
        assert signals.unsuccessful == []

    def test_forged_notification_changes_nothing(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        self.deliver(self.forge(self.form()), django_capture_on_commit_callbacks)
        assert self.payment().status == PaymentStatus.PENDING
        assert NotificationLog.objects.get().outcome == Outcome.REJECTED
        assert signals.successful == signals.unsuccessful == []

    def test_tampered_amount_changes_nothing(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        delivery = self.tamper(self.gateway_notification(self.form()))
        self.deliver(delivery, django_capture_on_commit_callbacks)
        assert self.payment().status == PaymentStatus.PENDING
        assert signals.successful == []

    @pytest.mark.parametrize(
        "change",
        [
            {"amount": Decimal("0.01")},
            {"currency": "other"},
            {"receiver": "attacker@example.net"},
        ],
        ids=["cheaper-amount", "other-currency", "other-receiver"],
    )
    def test_authentic_mismatch_is_held_for_review(
        self, change: dict[str, Any], signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        change = dict(change)
        if change.get("currency") == "other":
            change["currency"] = self.other_currency
        if "receiver" in change and not self.traits.names_receiver:
            # Another account's notification is signed with another account's secret.
            delivery = self.gateway_notification(self.form(), **change)
            self.deliver(delivery, django_capture_on_commit_callbacks)
            assert self.payment().status == PaymentStatus.PENDING
            assert NotificationLog.objects.get().outcome == Outcome.REJECTED
            assert signals.successful == []
            return
        accepted = get_integration(self.slug).currencies
        if "currency" in change and accepted and change["currency"] not in accepted:
            # The gateway takes only its own currencies: asking in another is refused up
            # front, and its notification for a payment asked in another one is held.
            with pytest.raises(InvalidData):
                self.order("ORDER-2", Decimal("10.00"), change["currency"])
            form = self.form()
            Payment.objects.filter(pk=self.payment().pk).update(currency=change.pop("currency"))
            delivery = self.gateway_notification(form, **change)
        elif "currency" in change and not self.traits.names_currency:
            # The notification implies the account's currency: ask in another one.
            self.currency = change.pop("currency")
            delivery = self.gateway_notification(self.form(), **change)
        else:
            delivery = self.gateway_notification(self.form(), **change)
        self.deliver(delivery, django_capture_on_commit_callbacks)
        assert self.payment().status == PaymentStatus.REVIEW
        assert NotificationLog.objects.get().outcome == Outcome.HELD
        assert signals.successful == []

    def test_unknown_reference_is_held(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        form = self.form()
        Payment.objects.all().delete()
        self.deliver(self.gateway_notification(form), django_capture_on_commit_callbacks)
        assert NotificationLog.objects.get().outcome == Outcome.HELD
        assert signals.successful == []

    def test_test_notification_on_live_shop_is_not_paid(
        self, settings: Any, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.MERCHANT_TEST_MODE = False
        delivery = self.gateway_notification(self.form(), test=True)
        self.deliver(delivery, django_capture_on_commit_callbacks)
        assert self.payment().status != PaymentStatus.PAID
        assert signals.successful == []

    @pytest.mark.parametrize(
        "body", [b"\xff\xfe\x00garbage", b"%%%=&&=", b""], ids=["binary", "bad-escapes", "empty"]
    )
    def test_malformed_body_is_a_logged_4xx(
        self, body: bytes, django_capture_on_commit_callbacks: Any
    ) -> None:
        response = self.deliver(replace(Delivery(body=body)), django_capture_on_commit_callbacks)
        assert 400 <= response.status_code < 500
        log = NotificationLog.objects.get()
        assert bytes(log.body) == body
        assert log.outcome == Outcome.REJECTED

    def test_oversized_body_is_413_and_logged(
        self, settings: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.BILLING_MAX_NOTIFICATION_BYTES = 1024
        body = b"a=" + b"x" * 5000
        response = self.deliver(Delivery(body=body), django_capture_on_commit_callbacks)
        assert response.status_code == 413
        log = NotificationLog.objects.get()
        assert log.truncated and log.declared_length == len(body)
        assert bytes(log.body) == body[:1024]
