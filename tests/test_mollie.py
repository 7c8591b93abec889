"""Mollie: the conformance suite, reading Mollie's payment, the start/ route and attacks.

No signature to check: the webhook is ``id=tr_...`` and the payment fetched with the
shop's key is what is trusted. ``PAYMENT`` below is the shape of "Get payment" in
docs.mollie.com's API reference (its example, with our reference in ``metadata`` and
our own id): known answers for reading, written by us from that document.
"""

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client

from billing import get_integration
from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.pipeline import process, process_fetched
from billing.protocols import mollie
from billing.protocols.base import Account, Inbound, Verification
from billing.sandbox.gateways import mollie as stand_in_module
from billing.sandbox.gateways.base import Variation
from billing.sandbox.models import Checkout, SentNotification
from billing.testing.conformance import IntegrationConformance
from billing.testing.routing import InProcessApi
from tests.helpers import (
    assert_lost_answer_is_not_made_twice,
    outcomes,
    poster,
    routed_fixture,
    settings_fixture,
    signed_ref,
    start_while_down,
    starter,
    token_renderer,
)
from tests.sandbox_helpers import SANDBOX, Customer, StandInFlows, order_form, sandbox_settings

API_KEY = "test_tests0000000000000000000000"
SETTINGS = {"API_KEY": API_KEY}
stand_in = stand_in_module.stand_in

PAYMENT = {
    "resource": "payment",
    "id": "tr_KAT0000001",
    "mode": "test",
    "createdAt": "2026-12-01T12:00:00+00:00",
    "amount": {"value": "10.00", "currency": "EUR"},
    "description": "Order ORDER-1",
    "method": "ideal",
    "metadata": {"reference": "ORDER-1"},
    "status": "paid",
    "paidAt": "2026-12-01T12:01:00+00:00",
    "amountRefunded": {"value": "0.00", "currency": "EUR"},
    "amountRemaining": {"value": "10.00", "currency": "EUR"},
    "profileId": "pfl_QkEhN94Ba",
    "sequenceType": "oneoff",
    "redirectUrl": "https://shop.test/billing/mollie/return/?ref=ORDER-1&sig=x",
    "webhookUrl": "https://shop.test/billing/mollie/notify/",
    "_links": {"self": {"href": "https://api.mollie.com/v2/payments/tr_KAT0000001"}},
}


def account(**settings: Any) -> Account:
    return Account({**SETTINGS, **settings}, test=True, endpoint=lambda key: mollie.API_URL)


def fetched(**change: Any) -> dict[str, str]:
    return mollie.read_payment(json.dumps({**PAYMENT, **change}).encode())


# -- reading Mollie's payment --------------------------------------------------------------------


def test_the_payment_in_the_librarys_words() -> None:
    n = mollie.notification(fetched(), account(), "mollie")
    assert (n.reference, n.amount, n.currency, n.status, n.transaction_id, n.test) == (
        "ORDER-1",
        Decimal("10.00"),
        "EUR",
        "paid",
        "tr_KAT0000001",
        True,
    )
    assert n.event_key == "tr_KAT0000001:paid"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", "pending"),
        ("pending", "pending"),
        ("authorized", "pending"),
        ("paid", "paid"),
        ("failed", "failed"),
        ("canceled", "cancelled"),
        ("expired", "cancelled"),
        ("something-new", "unknown"),
    ],
)
def test_statuses(status: str, expected: str) -> None:
    n = mollie.notification(fetched(status=status), account(), "mollie")
    assert (n.status, n.gateway_status) == (expected, status)


def test_refunds_and_chargebacks() -> None:
    full = fetched(amountRefunded={"value": "10.00", "currency": "EUR"})
    n = mollie.notification(full, account(), "mollie")
    assert (n.status, n.amount, n.gateway_status) == ("refunded", Decimal("10.00"), "paid:refunded")
    partial = fetched(amountRefunded={"value": "4.00", "currency": "EUR"})
    n = mollie.notification(partial, account(), "mollie")
    assert (n.status, n.event_key) == ("paid", "tr_KAT0000001:paid")  # the same event
    back = fetched(amountChargedBack={"value": "10.00", "currency": "EUR"})
    assert mollie.notification(back, account(), "mollie").status == "reversed"


def test_live_mode_and_zero_decimal_currencies() -> None:
    live = mollie.notification(fetched(mode="live"), account(), "mollie")
    assert live.test is False
    yen = fetched(amount={"value": "1000", "currency": "JPY"}, amountRefunded=None)
    assert mollie.notification(yen, account(), "mollie").amount == Decimal("1000")
    with pytest.raises(MalformedNotification):  # EUR always has two decimals at Mollie
        mollie.notification(fetched(amount={"value": "10.0", "currency": "EUR"}), account(), "x")
    with pytest.raises(MalformedNotification):
        mollie.notification(fetched(mode=""), account(), "mollie")


@pytest.mark.parametrize(
    "body",
    [b"", b"id=", b"id=ord_123", b"id=tr_%00x", b"foo=tr_abc", b"\xff\xfe"],
    ids=["empty", "no-id", "an-order", "nul", "other-name", "binary"],
)
def test_a_webhook_without_a_payment_id_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedNotification):
        mollie.read(Inbound(body))


def test_the_webhook_says_nothing_until_fetched() -> None:
    fields = mollie.read(Inbound(b"id=tr_KAT0000001"))
    assert fields == {"id": "tr_KAT0000001", "ping": "id"}
    with pytest.raises(MalformedNotification):
        mollie.notification(fields, account(), "mollie")
    # Only a payment that billing fetched itself is authentic without asking.
    posted = Inbound(json.dumps(PAYMENT).encode(), kind="fetch", method="POST")
    assert mollie.verify(fetched(), posted, account()) is Verification.INVALID
    ours = Inbound(json.dumps(PAYMENT).encode(), kind="fetch", method="FETCH")
    assert mollie.verify(fetched(), ours, account()) is Verification.VALID


def test_payment_parameters() -> None:
    order = {
        "reference": "ORDER-1",
        "amount": Decimal("1000"),
        "currency": "JPY",
        "description": "Mug",
        "return_url": "https://shop.test/billing/mollie/return/?ref=ORDER-1&sig=x",
        "cancel_url": "https://shop.test/billing/mollie/cancel/?ref=ORDER-1&sig=x",
        "notify_url": "https://shop.test/billing/mollie/notify/",
        "locale": "nl_NL",
    }
    params = mollie.form(order, account())
    assert mollie.payment_body(params) == {
        "amount": {"currency": "JPY", "value": "1000"},
        "description": "Mug",
        "redirectUrl": order["return_url"],
        "cancelUrl": order["cancel_url"],
        "webhookUrl": order["notify_url"],
        "metadata": {"reference": "ORDER-1"},
        "locale": "nl_NL",
    }
    assert mollie.terms(params, account()).amount == Decimal("1000")
    eur = mollie.form({**order, "amount": Decimal("10"), "currency": "EUR"}, account())
    assert eur["amount.value"] == "10.00"
    with pytest.raises(InvalidData):  # an extra cannot replace billing's own
        mollie.form({**order, "webhookUrl": "https://evil.example/"}, account())
    with pytest.raises(InvalidData):
        mollie.form({**order, "amount": Decimal("10.50")}, account())


@pytest.mark.parametrize("bad", ["", "sk_test_123", "test_short", 42, None, "live_ " + "a" * 30])
def test_the_api_key_is_checked(bad: Any, settings: Any) -> None:
    from billing.exceptions import IntegrationNotConfigured

    settings.MERCHANT_SETTINGS = {"mollie": {"API_KEY": bad}}
    with pytest.raises(IntegrationNotConfigured):
        get_integration("mollie")


def test_keys_are_redacted() -> None:
    assert API_KEY not in mollie.redact(f"Bearer {API_KEY} failed")


# -- the sandbox's API, reached in-process ---------------------------------------------------------


class Sandbox(InProcessApi):
    """billing's outbound HTTP answered by the sandbox's Mollie API, in process."""

    def __init__(self) -> None:
        super().__init__(lambda status: {"status": status, "title": "Error"})


shop = settings_fixture("mollie", SETTINGS, sandbox_settings)
api = routed_fixture(Sandbox)


# -- the conformance suite --------------------------------------------------------------------


class TestMollieConformance(IntegrationConformance):
    """The gateway's side is given the payment's parameters that the start view sends, as
    Mollie received them; the shop's fetches reach the sandbox's API in-process."""

    slug = "mollie"
    merchant_settings = SETTINGS
    currency = "EUR"
    other_currency = "USD"
    routed_api = Sandbox

    def secrets(self) -> list[str]:
        return [API_KEY]


# -- attacks at notify/ -----------------------------------------------------------------------


rendered = token_renderer("mollie", "EUR")


def params(reference: str = "ORDER-1") -> dict[str, str]:
    integration = get_integration("mollie")
    payment = Payment.objects.get(integration="mollie", reference=reference)
    return mollie.form(integration.checkout_order(payment, {}, None), integration.account)


def ping(status: str = "paid", **options: Any) -> Any:
    vary = replace(options.pop("vary", Variation()), **options)  # amount=..., or vary=...
    return stand_in.notification(params(), status=status, vary=vary)


deliver = poster("mollie")


def status() -> str:
    return Payment.objects.get(integration="mollie").status


@pytest.mark.django_db
class TestAttacks:
    def test_paid_is_fetched_and_applied(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        message = ping()
        response = deliver(message.body, django_capture_on_commit_callbacks)
        assert response.status_code == 200 and response.content == b""
        assert outcomes() == [Outcome.APPLIED] and status() == PaymentStatus.PAID
        [get] = api.requests
        assert get.method == "GET" and get.url.path.endswith(
            f"/v2/payments/{message.transaction_id}"
        )
        assert get.headers["Authorization"] == f"Bearer {API_KEY}"
        log = NotificationLog.objects.get()
        assert bytes(log.body) == message.body and API_KEY not in json.dumps(log.headers)

    def test_an_unknown_id_changes_nothing_and_is_answered_alike(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        known = deliver(ping().body, django_capture_on_commit_callbacks)
        unknown = deliver(b"id=tr_NoSuchPayment", django_capture_on_commit_callbacks)
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
        assert outcomes() == [Outcome.APPLIED, Outcome.REJECTED]
        assert NotificationLog.objects.order_by("pk").last().verification == Verdict.INVALID

    def test_forged_ids_do_not_pay(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(stand_in.forge(ping()).body, django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    @pytest.mark.parametrize(
        "failure",
        [[httpx.ConnectError("refused")] * 2, [503, 503], [429, 429], ["junk", "junk"], [401]],
        ids=["unreachable", "5xx", "rate-limited", "not-json", "key-refused"],
    )
    def test_an_unreachable_api_is_retried_never_accepted(
        self, failure: list[Any], api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        message = ping()
        api.down = list(failure)
        response = deliver(message.body, django_capture_on_commit_callbacks)
        assert response.status_code == 200
        log = NotificationLog.objects.get()
        assert (log.outcome, log.verification) == (Outcome.RETRY, Verdict.UNKNOWN)
        assert status() == PaymentStatus.PENDING and API_KEY not in log.error
        api.down = []
        assert process(log.pk) == Outcome.APPLIED and status() == PaymentStatus.PAID

    def test_a_body_with_more_than_the_id_is_not_mollies(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(stand_in.tamper(ping()).body, django_capture_on_commit_callbacks)
        log = NotificationLog.objects.get()
        assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
        assert log.claimed_reference == "ORDER-1" and status() == PaymentStatus.PENDING

    def test_amount_shifted_payment_is_held(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(ping(amount=Decimal("1.00")).body, django_capture_on_commit_callbacks)
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.REVIEW
        assert "amount 1.00 instead of 10.00" in payment.review_reason

    def test_another_currency_is_held(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(ping(vary=Variation(currency="USD")).body, django_capture_on_commit_callbacks)
        assert status() == PaymentStatus.REVIEW

    def test_a_live_payment_on_a_test_shop_is_held(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(ping(vary=Variation(test=False)).body, django_capture_on_commit_callbacks)
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.REVIEW and "test=False" in payment.review_reason

    def test_another_accounts_payment_is_unknown_to_our_key(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        deliver(ping(vary=Variation(receiver="other")).body, django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    def test_duplicates_and_a_late_failure(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        body = ping().body
        deliver(body, django_capture_on_commit_callbacks)
        deliver(body, django_capture_on_commit_callbacks)
        deliver(ping("failed").body, django_capture_on_commit_callbacks)  # the same tr_
        assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE]
        assert status() == PaymentStatus.PAID and Payment.objects.get().events.count() == 1

    def test_a_refund_ping_refunds(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        message = ping()
        deliver(message.body, django_capture_on_commit_callbacks)
        checkout = Checkout.objects.get(token=message.transaction_id)
        checkout.fields = {**checkout.fields, "status": "paid"}
        checkout.save()
        # Mollie's record after a full refund; the sandbox does not play refunds itself.
        real = api.answer

        def refunded(request: httpx.Request) -> httpx.Response:
            data = real(request).json()
            data["amountRefunded"] = {"value": "10.00", "currency": "EUR"}
            return httpx.Response(200, json=data)

        api.answer = refunded  # type: ignore[method-assign]
        deliver(message.body, django_capture_on_commit_callbacks)
        assert outcomes() == [Outcome.APPLIED, Outcome.APPLIED] and status() == "refunded"


# -- the start/ route -----------------------------------------------------------------------------


start = starter("mollie")


@pytest.mark.django_db
class TestStart:
    def test_start_creates_the_payment_and_redirects(self, api: Sandbox) -> None:
        token = rendered()
        response = start(token, amount="0.01", currency="JPY")  # extra fields mean nothing
        assert response.status_code == 303
        payment = Payment.objects.get()
        checkout = Checkout.objects.get()
        assert payment.gateway_reference == checkout.token and checkout.token.startswith("tr_")
        assert response["Location"] == f"{SANDBOX}/sandbox/mollie/checkout/{checkout.token}/"
        [request] = api.requests
        assert str(request.url) == f"{SANDBOX}/sandbox/mollie/v2/payments"
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert request.headers["Idempotency-Key"].startswith(f"billing-mollie-{payment.pk}-0-")
        body = json.loads(request.content)
        assert body["amount"] == {"currency": "EUR", "value": "10.00"}
        assert body["metadata"] == {"reference": "ORDER-1"}
        assert body["redirectUrl"].startswith(
            "http://testserver/billing/mollie/return/?ref=ORDER-1"
        )
        assert body["cancelUrl"].startswith("http://testserver/billing/mollie/cancel/?ref=ORDER-1")
        assert body["webhookUrl"] == "http://testserver/billing/mollie/notify/"
        page = Client().get(response["Location"])
        assert "10.00 EUR" in page.content.decode()

    def test_a_double_click_opens_one_payment(self, api: Sandbox) -> None:
        token = rendered()
        first, second = start(token), start(token)
        assert first["Location"] == second["Location"] and Checkout.objects.count() == 1

    @pytest.mark.parametrize(
        "failure",
        [[httpx.ConnectError("x")] * 2, [503, 503], [httpx.ReadTimeout("slow")], ["junk"], [422]],
        ids=["unreachable", "5xx", "timeout", "bad-json", "4xx"],
    )
    def test_an_api_that_fails_gets_a_page_with_a_retry(
        self, failure: list[Any], api: Sandbox, caplog: Any
    ) -> None:
        token = rendered()
        text = start_while_down(start, token, api, failure)
        assert "We could not reach Mollie" in text and f'value="{token}"' in text
        assert Checkout.objects.count() == 0 and Payment.objects.get().gateway_reference == ""
        assert API_KEY not in caplog.text and API_KEY not in text
        assert start(token).status_code == 303 and Checkout.objects.count() == 1

    def test_a_payment_made_but_its_answer_lost_is_not_made_twice(self, api: Sandbox) -> None:
        assert_lost_answer_is_not_made_twice(start, rendered(), api)

    def test_a_payment_for_another_amount_or_mode_is_refused(
        self, api: Sandbox, monkeypatch: Any
    ) -> None:
        token = rendered()
        real = api.answer
        for change in ({"amount": {"value": "0.01", "currency": "EUR"}}, {"mode": "live"}):

            def shifted(request: httpx.Request, change: Any = change) -> httpx.Response:
                return httpx.Response(201, json={**real(request).json(), **change})

            monkeypatch.setattr(api, "answer", shifted)
            assert start(token).status_code == 502
            assert Payment.objects.get().gateway_reference == ""

    def test_an_altered_token_creates_nothing(self, api: Sandbox) -> None:
        token = rendered()
        assert start(token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 400
        assert api.requests == [] and Checkout.objects.count() == 0

    def test_after_a_decline_a_new_attempt_opens_a_new_payment(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        token = rendered()
        start(token)
        first = Checkout.objects.get()
        deliver(
            stand_in.notification(first.fields, status="failed").body,
            django_capture_on_commit_callbacks,
        )
        assert status() == PaymentStatus.FAILED
        assert start(token).status_code == 303 and Checkout.objects.count() == 2


# -- billing's own fetches: reconciliation and the customer's return -------------------------------


@pytest.mark.django_db
class TestFetched:
    def test_fetch_status_is_applied_like_a_notification(self, api: Sandbox) -> None:
        integration = get_integration("mollie")
        rendered()
        payment = Payment.objects.get()
        assert integration.fetch_status(payment) is None  # nothing created yet
        start(rendered())
        payment.refresh_from_db()
        stand_in.notification(Checkout.objects.get().fields, status="paid")
        body = integration.fetch_status(payment)
        assert body is not None and json.loads(body)["status"] == "paid"
        assert process_fetched(integration, None, kind="fetch", body=body) == Outcome.APPLIED
        log = NotificationLog.objects.get(kind="fetch")
        assert log.verification == Verdict.VALID and status() == PaymentStatus.PAID

    def test_fetch_status_when_the_api_is_down(self, api: Sandbox) -> None:
        from billing.exceptions import VerificationUnavailable

        start(rendered())
        api.down = [503, 503]
        with pytest.raises(VerificationUnavailable):
            get_integration("mollie").fetch_status(Payment.objects.get())

    def test_a_sender_cannot_post_a_fetched_payment(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        rendered()
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(
                "/billing/mollie/notify/", json.dumps(PAYMENT), content_type="application/json"
            )
        assert outcomes() == [Outcome.REJECTED] and status() == PaymentStatus.PENDING

    def test_the_return_asks_mollie_once_a_minute(self, api: Sandbox) -> None:
        start(rendered())
        stand_in.notification(Checkout.objects.get().fields, status="paid")  # webhook lost
        back = f"/billing/mollie/return/?{signed_ref('mollie')}"
        Client().get(back)
        assert status() == PaymentStatus.PAID
        assert outcomes(kind="fetch") == [Outcome.APPLIED]
        Payment.objects.update(status=PaymentStatus.PENDING)
        gets = len(api.requests)
        Client().get(back)
        assert len(api.requests) == gets  # within the minute: Mollie is not asked again
        Client().get("/billing/mollie/return/?ref=ORDER-1&sig=forged")
        assert len(api.requests) == gets


# -- the sandbox, end to end ----------------------------------------------------------------------


sandbox = settings_fixture("mollie", SETTINGS, sandbox_settings)


class TestMollieSandboxFlows(StandInFlows):
    """The customer's first stop is the shop's start/, which answers 303 to the
    payment's checkout at the sandbox, as Mollie's would."""

    slug = "mollie"
    service_path = "/billing/mollie/start/"
    page_shows = ("10.00 EUR", "ORDER-1", "Mug")
    secrets = (API_KEY,)
    tampered = b"&amount=0.01"
    routed_api = Sandbox

    def shop_form(self, **extra: str) -> dict[str, str]:
        return order_form("mollie", **extra)

    def test_the_webhook_is_only_the_id(self, live: Customer) -> None:
        live.pay("approve")
        sent = SentNotification.objects.get()
        assert bytes(sent.body) == f"id={sent.transaction_id}".encode()
