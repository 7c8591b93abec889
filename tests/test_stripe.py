"""Stripe Checkout: the conformance suite, known answers, the start/ route and attacks.

Known answers are HMAC-SHA256 over ``"<t>.<raw body>"``, computed outside our code with
``printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"``:

- the fact sheet's vector (GATEWAYS_API.md section 1; recomputed here with openssl):
  secret ``whsec_test_secret``, t ``1700000000``, body
  ``{"id":"evt_test_webhook","object":"event"}``;
- ours: ``KAT_BODY`` below (328 bytes, no final newline) at t ``1767225600`` with
  ``whsec_kat_current`` and with ``whsec_kat_previous`` (a secret being rolled).
"""

import json
import re
import sys
import time
import types
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client, RequestFactory
from django.urls import include, path

from billing import get_integration
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import stripe
from billing.protocols.base import Account, Inbound, Verification
from billing.sandbox.gateways import stripe as stand_in_module
from billing.sandbox.gateways.base import Variation
from billing.sandbox.models import Checkout, SentNotification
from billing.testing.conformance import Delivery, IntegrationConformance
from billing.testing.routing import InProcessApi
from tests.helpers import (
    assert_lost_answer_is_not_made_twice,
    deliverer,
    outcomes,
    routed_fixture,
    settings_fixture,
    start_while_down,
    starter,
    token_renderer,
)
from tests.sandbox_helpers import SANDBOX, Customer, StandInFlows, order_form, sandbox_settings

SECRET_KEY = "sk_test_tests0000000000000000000000"
WEBHOOK_SECRET = "whsec_tests0000000000000000000000"
SETTINGS = {"SECRET_KEY": SECRET_KEY, "WEBHOOK_SECRET": WEBHOOK_SECRET}

SHEET = ("whsec_test_secret", "1700000000", b'{"id":"evt_test_webhook","object":"event"}')
SHEET_SIGNATURE = "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
KAT_T = "1767225600"
KAT_BODY = (
    b'{"id":"evt_1KAT","object":"event","type":"checkout.session.completed","livemode":false,'
    b'"data":{"object":{"id":"cs_test_KAT","object":"checkout.session","amount_total":1000,'
    b'"currency":"eur","client_reference_id":"ORDER-1","metadata":{"reference":"ORDER-1"},'
    b'"payment_intent":"pi_KAT","payment_status":"paid","status":"complete"}}}'
)
KAT_CURRENT = "000611f41ead3ff598ffcdd82a4856b551023ea25098c71c5b437d2fd88f623b"
KAT_PREVIOUS = "c65897efe3f9e06b0507a533a683e5d91b9b0b0cdcb8054f9a7902dae37ffecf"


def account(**settings: Any) -> Account:
    return Account({**SETTINGS, **settings}, test=True, endpoint=str)


# -- known answers, on both sides -------------------------------------------------------------


def test_known_answers_on_both_sides() -> None:
    secret, t, body = SHEET
    assert stripe.signature(secret, t, body) == SHEET_SIGNATURE
    assert stand_in_module.sign(body, secret, int(t)) == SHEET_SIGNATURE
    assert len(KAT_BODY) == 328
    assert stripe.signature("whsec_kat_current", KAT_T, KAT_BODY) == KAT_CURRENT
    assert stand_in_module.sign(KAT_BODY, "whsec_kat_previous", int(KAT_T)) == KAT_PREVIOUS


@pytest.mark.parametrize(
    ("header", "secrets", "valid"),
    [
        (f"t={KAT_T},v1={KAT_CURRENT}", ["whsec_kat_current"], True),
        # Stripe signs with both secrets while one is rolled; either configured one works.
        (f"t={KAT_T},v1={KAT_PREVIOUS},v1={KAT_CURRENT}", ["whsec_kat_current"], True),
        (f"t={KAT_T},v1={KAT_PREVIOUS}", ["whsec_kat_previous", "whsec_kat_current"], True),
        (f"t={KAT_T},v1={KAT_CURRENT.upper()}", ["whsec_kat_current"], True),
        (f"t={KAT_T},v1={KAT_CURRENT}", ["whsec_another_endpoint"], False),
        (f"t={KAT_T},v0={KAT_CURRENT}", ["whsec_kat_current"], False),  # only v1 counts
        (f"v1={KAT_CURRENT}", ["whsec_kat_current"], False),
        (f"t=1767225601,v1={KAT_CURRENT}", ["whsec_kat_current"], False),
        ("", ["whsec_kat_current"], False),
        (f"t={KAT_T},v1={KAT_CURRENT}", [], False),
    ],
)
def test_signature_header(header: str, secrets: list[str], valid: bool) -> None:
    now = int(KAT_T) + 10
    assert stripe.verify_signature(KAT_BODY, header, secrets, now=now) is valid


def test_a_signature_older_than_300_seconds_is_refused() -> None:
    header = f"t={KAT_T},v1={KAT_CURRENT}"
    secrets = ["whsec_kat_current"]
    assert stripe.verify_signature(KAT_BODY, header, secrets, now=int(KAT_T) + 300)
    assert not stripe.verify_signature(KAT_BODY, header, secrets, now=int(KAT_T) + 301)


def test_the_body_is_verified_as_received() -> None:
    """Re-serialised JSON is another body (the classic 'No signatures found')."""
    reserialised = json.dumps(json.loads(KAT_BODY)).encode()
    header = f"t={KAT_T},v1={KAT_CURRENT}"
    fields = stripe.read(Inbound(reserialised, "application/json"))
    inbound = Inbound(
        reserialised,
        "application/json",
        headers={"Stripe-Signature": header},
        received_at=float(KAT_T),
    )
    secret = account(WEBHOOK_SECRET="whsec_kat_current")
    assert stripe.verify(fields, inbound, secret) is Verification.INVALID
    inbound = Inbound(KAT_BODY, headers={"stripe-signature": header}, received_at=float(KAT_T))
    assert stripe.verify(fields, inbound, secret) is Verification.VALID


def test_the_kat_event_in_the_librarys_words() -> None:
    n = stripe.notification(stripe.read(Inbound(KAT_BODY)), account(), "stripe")
    assert (n.reference, n.amount, n.currency, n.status) == (
        "ORDER-1",
        Decimal("10.00"),
        "EUR",
        "paid",
    )
    assert (n.transaction_id, n.test) == ("pi_KAT", True)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"payment_status": "unpaid"}, "pending"),  # completed, but a delayed method
        ({"payment_status": "no_payment_required"}, "pending"),
    ],
)
def test_completed_is_paid_only_when_it_says_paid(change: dict[str, str], status: str) -> None:
    event = json.loads(KAT_BODY)
    event["data"]["object"].update(change)
    fields = stripe.read(Inbound(json.dumps(event).encode()))
    assert stripe.notification(fields, account(), "stripe").status == status


def test_full_and_partial_refunds() -> None:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 1000,
        "amount_refunded": 1000,
        "currency": "eur",
        "payment_intent": "pi_KAT",
        "metadata": {"reference": "ORDER-1"},
    }
    event = {"id": "evt_r", "object": "event", "type": "charge.refunded", "livemode": False}
    full = stripe.read(Inbound(json.dumps({**event, "data": {"object": charge}}).encode()))
    n = stripe.notification(full, account(), "stripe")
    assert (n.status, n.amount, n.reference, n.transaction_id) == (
        "refunded",
        Decimal("10.00"),
        "ORDER-1",
        "pi_KAT",
    )
    charge["amount_refunded"] = 400
    partial = stripe.read(Inbound(json.dumps({**event, "data": {"object": charge}}).encode()))
    assert stripe.notification(partial, account(), "stripe").status == "unknown"


def test_references_that_disagree_are_malformed() -> None:
    from billing.exceptions import MalformedNotification

    event = json.loads(KAT_BODY)
    event["data"]["object"]["metadata"]["reference"] = "ORDER-2"
    with pytest.raises(MalformedNotification):
        stripe.notification(stripe.read(Inbound(json.dumps(event).encode())), account(), "stripe")


def test_session_parameters() -> None:
    order = {
        "reference": "ORDER-1",
        "amount": Decimal("1000"),
        "currency": "JPY",
        "description": "Mug",
        "return_url": "https://shop.test/billing/stripe/return/?ref=ORDER-1&sig=x",
        "cancel_url": "https://shop.test/billing/stripe/cancel/?ref=ORDER-1&sig=x",
        "notify_url": "https://shop.test/billing/stripe/notify/",
        "customer_email": "buyer@example.com",
    }
    params = stripe.form(order, account())
    assert params["mode"] == "payment"
    assert params["line_items[0][price_data][unit_amount]"] == "1000"  # zero-decimal
    assert params["line_items[0][price_data][currency]"] == "jpy"
    assert params["client_reference_id"] == params["metadata[reference]"] == "ORDER-1"
    assert params["payment_intent_data[metadata][reference]"] == "ORDER-1"
    assert params["success_url"].endswith("&session_id={CHECKOUT_SESSION_ID}")
    assert params["customer_email"] == "buyer@example.com" and "notify_url" not in params
    assert stripe.terms(params, account()).amount == Decimal("1000")
    from billing.exceptions import InvalidData

    with pytest.raises(InvalidData):  # an extra cannot replace billing's own
        stripe.form({**order, "line_items[0][price_data][unit_amount]": "1"}, account())
    with pytest.raises(InvalidData):  # Stripe has no fractions of a yen
        stripe.form({**order, "amount": Decimal("10.50")}, account())


@pytest.mark.parametrize("bad", ["", [], [""], 42, None])
def test_webhook_secret_must_be_a_string_or_a_list(bad: Any, settings: Any) -> None:
    from billing.exceptions import IntegrationNotConfigured

    settings.MERCHANT_SETTINGS = {"stripe": {**SETTINGS, "WEBHOOK_SECRET": bad}}
    with pytest.raises(IntegrationNotConfigured):
        get_integration("stripe")


# -- the conformance suite --------------------------------------------------------------------


class TestStripeConformance(IntegrationConformance):
    """What differs for a checkout created by API: the gateway never sees the browser's
    form (it holds only a token), so the gateway's side is given the Checkout Session's
    parameters that the start view sends, as Stripe received them."""

    slug = "stripe"
    merchant_settings = SETTINGS
    currency = "USD"

    def secrets(self) -> list[str]:
        return [SECRET_KEY, WEBHOOK_SECRET]


# -- attacks at notify/ -----------------------------------------------------------------------


shop = settings_fixture("stripe", SETTINGS, sandbox_settings)
rendered = token_renderer("stripe", "EUR")


def session_params(reference: str = "ORDER-1") -> dict[str, str]:
    integration = get_integration("stripe")
    payment = Payment.objects.get(integration="stripe", reference=reference)
    order = integration.checkout_order(payment, {}, None)
    return stripe.form(order, integration.account)


def event(status: str = "paid", **options: Any) -> Any:
    vary = replace(options.pop("vary", Variation()), **options)  # amount=..., or vary=...
    return stand_in_module.stand_in.notification(session_params(), status=status, vary=vary)


def resigned(message: Any, *, t: int, secrets: list[str]) -> Delivery:
    header = stand_in_module.signature_header(message.body, secrets, t)
    return Delivery(message.body, message.content_type, headers={"Stripe-Signature": header})


deliver = deliverer("stripe")


def status() -> str:
    return Payment.objects.get(integration="stripe").status


@pytest.mark.django_db
class TestAttacks:
    def test_unsigned_event(self, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
        rendered()
        message = event()
        response = deliver(
            Delivery(message.body, message.content_type), django_capture_on_commit_callbacks
        )
        assert response.status_code == 200  # stored and acknowledged; then rejected
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    def test_forged_signature(self, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
        rendered()
        forged = stand_in_module.stand_in.forge(event())
        deliver(Delivery.of(forged), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    def test_stale_timestamp(self, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
        rendered()
        old = resigned(event(), t=int(time.time()) - 400, secrets=[WEBHOOK_SECRET])
        deliver(old, django_capture_on_commit_callbacks)
        log = NotificationLog.objects.get()
        assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
        assert status() == PaymentStatus.PENDING

    def test_a_sender_cannot_say_when_billing_received_it(
        self, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        t = int(time.time()) - 4000
        old = resigned(event(), t=t, secrets=[WEBHOOK_SECRET])
        deliver(old, django_capture_on_commit_callbacks, **{"X-Billing-Received-At": str(t)})
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    def test_replayed_old_event(self, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
        """An authentic event, captured and sent again: within the tolerance it is a
        duplicate of the same event; after it, its signature is too old."""
        rendered()
        message = event()
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        header = message.headers["Stripe-Signature"]
        t = int(re.search(r"t=(\d+)", header).group(1))
        later = t + 3600
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(stripe.time, "time", lambda: later)
            from django.utils import timezone

            real_now = timezone.now
            mp.setattr(
                "django.utils.timezone.now",
                lambda: real_now() + __import__("datetime").timedelta(seconds=3600),
            )
            deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED]
        assert Payment.objects.get().events.count() == 1

    def test_a_stored_event_verified_again_later_is_judged_by_its_arrival(
        self, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(Delivery.of(event()), django_capture_on_commit_callbacks)
        log = NotificationLog.objects.get()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(stripe.time, "time", lambda: time.time() + 86400)
            integration = get_integration("stripe")
            inbound = integration.inbound(log)
            fields = integration.parse_notification(inbound)
            assert integration.verify(inbound, fields) is Verification.VALID

    def test_another_endpoints_secret(
        self, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        other = resigned(event(), t=int(time.time()), secrets=["whsec_another_endpoint"])
        deliver(other, django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    @pytest.mark.parametrize("signed_with", ["whsec_old", "whsec_new"])
    def test_two_secrets_while_rolling(
        self, signed_with: str, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        shop.MERCHANT_SETTINGS = {
            "stripe": {**SETTINGS, "WEBHOOK_SECRET": ["whsec_old", "whsec_new"]}
        }
        rendered()
        delivery = resigned(event(), t=int(time.time()), secrets=[signed_with])
        deliver(delivery, django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.APPLIED] and status() == PaymentStatus.PAID

    def test_amount_shifted_session(
        self, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(Delivery.of(event(amount=Decimal("1.00"))), django_capture_on_commit_callbacks)
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.REVIEW
        assert "amount 1.00 instead of 10.00" in payment.review_reason

    def test_live_event_on_a_test_shop(
        self, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        from billing.sandbox.gateways.base import Variation

        rendered()
        deliver(Delivery.of(event(vary=Variation(test=False))), django_capture_on_commit_callbacks)
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.REVIEW and "test=False" in payment.review_reason

    def test_unknown_session(self, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
        rendered()
        params = {**session_params(), "client_reference_id": "NOT-OURS"}
        params["metadata[reference]"] = "NOT-OURS"
        message = stand_in_module.stand_in.notification(params, status="paid")
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.HELD] and status() == PaymentStatus.PENDING

    def test_expired_session_cancels_and_a_late_one_does_not_undo_payment(
        self, shop: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(Delivery.of(event()), django_capture_on_commit_callbacks)
        deliver(Delivery.of(event("cancelled")), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.APPLIED, Outcome.STALE] and status() == PaymentStatus.PAID


# -- the start/ route -----------------------------------------------------------------------------


class Sandbox(InProcessApi):
    """billing's outbound HTTP answered by the sandbox's Stripe API, in process."""

    def __init__(self) -> None:
        super().__init__(lambda status: {"error": {"type": "api_error"}})


api = routed_fixture(Sandbox)
start = starter("stripe")


@pytest.mark.django_db
class TestStart:
    def test_render_records_the_payment_and_posts_only_a_token(self, shop: Any) -> None:
        from django.template import Context, Template

        integration = get_integration("stripe")
        integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
        page = Template(
            "{% load render_integration from billing_tags %}{% render_integration obj %}"
        ).render(Context({"obj": integration}))
        assert 'action="/billing/stripe/start/"' in page and 'method="post"' in page
        assert re.findall(r'name="([^"]+)"', page) == ["token"]
        assert "10.00" not in page and SECRET_KEY not in page
        payment = Payment.objects.get()
        assert (payment.amount, payment.currency, payment.status) == (
            Decimal("10.00"),
            "EUR",
            "pending",
        )

    def test_start_creates_the_session_and_redirects(self, api: Sandbox) -> None:
        token = rendered()
        response = start(token, amount="0.01", currency="JPY")  # extra fields mean nothing
        assert response.status_code == 303
        payment = Payment.objects.get()
        checkout = Checkout.objects.get()
        assert payment.gateway_reference == checkout.token and checkout.token.startswith("cs_test_")
        assert response["Location"] == f"{SANDBOX}/sandbox/stripe/checkout/{checkout.token}/"
        assert checkout.fields["line_items[0][price_data][unit_amount]"] == "1000"
        assert checkout.fields["line_items[0][price_data][currency]"] == "eur"
        [request] = api.requests
        assert str(request.url) == f"{SANDBOX}/sandbox/stripe/v1/checkout/sessions"
        assert request.headers["Authorization"] == f"Bearer {SECRET_KEY}"
        assert request.headers["Idempotency-Key"].startswith(f"billing-stripe-{payment.pk}-0-")
        assert checkout.fields["success_url"].startswith(
            "http://testserver/billing/stripe/return/?ref=ORDER-1&sig="
        )
        assert checkout.fields["webhook_url"] == "http://testserver/billing/stripe/notify/"
        # The hosted page shows the recorded amount.
        page = Client().get(response["Location"])
        assert "10.00 EUR" in page.content.decode()

    def test_a_double_click_opens_one_session(self, api: Sandbox) -> None:
        token = rendered()
        first, second = start(token), start(token)
        assert first["Location"] == second["Location"]
        assert Checkout.objects.count() == 1
        assert len({r.headers["Idempotency-Key"] for r in api.requests}) == 1

    @pytest.mark.parametrize(
        "failure",
        [
            [httpx.ConnectError("refused"), httpx.ConnectError("refused")],
            [503, 503],
            [httpx.ReadTimeout("slow")],
            ["junk"],
            [400],
        ],
        ids=["unreachable", "5xx", "timeout", "bad-json", "4xx"],
    )
    def test_an_api_that_fails_gets_a_page_with_a_retry(
        self, failure: list[Any], api: Sandbox, caplog: Any
    ) -> None:
        token = rendered()
        text = start_while_down(start, token, api, failure)
        assert "We could not reach Stripe" in text and "Try again" in text
        assert f'value="{token}"' in text and 'action="/billing/stripe/start/"' in text
        assert Checkout.objects.count() == 0 and Payment.objects.get().gateway_reference == ""
        assert "could not open the checkout" in caplog.text
        assert SECRET_KEY not in caplog.text and SECRET_KEY not in text
        retry = start(token)  # the API is back
        assert retry.status_code == 303 and Checkout.objects.count() == 1

    def test_a_session_made_but_its_answer_lost_is_not_made_twice(self, api: Sandbox) -> None:
        assert_lost_answer_is_not_made_twice(start, rendered(), api)

    def test_a_session_for_another_amount_is_refused(self, api: Sandbox, monkeypatch: Any) -> None:
        token = rendered()
        real = api.answer

        def shifted(request: httpx.Request) -> httpx.Response:
            answer = real(request)
            data = answer.json()
            data["amount_total"] = 1
            return httpx.Response(200, json=data)

        monkeypatch.setattr(api, "answer", shifted)
        response = start(token)
        assert response.status_code == 502 and Payment.objects.get().gateway_reference == ""

    @pytest.mark.parametrize(
        "alter",
        [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t, lambda t: ""],
        ids=["last-character", "prefix", "empty"],
    )
    def test_an_altered_token_creates_nothing(self, alter: Any, api: Sandbox) -> None:
        token = rendered()
        response = start(alter(token))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
        assert api.requests == [] and Checkout.objects.count() == 0

    def test_another_integrations_token_creates_nothing(self, api: Sandbox) -> None:
        from django.core import signing

        payment_token = rendered()
        claim = signing.loads(payment_token, salt="billing.start.stripe")
        foreign = signing.dumps(claim, salt="billing.start.mollie", compress=True)
        assert start(foreign).status_code == 400 and api.requests == []

    def test_a_paid_payment_is_not_started_again(self, api: Sandbox) -> None:
        token = rendered()
        Payment.objects.update(status=PaymentStatus.PAID)
        response = start(token)
        assert response.status_code == 409 and api.requests == []

    def test_after_a_decline_a_new_attempt_opens_a_new_session(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        token = rendered()
        start(token)
        first = Checkout.objects.get()
        message = stand_in_module.stand_in.notification(first.fields, status="failed")
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert status() == PaymentStatus.FAILED
        assert start(token).status_code == 303
        assert Checkout.objects.count() == 2

    def test_get_is_refused(self, shop: Any) -> None:
        assert Client().get("/billing/stripe/start/").status_code == 405

    def test_a_form_post_gateway_has_no_start(self, settings: Any) -> None:
        settings.MERCHANT_SETTINGS = {"dummy": {"MERCHANT_ID": "M", "SECRET": "s"}}
        assert Client().post("/billing/stripe/start/", {"token": "x"}).status_code == 404
        assert Client().post("/billing/dummy/start/", {"token": "x"}).status_code == 404

    def test_start_checkout_for_views_that_redirect_themselves(self, api: Sandbox) -> None:
        integration = get_integration("stripe")
        integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
        url = integration.start_checkout(RequestFactory().get("/", HTTP_HOST="shop.test"))
        assert url == f"{SANDBOX}/sandbox/stripe/checkout/{Checkout.objects.get().token}/"


@pytest.mark.django_db
def test_routes_work_mounted_seed_style(shop: Any) -> None:
    """``include(obj.urls)`` without billing.urls: the start route, and absolute return,
    cancel and notify URLs, without the ``billing`` namespace."""
    shop.BILLING_SITE_URL = "https://shop.example"
    integration = get_integration("stripe")
    module = types.ModuleType("tests._stripe_seed_urls")
    module.urlpatterns = [path("pay/stripe/", include(integration.urls))]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    shop.ROOT_URLCONF = module.__name__
    try:
        assert integration.service_url == "/pay/stripe/start/"
        assert integration.absolute_url("notify", None) == "https://shop.example/pay/stripe/notify/"
        back = integration.absolute_url("return", None, "ORDER-1")
        assert back is not None and back.startswith(
            "https://shop.example/pay/stripe/return/?ref=ORDER-1"
        )
        token = rendered()
        response = Client().post("/pay/stripe/start/", {"token": token[:-2]})
        assert response.status_code == 400
    finally:
        del sys.modules[module.__name__]


# -- the sandbox, end to end ----------------------------------------------------------------------


sandbox = settings_fixture("stripe", SETTINGS, sandbox_settings)


class TestStripeSandboxFlows(StandInFlows):
    """The shared flows; the customer's first stop is the shop's start/, which answers
    303 to the session's page at the sandbox, as Stripe's Checkout would."""

    slug = "stripe"
    service_path = "/billing/stripe/start/"
    page_shows = ("10.00 EUR", "ORDER-1", "Mug")
    secrets = (SECRET_KEY, WEBHOOK_SECRET)
    tampered = b'"amount_total": 1,'
    routed_api = Sandbox

    def shop_form(self, **extra: str) -> dict[str, str]:
        return order_form("stripe", **extra)

    def test_decline_reports_a_failed_delayed_payment(self, live: Customer) -> None:
        live.pay("decline")
        sent = SentNotification.objects.get()
        # The sandbox's record keeps 32 characters of the event type.
        assert "checkout.session.async_payment_failed".startswith(sent.status)
        assert Payment.objects.get().status == PaymentStatus.FAILED


# -- the session, fetched back (reconciliation) -------------------------------------------------

FETCHED = {
    "id": "cs_test_KAT",
    "object": "checkout.session",
    "amount_total": 1000,
    "currency": "eur",
    "client_reference_id": "ORDER-1",
    "metadata": {"reference": "ORDER-1"},
    "livemode": False,
    "payment_intent": "pi_KAT",
    "payment_status": "paid",
    "status": "complete",
    "url": None,
}


def fetched(**change: Any) -> bytes:
    return json.dumps({**FETCHED, **change}).encode()


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, "paid"),
        ({"status": "open", "payment_status": "unpaid", "payment_intent": None}, "unknown"),
        ({"payment_status": "unpaid"}, "unknown"),  # a delayed method, running or failed
        ({"payment_status": "no_payment_required"}, "unknown"),
        ({"status": "expired", "payment_status": "unpaid", "payment_intent": None}, "cancelled"),
    ],
)
def test_a_fetched_session_is_paid_only_when_it_says_paid(
    change: dict[str, Any], status: str
) -> None:
    inbound = Inbound(fetched(**change), "application/json", "FETCH", kind="fetch")
    fields = stripe.read(inbound)
    n = stripe.notification(fields, account(), "stripe")
    assert n.status == status and (n.reference, n.currency) == ("ORDER-1", "EUR")
    assert n.amount == Decimal("10.00") and n.test
    assert n.transaction_id == (change.get("payment_intent", "pi_KAT") or "cs_test_KAT")
    assert stripe.verify(fields, inbound, account()) is Verification.VALID


def test_only_billings_own_fetch_is_authentic_by_construction() -> None:
    from billing.exceptions import MalformedNotification

    body = fetched()
    fields = stripe.read(Inbound(body, "application/json", "FETCH", kind="fetch"))
    # A fetch row that billing did not store (another method) is not accepted.
    posted_as_fetch = Inbound(body, "application/json", "POST", kind="fetch")
    assert stripe.verify(fields, posted_as_fetch, account()) is Verification.INVALID
    # Posted to notify/ (whatever the method), a session is not an event at all.
    for method in ("POST", "FETCH"):
        with pytest.raises(MalformedNotification):
            stripe.read(Inbound(body, "application/json", method, kind="notify"))
    # And verify never takes a session's fields for a posted notification.
    posted = Inbound(body, "application/json", "POST", kind="notify")
    assert stripe.verify(fields, posted, account()) is Verification.INVALID
    # An event in a fetch row is not a session.
    with pytest.raises(MalformedNotification):
        stripe.read(Inbound(KAT_BODY, "application/json", "FETCH", kind="fetch"))


@pytest.mark.django_db
def test_a_session_posted_to_notify_changes_nothing(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rendered()
    body = fetched(amount_total=1000)
    response = deliver(Delivery(body, "application/json"), django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING


@pytest.mark.django_db
def test_a_fetched_live_session_on_a_test_shop_is_held(shop: Any) -> None:
    from billing.pipeline import process_fetched

    rendered()
    integration = get_integration("stripe")
    body = fetched(livemode=True)
    assert process_fetched(integration, None, kind="fetch", body=body) == Outcome.HELD
    assert status() == PaymentStatus.REVIEW
    log = NotificationLog.objects.get()
    assert (log.kind, log.method, log.verification) == ("fetch", "FETCH", Verdict.VALID)


class FakeApi:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def account(self) -> Account:
        client = httpx.Client(transport=httpx.MockTransport(self))
        return Account(SETTINGS, test=True, endpoint=lambda key: "https://api.test", client=client)


def test_fetch_session_asks_stripe_with_the_key() -> None:
    api = FakeApi(httpx.Response(200, content=fetched()))
    assert stripe.fetch_session("cs_test_KAT", api.account()) == fetched()
    [request] = api.requests
    assert request.method == "GET"
    assert str(request.url) == "https://api.test/v1/checkout/sessions/cs_test_KAT"
    assert request.headers["Authorization"] == f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize(
    "answers",
    [
        [httpx.ConnectError("refused"), httpx.Response(200, content=fetched())],
        [httpx.ReadTimeout("slow"), httpx.Response(200, content=fetched())],
        [httpx.Response(503), httpx.Response(200, content=fetched())],
        [httpx.Response(429), httpx.Response(200, content=fetched())],
    ],
    ids=["unreachable", "timeout", "5xx", "429"],
)
def test_fetch_session_retries_once(answers: list[Any]) -> None:
    api = FakeApi(*answers)
    assert stripe.fetch_session("cs_test_KAT", api.account()) == fetched()
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    "answers",
    [
        [httpx.ConnectError("refused")] * 2,
        [httpx.Response(502)] * 2,
        [httpx.Response(503, headers={"Stripe-Should-Retry": "false"})],
        [httpx.Response(401, json={"error": {"message": f"Invalid API Key {SECRET_KEY}"}})],
        [httpx.Response(404, json={"error": {"code": "resource_missing"}})],
        [httpx.Response(200, text="<html>gateway timeout</html>")],
        [httpx.Response(200, json={"object": "event", "id": "cs_test_KAT"})],
        [httpx.Response(200, content=fetched(id="cs_test_OTHER"))],
    ],
    ids=["down", "5xx", "no-retry", "bad-key", "unknown", "junk", "not-a-session", "other"],
)
def test_fetch_session_never_accepts_what_it_could_not_ask(answers: list[Any]) -> None:
    from billing.exceptions import VerificationUnavailable

    api = FakeApi(*answers)
    with pytest.raises(VerificationUnavailable) as failed:
        stripe.fetch_session("cs_test_KAT", api.account())
    assert SECRET_KEY not in str(failed.value)


@pytest.mark.parametrize("bad", ["", "pi_123", "cs_test_../../v1/charges", "cs_a?b=c", "cs_é"])
def test_fetch_session_asks_only_for_a_session_id(bad: str) -> None:
    from billing.exceptions import InvalidData

    api = FakeApi()
    with pytest.raises(InvalidData):
        stripe.fetch_session(bad, api.account())
    assert api.requests == []


@pytest.mark.django_db
class TestStandInRetrieve:
    def url(self, session_id: str) -> str:
        return f"/sandbox/stripe/v1/checkout/sessions/{session_id}"

    def test_needs_the_secret_key(self, api: Sandbox) -> None:
        start(rendered())
        session_id = Checkout.objects.get().token
        assert Client().get(self.url(session_id)).status_code == 401
        wrong = {"Authorization": "Bearer sk_test_wrong"}
        assert Client().get(self.url(session_id), headers=wrong).status_code == 401

    def test_an_unknown_session_is_a_404(self, api: Sandbox) -> None:
        auth = {"Authorization": f"Bearer {SECRET_KEY}"}
        response = Client().get(self.url("cs_test_nothing"), headers=auth)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "resource_missing"

    def test_the_session_as_it_stands(self, api: Sandbox, monkeypatch: Any) -> None:
        from billing.sandbox import views as sandbox_views
        from billing.sandbox.delivery import Attempt

        monkeypatch.setattr(
            sandbox_views, "deliver", lambda url, message, **kw: [Attempt(url, None, "lost", 0)]
        )
        start(rendered())
        session_id = Checkout.objects.get().token
        auth = {"Authorization": f"Bearer {SECRET_KEY}"}
        before = Client().get(self.url(session_id), headers=auth).json()
        assert (before["status"], before["payment_status"]) == ("open", "unpaid")
        assert before["id"] == session_id and before["url"].endswith(f"/{session_id}/")
        assert before["amount_total"] == 1000 and before["client_reference_id"] == "ORDER-1"
        decide = f"/sandbox/stripe/checkout/{session_id}/decide/"
        Client().post(decide, {"action": "approve", "send": "normal"})
        after = Client().get(self.url(session_id), headers=auth).json()
        event = json.loads(bytes(SentNotification.objects.get().body))
        assert (after["status"], after["payment_status"]) == ("complete", "paid")
        assert after["payment_intent"] == event["data"]["object"]["payment_intent"]
        assert after["payment_intent"].startswith("pi_") and after["url"] is None

    def test_off_when_the_sandbox_is_off(self, api: Sandbox, settings: Any) -> None:
        start(rendered())
        settings.BILLING_SANDBOX = False
        auth = {"Authorization": f"Bearer {SECRET_KEY}"}
        response = Client().get(self.url(Checkout.objects.get().token), headers=auth)
        assert response.status_code == 404 and b"sandbox is off" in response.content
