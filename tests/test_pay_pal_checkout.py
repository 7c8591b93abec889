"""PayPal Checkout (Orders v2): the conformance suite, the start/ route, the capture on
return, webhooks confirmed by verify-webhook-signature, reconciliation and attacks.

The shop's outbound HTTP is routed into this process's URLconf, where the sandbox's
stand-in plays PayPal's API (written from PayPal's references, not from the shop's
code). Known answer: the signed message is ``<transmission id>|<time>|<webhook id>|
<crc32 of the body, decimal>``; the CRC of ``KAT_BODY`` was computed outside our code,
from gzip's trailer: ``printf '%s' "$body" | gzip -c | tail -c8 | od -An -tu4 -N4``
(1330174481). The fact sheet's message string (GATEWAYS_API.md section 3, from the
legacy SDK's notifications_test.py) is checked for its format.
"""

import json
import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from billing import get_integration, http
from billing.exceptions import IntegrationNotConfigured, InvalidData
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.pipeline import process_fetched
from billing.protocols import pay_pal_checkout as paypal
from billing.sandbox.gateways import pay_pal_checkout as stand_in_module
from billing.sandbox.gateways.base import Variation
from billing.sandbox.models import Checkout, SentNotification
from billing.testing.conformance import Delivery, IntegrationConformance
from billing.testing.routing import InProcessApi
from billing.testing.routing import routed as in_process
from tests.helpers import (
    deliverer,
    outcomes,
    settings_fixture,
    signed_ref,
    start_while_down,
    starter,
    token_renderer,
)
from tests.sandbox_helpers import (
    Customer,
    StandInFlows,
    logs,
    order_form,
    sandbox_settings,
)

SLUG = "pay_pal_checkout"
CLIENT_ID = "test-client-id-0000"
CLIENT_SECRET = "test-client-secret-EK0000000000"
WEBHOOK_ID = "4JH86294D6297924G"
SETTINGS = {"CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET, "WEBHOOK_ID": WEBHOOK_ID}
stand_in = stand_in_module.stand_in

KAT_BODY = b'{"id":"WH-KAT","event_type":"PAYMENT.CAPTURE.COMPLETED"}'
KAT_CRC = 1330174481
SHEET = "dfb3be50-fd74-11e4-8bf3-77339302725b|2015-05-18T15:45:13Z|4JH86294D6297924G|2771810304"


class Api(InProcessApi):
    """billing's outbound HTTP answered by the sandbox's PayPal API, in process."""

    def __init__(self) -> None:
        super().__init__(lambda status: {"name": "INTERNAL_SERVER_ERROR"})


def fresh_api() -> Api:
    """PayPal's API, with no OAuth token cached from an earlier test."""
    paypal.forget_tokens()
    return Api()


shop = settings_fixture(SLUG, SETTINGS, sandbox_settings)


@pytest.fixture
def api(shop: Any) -> Any:
    with in_process(fresh_api()) as routed:
        yield routed
    paypal.forget_tokens()


# -- known answers ----------------------------------------------------------------------------


def test_the_signed_message_known_answer() -> None:
    message = stand_in_module.signed_message("tid", "2026-12-01T00:00:00Z", WEBHOOK_ID, KAT_BODY)
    assert message == f"tid|2026-12-01T00:00:00Z|{WEBHOOK_ID}|{KAT_CRC}".encode()
    tid, when, webhook, crc = SHEET.split("|")
    assert crc.isdigit() and int(crc) < 2**32 and webhook == WEBHOOK_ID  # the sheet's shape


def test_signatures_hold_only_for_their_message() -> None:
    signature = stand_in_module.sign("tid", "t", WEBHOOK_ID, KAT_BODY)
    good = stand_in_module.signed_message("tid", "t", WEBHOOK_ID, KAT_BODY)
    assert stand_in_module.signature_holds(signature, good)
    for other in (
        stand_in_module.signed_message("tid", "t", "OTHERWEBHOOK", KAT_BODY),
        stand_in_module.signed_message("tid", "t", WEBHOOK_ID, KAT_BODY + b" "),
    ):
        assert not stand_in_module.signature_holds(signature, other)


def test_the_verification_request_embeds_the_event_byte_for_byte() -> None:
    body = b'{ "id" : "WH-1",\n "event_type":"X", "resource": {"id": "C"} }'
    inbound = paypal.Inbound(
        body,
        "application/json",
        headers={name: "v" for name in paypal.TRANSMISSION_HEADERS},
    )
    request = paypal.verification_request(inbound, WEBHOOK_ID)
    assert request is not None and request.endswith(b',"webhook_event":' + body + b"}")
    assert json.loads(request)["webhook_id"] == WEBHOOK_ID
    missing = paypal.Inbound(body, headers={paypal.TRANSMISSION_ID: "v"})
    assert paypal.verification_request(missing, WEBHOOK_ID) is None


def test_order_parameters_and_body() -> None:
    account = paypal.Account(SETTINGS, test=True, endpoint=str)
    params = paypal.form(
        {
            "reference": "ORDER-1",
            "amount": Decimal("10.00"),
            "currency": "EUR",
            "description": "Mug",
            "return_url": "https://shop.test/r/",
            "cancel_url": "https://shop.test/c/",
            "brand_name": "Shop",
            "notify_url": "https://shop.test/n/",
        },
        account,
    )
    body = json.loads(paypal.order_body(params))
    unit = body["purchase_units"][0]
    assert body["intent"] == "CAPTURE"
    assert unit["reference_id"] == unit["custom_id"] == "ORDER-1"
    assert unit["amount"] == {"currency_code": "EUR", "value": "10.00"}
    context = body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://shop.test/r/"
    assert context["cancel_url"] == "https://shop.test/c/"
    assert context["brand_name"] == "Shop" and "notify_url" not in json.dumps(body)
    assert paypal.terms(params, account).amount == Decimal("10.00")
    with pytest.raises(InvalidData):
        paypal.form({**_order_fields(), "intent": "AUTHORIZE"}, account)
    with pytest.raises(InvalidData):  # PayPal takes no decimals in JPY
        paypal.form({**_order_fields(), "currency": "JPY", "amount": Decimal("10.50")}, account)
    assert paypal.money_value(Decimal("1000"), "JPY") == "1000"


def _order_fields() -> dict[str, Any]:
    return {
        "reference": "ORDER-1",
        "amount": Decimal("10.00"),
        "currency": "EUR",
        "return_url": "https://shop.test/r/",
        "cancel_url": "https://shop.test/c/",
    }


def test_webhook_id_must_look_like_one(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {SLUG: {**SETTINGS, "WEBHOOK_ID": "not an id!"}}
    with pytest.raises(IntegrationNotConfigured):
        get_integration(SLUG)


# -- the conformance suite --------------------------------------------------------------------


class TestPayPalCheckoutConformance(IntegrationConformance):
    """The gateway's side is given the order's parameters the start view sends, as
    PayPal received them; the shop confirms each webhook with the stand-in's
    verify-webhook-signature, reached through the routed client."""

    slug = "pay_pal_checkout"
    merchant_settings = SETTINGS
    currency = "USD"
    routed_api = fresh_api

    def secrets(self) -> list[str]:
        return [CLIENT_SECRET]


# -- helpers -------------------------------------------------------------------------------------


rendered = token_renderer(SLUG, "EUR")
start = starter(SLUG)


def opened(reference: str = "ORDER-1", amount: str = "10.00") -> Checkout:
    """The order created at the sandbox for a new payment (start/ answered 303)."""
    response = start(rendered(reference, amount))
    assert response.status_code == 303, response.content
    order_id = (
        parse_qs(urlsplit(response["Location"]).query).get("token", [""])[0]
        or (response["Location"].rstrip("/").rsplit("/", 1)[1])
    )
    return Checkout.objects.get(token=order_id, gateway=SLUG)


def decide(checkout: Checkout, action: str = "approve", **options: Any) -> Any:
    """As the approval page decides: the webhook PayPal would send (not delivered)."""
    status = {"approve": "paid", "decline": "failed"}[action]
    checkout.decision = {"approve": "approved", "decline": "declined"}[action]
    checkout.save(update_fields=["decision"])
    vary = replace(options.pop("vary", Variation()), **options)  # amount=..., or vary=...
    message = stand_in.notification(checkout.fields, status=status, vary=vary)
    SentNotification.objects.create(
        gateway=SLUG,
        checkout=checkout,
        body=message.body,
        authentic=True,
        transaction_id=message.transaction_id,
        status=message.status[:32],
    )
    return message


def come_back(checkout: Checkout, reference: str = "ORDER-1", token: str | None = None) -> Any:
    order_id = checkout.token if token is None else token
    url = f"/billing/{SLUG}/return/?{signed_ref(SLUG, reference)}&token={order_id}&PayerID=P1"
    return Client().get(url)


deliver = deliverer(SLUG)


def status(reference: str = "ORDER-1") -> str:
    return Payment.objects.get(integration=SLUG, reference=reference).status


CAPTURE = "/capture"


# -- the start/ route ----------------------------------------------------------------------------


@pytest.mark.django_db
class TestStart:
    def test_start_creates_the_order_and_redirects_to_the_payer_action(self, api: Api) -> None:
        token = rendered()
        response = start(token)
        assert response.status_code == 303
        assert f"/sandbox/{SLUG}/checkout/" in response["Location"]
        create = next(r for r in api.requests if r.url.path.endswith("/v2/checkout/orders"))
        assert create.headers["PayPal-Request-Id"].startswith(f"billing-{SLUG}-")
        assert create.headers["Authorization"].startswith("Bearer ")
        body = json.loads(create.content)
        assert body["intent"] == "CAPTURE"
        assert body["purchase_units"][0]["custom_id"] == "ORDER-1"
        payment = Payment.objects.get()
        checkout = Checkout.objects.get()
        assert payment.gateway_reference == checkout.token
        assert checkout.fields["value"] == "10.00" and checkout.fields["currency_code"] == "EUR"

    def test_a_double_click_opens_one_order_and_asks_one_token(self, api: Api) -> None:
        token = rendered()
        first, second = start(token), start(token)
        assert first["Location"] == second["Location"]
        assert Checkout.objects.count() == 1
        assert api.paths().count(f"/sandbox/{SLUG}/v1/oauth2/token") == 1  # cached

    def test_an_api_that_fails_gets_a_page_with_a_retry(self, api: Api) -> None:
        token = rendered()
        start_while_down(start, token, api, [500, 500])  # the token endpoint, twice (one retry)
        assert Checkout.objects.count() == 0 and Payment.objects.get().gateway_reference == ""
        assert start(token).status_code == 303

    def test_an_altered_token_creates_nothing(self, api: Api) -> None:
        token = rendered()
        response = start(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        assert response.status_code == 400
        assert api.requests == [] and Checkout.objects.count() == 0

    def test_a_wrong_secret_is_refused_and_never_logged(
        self, api: Api, monkeypatch: Any, caplog: Any
    ) -> None:
        caplog.set_level(logging.DEBUG)
        played = {**SETTINGS, "CLIENT_SECRET": "the-apps-real-secret-0000"}
        monkeypatch.setattr(stand_in_module, "account", lambda: played)
        token = rendered()
        assert start(token).status_code == 502
        assert CLIENT_SECRET not in caplog.text
        assert "Basic " not in caplog.text and "Bearer " not in caplog.text

    def test_an_order_for_another_amount_is_refused(self, api: Api) -> None:
        token = rendered()
        forward = api.handler

        def shifted(request: httpx.Request) -> httpx.Response:
            response = forward(request)
            if request.url.path.endswith("/v2/checkout/orders"):
                data = json.loads(response.content)
                data["purchase_units"][0]["amount"]["value"] = "0.01"
                return httpx.Response(201, json=data)
            return response

        http.set_client(httpx.Client(transport=httpx.MockTransport(shifted)))
        assert start(token).status_code == 502
        assert Payment.objects.get().gateway_reference == ""

    def test_a_shop_extra_cannot_replace_the_terms(self, api: Api) -> None:
        integration = get_integration(SLUG)
        integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
        integration.add_fields({"value": "0.01"})
        token = integration.generate_form()["token"]
        assert start(token).status_code == 502  # refused before anything is sent
        assert Checkout.objects.count() == 0


# -- the return: capture ------------------------------------------------------------------------


@pytest.mark.django_db
class TestReturn:
    def test_return_captures_once_and_pays(self, api: Api) -> None:
        checkout = opened()
        decide(checkout)
        assert come_back(checkout).status_code == 200
        assert status() == PaymentStatus.PAID
        capture = next(r for r in api.requests if r.url.path.endswith(CAPTURE))
        assert capture.headers["PayPal-Request-Id"] == f"billing-capture-{checkout.token}"
        log = NotificationLog.objects.get(kind="capture")
        assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.APPLIED)
        payment = Payment.objects.get()
        assert payment.transaction_id == stand_in_module.capture_id_for(checkout.token)
        come_back(checkout)  # paid: PayPal is not asked again
        assert sum(p.endswith(CAPTURE) for p in api.paths()) == 1

    def test_return_and_webhook_race_apply_once(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout)
        come_back(checkout)
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert outcomes(kind="capture") == [Outcome.APPLIED]
        assert outcomes(kind="notify") == [Outcome.DUPLICATE]
        assert Payment.objects.get().events.count() == 1

    def test_webhook_first_then_return(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout)
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert status() == PaymentStatus.PAID
        come_back(checkout)  # paid already: nothing captured
        assert not any(p.endswith(CAPTURE) for p in api.paths())
        assert outcomes(kind="notify") == [Outcome.APPLIED]

    def test_a_second_capture_answer_is_the_same_event(self, api: Api) -> None:
        """Even if two returns slipped past the guard, PayPal replays the capture (same
        PayPal-Request-Id) and the ledger applies it once."""
        checkout = opened()
        decide(checkout)
        integration = get_integration(SLUG)
        first = paypal.capture(checkout.token, integration.account)
        second = paypal.capture(checkout.token, integration.account)
        assert first == second
        for body in (first, second):
            assert body is not None
            process_fetched(integration, None, kind="capture", body=body)
        assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE]

    def test_already_captured_fetches_the_order(self, api: Api) -> None:
        checkout = opened()
        decide(checkout)
        integration = get_integration(SLUG)
        # Another path captured with another request id: PayPal says so (422).
        paypal.call(
            integration.account,
            "POST",
            f"/v2/checkout/orders/{checkout.token}/capture",
            body=b"{}",
            request_id="someone-else",
        )
        come_back(checkout)
        assert status() == PaymentStatus.PAID
        assert api.paths()[-1].endswith(f"/v2/checkout/orders/{checkout.token}")

    def test_unknown_order_makes_no_call(self, api: Api) -> None:
        checkout = opened()
        before = len(api.requests)
        for token in ("5O190127TN364715T", "../../v1/oauth2/token", "x" * 100, ""):
            come_back(checkout, token=token)
        assert len(api.requests) == before and status() == PaymentStatus.PENDING

    def test_another_payments_order_is_not_captured_from_this_return(self, api: Api) -> None:
        first = opened("ORDER-1")
        second = opened("ORDER-2")
        decide(second)
        before = len(api.requests)
        come_back(second, reference="ORDER-1")  # ref names ORDER-1, token ORDER-2's order
        assert len(api.requests) == before and status("ORDER-2") == PaymentStatus.PENDING
        assert first.token != second.token

    def test_repeated_returns_ask_paypal_once_a_minute(self, api: Api) -> None:
        checkout = opened()  # not approved: PayPal answers ORDER_NOT_APPROVED
        come_back(checkout)
        come_back(checkout)
        assert sum(p.endswith(CAPTURE) for p in api.paths()) == 1
        NotificationLog.objects.filter(kind="return").update(
            received_at=timezone.now() - timedelta(minutes=2)
        )
        come_back(checkout)
        assert sum(p.endswith(CAPTURE) for p in api.paths()) == 2
        assert status() == PaymentStatus.PENDING

    def test_paypal_down_on_return_applies_nothing(self, api: Api) -> None:
        checkout = opened()
        decide(checkout)
        api.down = [httpx.ConnectError("down"), httpx.ConnectError("down")]
        come_back(checkout)
        assert status() == PaymentStatus.PENDING
        assert not NotificationLog.objects.filter(kind="capture").exists()

    def test_a_declined_capture_applies_nothing(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout, "decline")
        come_back(checkout)  # 422 INSTRUMENT_DECLINED: the webhook tells
        assert status() == PaymentStatus.PENDING
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert status() == PaymentStatus.FAILED

    def test_a_pending_capture_is_not_paid(self, api: Api) -> None:
        checkout = opened()
        decide(checkout)
        SentNotification.objects.update(authentic=False)  # as after the tamper option
        come_back(checkout)
        assert status() == PaymentStatus.PENDING
        log = NotificationLog.objects.get(kind="capture")
        assert log.verification == Verdict.VALID


# -- webhooks: verify-webhook-signature ----------------------------------------------------------


@pytest.mark.django_db
class TestWebhooks:
    def test_unsigned_event_is_rejected_without_asking(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout)
        before = len(api.requests)
        response = deliver(
            Delivery(message.body, message.content_type), django_capture_on_commit_callbacks
        )
        assert response.status_code == 200
        assert outcomes() == [Outcome.REJECTED] and len(api.requests) == before

    def test_forged_and_tampered_events_are_rejected(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout)
        deliver(Delivery.of(stand_in.forge(message)), django_capture_on_commit_callbacks)
        deliver(Delivery.of(stand_in.tamper(message)), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED, Outcome.REJECTED]
        assert status() == PaymentStatus.PENDING
        assert api.paths()[-1].endswith("/v1/notifications/verify-webhook-signature")

    def test_another_apps_webhook_id_is_rejected(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        decide(checkout)
        from billing.sandbox.gateways.base import Variation

        other = stand_in.notification(
            checkout.fields, status="paid", vary=Variation(receiver="other")
        )
        deliver(Delivery.of(other), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED]

    def test_a_live_event_on_a_test_shop_is_rejected(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        decide(checkout)
        from billing.sandbox.gateways.base import Variation

        live = stand_in.notification(checkout.fields, status="paid", vary=Variation(test=False))
        deliver(Delivery.of(live), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    def test_could_not_ask_is_retried_never_accepted(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout)
        api.down = [503, 503]
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        log = NotificationLog.objects.get()
        assert (log.outcome, log.verification) == (Outcome.RETRY, Verdict.UNKNOWN)
        assert status() == PaymentStatus.PENDING

    def test_a_replayed_event_is_a_duplicate(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout)
        for _ in range(2):
            deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE]

    def test_a_posted_order_cannot_claim_to_be_fetched(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        decide(checkout)
        body = paypal.capture(checkout.token, get_integration(SLUG).account)
        assert body is not None
        response = deliver(
            Delivery(body, "application/json", headers={"X-Kind": "capture"}),
            django_capture_on_commit_callbacks,
        )
        assert response.status_code == 400  # an order is no webhook event
        assert status() == PaymentStatus.PENDING

    def test_an_amount_shifted_capture_is_held(
        self, api: Api, django_capture_on_commit_callbacks: Any
    ) -> None:
        checkout = opened()
        message = decide(checkout, amount=Decimal("0.01"))
        deliver(Delivery.of(message), django_capture_on_commit_callbacks)
        assert status() == PaymentStatus.REVIEW

    def test_refunds_full_and_partial(self, api: Api) -> None:
        checkout = opened()
        decide(checkout)
        come_back(checkout)
        payment = Payment.objects.get()
        integration = get_integration(SLUG)

        def refund(value: str, refund_id: str) -> dict[str, str]:
            event = {
                "id": f"WH-{refund_id}",
                "event_type": "PAYMENT.CAPTURE.REFUNDED",
                "resource": {
                    "id": refund_id,
                    "status": "COMPLETED",
                    "amount": {"currency_code": "EUR", "value": value},
                    "links": [
                        {
                            "rel": "up",
                            "href": "https://api-m.paypal.com/v2/payments/captures/"
                            + payment.transaction_id,
                        }
                    ],
                },
            }
            inbound = paypal.Inbound(json.dumps(event).encode(), "application/json")
            return integration.parse_notification(inbound)

        partial = integration.to_notification(refund("4.00", "R1"))
        assert partial.status == paypal.Status.UNKNOWN and partial.reference == "ORDER-1"
        full = integration.to_notification(refund("10.00", "R2"))
        assert full.status == paypal.Status.REFUNDED and full.reference == "ORDER-1"


# -- reconciliation -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestFetchStatus:
    def test_an_approved_order_whose_customer_left_is_captured(self, api: Api) -> None:
        checkout = opened()
        decide(checkout)
        integration = get_integration(SLUG)
        body = integration.fetch_status(Payment.objects.get())
        assert body is not None and paypal.order_status(body) == "COMPLETED"
        assert process_fetched(integration, None, kind="fetch", body=body) == Outcome.APPLIED
        assert status() == PaymentStatus.PAID

    def test_billing_reconcile_pays_a_closed_tab(self, api: Api) -> None:
        from billing.reconcile import reconcile_payment

        checkout = opened()
        decide(checkout)
        result = reconcile_payment(get_integration(SLUG), Payment.objects.get())
        assert result.result == Outcome.APPLIED and status() == PaymentStatus.PAID
        assert outcomes(kind="fetch") == [Outcome.APPLIED]

    def test_an_order_not_approved_changes_nothing(self, api: Api) -> None:
        opened()
        integration = get_integration(SLUG)
        body = integration.fetch_status(Payment.objects.get())
        assert body is not None
        assert process_fetched(integration, None, kind="fetch", body=body) == Outcome.IGNORED
        assert status() == PaymentStatus.PENDING

    def test_nothing_to_fetch_without_an_order(self, api: Api) -> None:
        rendered()
        assert get_integration(SLUG).fetch_status(Payment.objects.get()) is None

    def test_paypal_down_raises(self, api: Api) -> None:
        from billing.exceptions import VerificationUnavailable

        opened()
        api.down = [httpx.ConnectError("down"), httpx.ConnectError("down")]
        with pytest.raises(VerificationUnavailable):
            get_integration(SLUG).fetch_status(Payment.objects.get())


# -- the sandbox, end to end ----------------------------------------------------------------------


sandbox = settings_fixture(SLUG, SETTINGS, sandbox_settings)


class TestPayPalCheckoutSandboxFlows(StandInFlows):
    """The shared flows: the customer's first stop is the shop's start/, which answers
    303 to the order's approval page at the sandbox. The customer here does not follow
    the return (the capture is tried in TestReturn): the webhook decides."""

    slug = "pay_pal_checkout"
    service_path = f"/billing/{SLUG}/start/"
    page_shows = ("10.00 EUR", "ORDER-1", "Mug")
    secrets = (CLIENT_SECRET,)
    tampered = b'"value": "0.01"'
    routed_api = Api

    def shop_form(self, **extra: str) -> dict[str, str]:
        return order_form(SLUG, **extra)

    def test_a_return_after_the_webhook_captures_nothing(self, live: Customer) -> None:
        reply = live.pay("approve")  # the webhook pays ...
        assert Payment.objects.get().status == PaymentStatus.PAID
        live.http.get(reply.headers["location"])  # ... so the return captures nothing
        assert logs() == [("notify", Outcome.APPLIED), ("return", Outcome.RECEIVED)]

    def test_a_tampered_webhook_and_a_pending_capture_leave_it_waiting(
        self, live: Customer
    ) -> None:
        reply = live.pay("approve", send="tamper")
        live.http.get(reply.headers["location"])
        assert Payment.objects.get().status == PaymentStatus.PENDING
        assert logs() == [
            ("notify", Outcome.REJECTED),
            ("return", Outcome.RECEIVED),
            ("capture", Outcome.APPLIED),
        ]
