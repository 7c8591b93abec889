"""eWAY Rapid Responsive Shared Page: the protocol, the conformance suite, start/, the
return's fetch and its guard, reconciliation, and the sandbox's testing options.

eWAY signs nothing, so there are no known-answer vectors. ``RESULT`` below is a result
body written by hand from eWAY's response model (eway-rapid-php
``Model/Response/QueryAccessCodeResponse.php``) and the codes of its ``en.ini``
(A2000 approved, D4405 do not honour, S5099 incomplete), not produced by our code.
"""

import base64
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.http import HttpResponse
from django.test import Client

from billing import get_integration, http
from billing.exceptions import InvalidData, VerificationUnavailable
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.pipeline import process_fetched
from billing.protocols import eway
from billing.protocols.base import Account, Inbound, Status, Verification
from billing.sandbox.gateways import eway as stand_in_module
from billing.sandbox.models import Checkout
from billing.testing.conformance import Delivery, IntegrationConformance
from billing.testing.routing import InProcessApi
from tests.helpers import (
    routed_fixture,
    settings_fixture,
    start_while_down,
    starter,
    token_renderer,
)
from tests.sandbox_helpers import SANDBOX, sandbox_settings

API_KEY = "eway-tests-api-key-0000000000000000"
API_PASSWORD = "ewayTestsPass1"
SETTINGS = {"API_KEY": API_KEY, "API_PASSWORD": API_PASSWORD}

RESULT = {
    "AccessCode": "A1001KAT",
    "AuthorisationCode": "123456",
    "ResponseCode": "00",
    "ResponseMessage": "A2000",
    "InvoiceNumber": "",
    "InvoiceReference": "ORDER-1",
    "TotalAmount": 1000,
    "TransactionID": 11259580,
    "TransactionStatus": True,
    "TokenCustomerID": None,
    "BeagleScore": 0,
    "Options": [{"Value": "currency=AUD"}, {"Value": "mode=test"}],
    "Errors": None,
}


def account(test: bool = True, **settings: Any) -> Account:
    return Account({**SETTINGS, **settings}, test=test, endpoint=lambda key: SANDBOX)


def result(**change: Any) -> dict[str, str]:
    return eway.read(Inbound(json.dumps({**RESULT, **change}).encode()))


def fetched(body: bytes) -> Inbound:
    return Inbound(body, "application/json", method="FETCH", kind="fetch")


# -- the protocol -------------------------------------------------------------------------------

ORDER = {
    "reference": "ORDER-1",
    "amount": Decimal("10.00"),
    "currency": "AUD",
    "description": "Mug",
    "return_url": "https://shop.test/billing/eway/return/?ref=ORDER-1&sig=x",
    "cancel_url": "https://shop.test/billing/eway/cancel/?ref=ORDER-1&sig=x",
    "notify_url": "https://shop.test/billing/eway/notify/",
}


def test_access_code_request() -> None:
    params = eway.form({**ORDER, "Customer.Email": "buyer@example.com"}, account())
    body = eway.request_body(params)
    assert body["Payment"] == {
        "TotalAmount": 1000,
        "InvoiceReference": "ORDER-1",
        "InvoiceDescription": "Mug",
        "CurrencyCode": "AUD",
    }
    assert body["RedirectUrl"] == ORDER["return_url"] and body["CancelUrl"] == ORDER["cancel_url"]
    assert (body["Method"], body["TransactionType"]) == ("ProcessPayment", "Purchase")
    assert body["Options"] == [{"Value": "currency=AUD"}, {"Value": "mode=test"}]
    assert body["Customer"] == {"Email": "buyer@example.com"} and "notify_url" not in params
    assert eway.terms(params, account()).amount == Decimal("10.00")
    jpy = eway.form({**ORDER, "currency": "JPY", "amount": Decimal("1000")}, account())
    assert jpy["Payment.TotalAmount"] == "1000"  # the lowest denomination: yen
    live = eway.form(ORDER, account(test=False))
    assert live["Options.1.Value"] == "mode=live"


@pytest.mark.parametrize(
    "extra",
    [{"Payment.TotalAmount": "1"}, {"RedirectUrl": "https://evil.test/"}, {"Options.0.Value": "x"}],
)
def test_extras_cannot_replace_billings_fields(extra: dict[str, str]) -> None:
    with pytest.raises(InvalidData):
        eway.form({**ORDER, **extra}, account())


def test_a_reference_eway_cannot_hold_is_refused() -> None:
    with pytest.raises(InvalidData):
        eway.form({**ORDER, "reference": "R" * 51}, account())


def test_the_result_in_the_librarys_words() -> None:
    n = eway.notification(result(), account(), "eway")
    assert (n.reference, n.amount, n.currency, n.status, n.test) == (
        "ORDER-1",
        Decimal("10.00"),
        "AUD",
        Status.PAID,
        True,
    )
    assert (n.transaction_id, n.gateway_status, n.event_key) == (
        "11259580",
        "A2000",
        "11259580:A2000",
    )


@pytest.mark.parametrize(
    ("change", "status", "word"),
    [
        (
            {"TransactionStatus": False, "ResponseMessage": "D4405", "ResponseCode": "05"},
            "failed",
            "D4405",
        ),
        ({"TransactionStatus": False, "ResponseMessage": "D4451"}, "failed", "D4451"),
        ({"TransactionStatus": False, "ResponseMessage": "F7003"}, "failed", "F7003"),
        ({"TransactionStatus": False, "ResponseMessage": "D4405, F7003"}, "failed", "D4405"),
        # Not yet: the access code is in progress or incomplete, which is no failure.
        (
            {
                "TransactionStatus": False,
                "TransactionID": None,
                "ResponseMessage": None,
                "Errors": "S5099",
            },
            "pending",
            "S5099",
        ),
        (
            {"TransactionStatus": False, "TransactionID": None, "ResponseMessage": None},
            "pending",
            "incomplete",
        ),
        ({"ResponseMessage": "A2010", "TotalAmount": 500}, "paid", "A2010"),  # partial: held
    ],
)
def test_status_mapping(change: dict[str, Any], status: str, word: str) -> None:
    n = eway.notification(result(**change), account(), "eway")
    assert (n.status, n.gateway_status) == (status, word)


def test_the_echo_names_currency_and_mode() -> None:
    bare = eway.notification(result(Options=[]), account(), "eway")
    assert (bare.currency, bare.amount, bare.test) == ("", None, True)  # held: no currency
    live = eway.notification(
        result(Options=[{"Value": "currency=JPY"}, {"Value": "mode=live"}], TotalAmount=1000),
        account(),
        "eway",
    )
    assert (live.currency, live.amount, live.test) == ("JPY", Decimal("1000"), False)


def test_only_billings_own_fetch_is_authentic() -> None:
    body = json.dumps(RESULT).encode()
    fields = eway.read(Inbound(body))
    assert eway.verify(fields, fetched(body), account()) is Verification.VALID
    for inbound in (
        Inbound(body, "application/json"),  # posted to notify/
        Inbound(body, "application/json", method="GET", kind="return"),
        Inbound(body, "application/json", method="FETCH", kind="notify"),
        Inbound(body, "application/json", method="POST", kind="fetch"),
    ):
        assert eway.verify(fields, inbound, account()) is Verification.INVALID


@pytest.mark.parametrize("body", [b"", b"[]", b'{"TotalAmount": 1}', b"\xff"])
def test_what_is_no_result_is_malformed(body: bytes) -> None:
    from billing.exceptions import MalformedNotification

    with pytest.raises(MalformedNotification):
        eway.read(Inbound(body))


# -- routing billing's HTTP into the sandbox --------------------------------------------------


class Sandbox(InProcessApi):
    """billing's outbound HTTP answered by the sandbox's eWAY API, in process; ``answer``
    a fixed body for GET /AccessCode."""

    def __init__(self) -> None:
        super().__init__(lambda status: {"Message": "error"})
        self.fixed: bytes | None = None

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.fixed is not None and request.method == "GET":
            return httpx.Response(200, content=self.fixed)
        return super().answer(request)


shop = settings_fixture("eway", SETTINGS, sandbox_settings)
api = routed_fixture(Sandbox)


# -- the conformance suite ------------------------------------------------------------------------


class TestEwayConformance(IntegrationConformance):
    """eWAY's notification is its answer to billing's GET. A delivery the stand-in makes
    is that answer: it is fetched (through fetch_status, as reconciliation does) and
    processed as a fetched row. Anything else, a forgery or another account's result, can
    only be posted to the shop, and goes to notify/."""

    slug = "eway"
    merchant_settings = SETTINGS
    currency = "AUD"
    routed_api = Sandbox
    api: Sandbox

    def form(
        self, reference: str = "ORDER-1", amount: str = "10.00", **extra: str
    ) -> dict[str, str]:
        """The access code's parameters, its code recorded on the payment as start/ does."""
        params = super().form(reference, amount, **extra)
        payment = self.payment(reference)
        code = f"A1001conformance{payment.pk}"
        Payment.objects.filter(pk=payment.pk).update(gateway_reference=code)
        return {**params, "AccessCode": code}

    def gateway_notification(self, form: dict[str, str], **kwargs: Any) -> Delivery:
        delivery = super().gateway_notification(form, **kwargs)
        if kwargs.get("receiver"):  # another account's result never answers our key
            return Delivery(delivery.body, delivery.content_type)
        return Delivery(delivery.body, delivery.content_type, headers={"X-Fetched": "yes"})

    def forge(self, form: dict[str, str]) -> Delivery:
        delivery = super().gateway_notification(form)
        return Delivery(delivery.body, delivery.content_type)

    def deliver(self, delivery: Delivery, capture: Any) -> Any:
        if delivery.headers.get("X-Fetched") != "yes":
            return super().deliver(delivery, capture)
        integration = get_integration(self.slug)
        code = json.loads(delivery.body)["AccessCode"]
        self.api.fixed = delivery.body
        with capture(execute=True):
            body = eway.fetch_result(code, integration.account)
            process_fetched(integration, None, kind="fetch", body=body)
        return HttpResponse()

    def secrets(self) -> list[str]:
        return [API_KEY, API_PASSWORD]

    def test_tampered_amount_changes_nothing(
        self, signals: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        """Nothing is signed: an amount rewritten in the answer is bound, and held."""
        delivery = self.tamper(self.gateway_notification(self.form()))
        self.deliver(delivery, django_capture_on_commit_callbacks)
        payment = self.payment()
        assert payment.status == PaymentStatus.REVIEW and "amount 0.01" in payment.review_reason
        assert signals.successful == []


# -- start/ -------------------------------------------------------------------------------------


rendered = token_renderer("eway", "AUD")
start = starter("eway")


def status() -> str:
    return Payment.objects.get(integration="eway").status


@pytest.mark.django_db
class TestStart:
    def test_start_creates_the_access_code_and_redirects(self, api: Sandbox) -> None:
        response = start(rendered(), amount="0.01", currency="JPY")  # extras mean nothing
        assert response.status_code == 303
        checkout = Checkout.objects.get()
        payment = Payment.objects.get()
        assert payment.gateway_reference == checkout.token == checkout.fields["AccessCode"]
        assert response["Location"] == f"{SANDBOX}/sandbox/eway/checkout/{checkout.token}/"
        assert checkout.fields["Payment.TotalAmount"] == "1000"
        assert checkout.fields["Payment.CurrencyCode"] == "AUD"
        [request] = api.requests
        assert str(request.url) == f"{SANDBOX}/sandbox/eway/AccessCodesShared"
        assert request.headers["Authorization"].startswith("Basic ")
        assert json.loads(request.content)["Payment"]["TotalAmount"] == 1000
        assert checkout.fields["RedirectUrl"].startswith(
            "http://testserver/billing/eway/return/?ref=ORDER-1&sig="
        )
        page = Client().get(response["Location"])
        assert "10.00 AUD" in page.content.decode()
        assert API_KEY not in page.content.decode()

    @pytest.mark.parametrize(
        "failure",
        [
            [httpx.ConnectError("refused"), httpx.ConnectError("refused")],
            [503],
            [httpx.ReadTimeout("slow")],
            ["junk"],
            [401],
            [{"AccessCode": None, "Errors": "V6011,V6047"}],
        ],
        ids=["unreachable", "5xx", "timeout", "bad-json", "401", "errors"],
    )
    def test_an_api_that_fails_gets_a_page_with_a_retry(
        self, failure: list[Any], api: Sandbox, caplog: Any
    ) -> None:
        token = rendered()
        text = start_while_down(start, token, api, failure)
        assert "We could not reach eWAY" in text and f'value="{token}"' in text
        assert Payment.objects.get().gateway_reference == ""
        for secret in (API_KEY, API_PASSWORD):
            assert secret not in caplog.text and secret not in text
        assert start(token).status_code == 303  # the API is back

    def test_the_sandbox_refuses_a_bad_key(self, shop: Any) -> None:
        wrong = "Basic " + base64.b64encode(f"{API_KEY}:wrong".encode()).decode()
        response = Client().post(
            "/sandbox/eway/AccessCodesShared", b"{}", "application/json", HTTP_AUTHORIZATION=wrong
        )
        assert response.status_code == 401 and Checkout.objects.count() == 0

    def test_an_altered_token_creates_nothing(self, api: Sandbox) -> None:
        token = rendered()
        assert start(token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 400
        assert api.requests == [] and Checkout.objects.count() == 0

    def test_an_access_code_for_another_amount_is_refused(
        self, api: Sandbox, monkeypatch: Any
    ) -> None:
        token = rendered()
        real = api.handler

        def shifted(request: httpx.Request) -> httpx.Response:
            answer = real(request)
            data = json.loads(answer.content)
            data["Payment"]["TotalAmount"] = 1
            return httpx.Response(200, json=data)

        monkeypatch.setattr(api, "handler", shifted)
        http.set_client(httpx.Client(transport=httpx.MockTransport(shifted)))
        assert start(token).status_code == 502
        assert Payment.objects.get().gateway_reference == ""


# -- the return, its fetch and its guard -----------------------------------------------------------


def decide(location: str, action: str = "approve", **options: str) -> str:
    """The customer on the sandbox's page: decide; where the sandbox sends them."""
    token = location.rstrip("/").rsplit("/", 1)[1]
    response = Client().post(
        f"/sandbox/eway/checkout/{token}/decide/", {"action": action, **options}
    )
    assert response.status_code == 302, response.content
    return response["Location"]


def back(url: str) -> Any:
    return Client().get(url.removeprefix("http://testserver"))


def fetch_rows() -> list[str]:
    return list(
        NotificationLog.objects.filter(kind="fetch")
        .order_by("pk")
        .values_list("outcome", flat=True)
    )


@pytest.mark.django_db
class TestReturn:
    def opened(self) -> str:
        response = start(rendered())
        assert response.status_code == 303
        return response["Location"]

    def test_approve_then_return_pays_once(self, api: Sandbox) -> None:
        url = decide(self.opened())
        assert "/billing/eway/return/?ref=ORDER-1&sig=" in url and "&AccessCode=A1001" in url
        back(url)
        assert status() == PaymentStatus.PAID and fetch_rows() == [Outcome.APPLIED]
        log = NotificationLog.objects.get(kind="fetch")
        assert log.verification == Verdict.VALID and log.method == "FETCH"
        assert API_KEY.encode() not in bytes(log.body)
        code = Payment.objects.get().gateway_reference
        assert str(api.requests[-1].url) == f"{SANDBOX}/sandbox/eway/AccessCode/{code}"
        # Back again, and reconciliation later: eWAY is not asked for a settled payment,
        # and the same result fetched again is a duplicate.
        asked = len(api.requests)
        back(url)
        assert len(api.requests) == asked
        integration = get_integration("eway")
        body = integration.fetch_status(Payment.objects.get())
        assert body is not None
        process_fetched(integration, None, kind="fetch", body=body)
        assert fetch_rows() == [Outcome.APPLIED, Outcome.DUPLICATE]
        assert Payment.objects.get().events.count() == 1

    def test_decline_fails_and_a_new_attempt_opens_a_new_code(self, api: Sandbox) -> None:
        token = rendered()
        back(decide(start(token)["Location"], "decline"))
        assert status() == PaymentStatus.FAILED
        fields = eway.read(Inbound(bytes(NotificationLog.objects.get(kind="fetch").body)))
        assert fields["ResponseMessage"] == "D4405"
        again = start(token)
        assert again.status_code == 303 and Checkout.objects.count() == 2
        back(decide(again["Location"]))
        assert status() == PaymentStatus.PAID

    def test_cancel_asks_nothing(self, api: Sandbox) -> None:
        url = decide(self.opened(), "cancel")
        assert "/billing/eway/cancel/" in url
        asked = len(api.requests)
        back(url)
        assert len(api.requests) == asked and status() == PaymentStatus.PENDING
        assert fetch_rows() == []

    def test_a_return_before_the_decision_is_pending_and_asked_again_only_later(
        self, api: Sandbox
    ) -> None:
        location = self.opened()
        code = Payment.objects.get().gateway_reference
        url = f"/billing/eway/return/?AccessCode={code}"
        back(url)
        assert fetch_rows() == [Outcome.APPLIED] or fetch_rows() == [Outcome.IGNORED]
        assert status() == PaymentStatus.PENDING  # S5099: in progress, no failure
        asked = len(api.requests)
        back(url)  # within the minute: not asked again
        assert len(api.requests) == asked
        NotificationLog.objects.filter(kind="return").update(
            received_at=NotificationLog.objects.get(kind="fetch").received_at
            - __import__("datetime").timedelta(minutes=2)
        )
        decide(location)
        back(url)
        assert status() == PaymentStatus.PAID

    @pytest.mark.parametrize(
        "query",
        [
            "AccessCode=A1001NotOneOfOurs",
            "AccessCode=../../Transaction/1",
            "AccessCode=",
            "",
            "AccessCode=A&AccessCode=B",
        ],
        ids=["unknown", "path", "empty", "none", "twice"],
    )
    def test_a_code_the_shop_did_not_create_asks_nothing(self, query: str, api: Sandbox) -> None:
        self.opened()
        asked = len(api.requests)
        back(f"/billing/eway/return/?{query}")
        assert len(api.requests) == asked and fetch_rows() == []
        assert status() == PaymentStatus.PENDING

    def test_forged_result_in_the_return_url_changes_nothing(self, api: Sandbox) -> None:
        """Whatever the return URL says besides the code, only eWAY's answer counts."""
        location = self.opened()
        code = Payment.objects.get().gateway_reference
        decide(location, "decline")
        back(
            f"/billing/eway/return/?AccessCode={code}&TransactionStatus=true&ResponseMessage=A2000"
        )
        assert status() == PaymentStatus.FAILED

    def test_a_result_posted_to_notify_is_rejected(
        self, api: Sandbox, django_capture_on_commit_callbacks: Any
    ) -> None:
        self.opened()
        body = json.dumps(
            {**RESULT, "AccessCode": Payment.objects.get().gateway_reference}
        ).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/billing/eway/notify/", body, content_type="application/json")
        assert response.status_code == 200
        log = NotificationLog.objects.get(kind="notify")
        assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
        assert status() == PaymentStatus.PENDING

    @pytest.mark.parametrize(
        "failure",
        [[httpx.ConnectError("x"), httpx.ConnectError("x")], [503, 503], [401], ["junk"]],
        ids=["unreachable", "5xx", "401", "junk"],
    )
    def test_an_unreachable_api_is_never_accepted(self, failure: list[Any], api: Sandbox) -> None:
        url = decide(self.opened())
        api.down = list(failure)
        back(url)
        assert status() == PaymentStatus.PENDING and fetch_rows() == []
        with pytest.raises(VerificationUnavailable):
            api.down = list(failure)
            get_integration("eway").fetch_status(Payment.objects.get())
        # Reconciliation, once eWAY answers again, pays it.
        integration = get_integration("eway")
        body = integration.fetch_status(Payment.objects.get())
        assert body is not None
        process_fetched(integration, None, kind="fetch", body=body)
        assert status() == PaymentStatus.PAID

    def test_an_answer_for_another_code_is_not_taken(self, api: Sandbox) -> None:
        url = decide(self.opened())
        api.fixed = json.dumps({**RESULT, "AccessCode": "A1001other"}).encode()
        back(url)
        assert status() == PaymentStatus.PENDING and fetch_rows() == []

    def test_fetch_status_without_a_code_is_none(self, shop: Any) -> None:
        rendered()
        assert get_integration("eway").fetch_status(Payment.objects.get()) is None


# -- the sandbox page's testing options ---------------------------------------------------------


@pytest.mark.django_db
class TestTestingOptions:
    def test_other_amount_is_held(self, api: Sandbox) -> None:
        back(decide(start(rendered())["Location"], send="amount", other_amount="5.00"))
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.REVIEW
        assert "amount 5.00 instead of 10.00" in payment.review_reason

    def test_tampered_answer_is_held(self, api: Sandbox) -> None:
        back(decide(start(rendered())["Location"], send="tamper"))
        payment = Payment.objects.get()
        assert payment.status == PaymentStatus.REVIEW
        assert "amount 0.01 instead of 10.00" in payment.review_reason
        log = NotificationLog.objects.get(kind="fetch")
        assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.HELD)

    def test_twice_is_one_result_applied_once(self, api: Sandbox) -> None:
        url = decide(start(rendered())["Location"], send="twice")
        back(url)
        integration = get_integration("eway")
        body = integration.fetch_status(Payment.objects.get())
        assert body is not None
        process_fetched(integration, None, kind="fetch", body=body)
        assert fetch_rows() == [Outcome.APPLIED, Outcome.DUPLICATE]
        assert status() == PaymentStatus.PAID

    def test_the_result_needs_the_accounts_key(self, api: Sandbox) -> None:
        decide(start(rendered())["Location"])
        code = Payment.objects.get().gateway_reference
        assert Client().get(f"/sandbox/eway/AccessCode/{code}").status_code == 401
        wrong = "Basic " + base64.b64encode(f"{API_KEY}:wrong".encode()).decode()
        url = f"/sandbox/eway/AccessCode/{code}"
        assert Client().get(url, HTTP_AUTHORIZATION=wrong).status_code == 401


def test_decline_reported_with_the_traits_word() -> None:
    from billing.testing.traits import TRAITS

    name, value = TRAITS["eway"].declined_with
    form = stand_in_module.stand_in.form_for(
        reference="ORDER-9", amount=Decimal("12.00"), currency="AUD", receiver=""
    )
    message = stand_in_module.stand_in.notification(form, status="failed")
    assert eway.read(Inbound(message.body))[name] == value
