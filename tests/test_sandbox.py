"""The PayPal stand-in: form checks, hosted page, IPN delivery, postback and PDT.

The end-to-end tests run a real server (pytest-django's live_server) so the sandbox
really POSTs to the shop's notify URL and the shop really posts back to the sandbox.
"""

import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from django.core.checks import run_checks
from django.test import Client

from billing import get_integration
from billing.models import Payment, PaymentStatus
from billing.sandbox.endpoints import sandbox_endpoint
from billing.sandbox.gateways import get_stand_in
from billing.sandbox.gateways.pay_pal import stand_in as paypal
from billing.sandbox.models import Checkout, SentNotification
from tests.sandbox_helpers import Customer, StandInFlows, assert_refused, sandbox_settings

WEBSCR = "/sandbox/pay_pal/cgi-bin/webscr"
IPNPB = "/sandbox/pay_pal/ipnpb/cgi-bin/webscr"


@pytest.fixture
def sandbox(settings: Any) -> Any:
    return sandbox_settings(settings, "pay_pal", {"RECEIVER_EMAIL": "shop@example.com"})


def shop_form(**extra: str) -> dict[str, str]:
    """The fields billing's PayPal integration renders for an order."""
    integration = get_integration("pay_pal")
    integration.add_fields(
        {"invoice": "ORDER-1", "amount": "10.00", "currency_code": "EUR", "item_name": "Mug"}
    )
    integration.add_fields(extra)
    return integration.generate_form()


# -- endpoints and switches ----------------------------------------------------------------


@pytest.mark.django_db
def test_sandbox_switches_every_paypal_endpoint(sandbox: Any) -> None:
    integration = get_integration("pay_pal")
    assert integration.endpoint("POSTBACK_URL") == "http://sandbox.test" + IPNPB
    assert integration.endpoint("PDT_URL") == "http://sandbox.test" + WEBSCR
    sandbox.MERCHANT_SETTINGS["pay_pal"]["POSTBACK_URL"] = "https://ipn.test/"
    assert get_integration("pay_pal").endpoint("POSTBACK_URL") == "https://ipn.test/"


@pytest.mark.django_db
def test_sandbox_off_means_real_endpoints_and_no_sandbox_pages(settings: Any) -> None:
    settings.BILLING_SANDBOX = False
    assert "paypal.com" in get_integration("pay_pal").service_url
    assert Client().post(WEBSCR, {"cmd": "_xclick"}).status_code == 404
    assert Client().get("/sandbox/").status_code == 404


def test_every_stand_in_is_found_by_slug() -> None:
    assert get_stand_in("pay_pal") is paypal
    with pytest.raises(Exception, match="no stand-in"):
        sandbox_endpoint("nope", "SERVICE_URL")


@pytest.mark.parametrize(
    ("overrides", "ids"),
    [
        ({"BILLING_SANDBOX": True, "DEBUG": False}, ["billing.E004"]),
        ({"BILLING_SANDBOX": True, "DEBUG": True, "MERCHANT_TEST_MODE": False}, ["billing.E005"]),
        ({"BILLING_SANDBOX": True, "DEBUG": True}, []),
        ({"BILLING_SANDBOX": False, "DEBUG": False}, []),
    ],
    ids=["not-debug", "live-mode", "debug-test-mode", "off"],
)
def test_system_check_refuses_sandbox_outside_debug_and_test_mode(
    settings: Any, overrides: dict[str, Any], ids: list[str]
) -> None:
    settings.MERCHANT_SETTINGS = {}
    settings.MERCHANT_TEST_MODE = True
    for name, value in overrides.items():
        setattr(settings, name, value)
    found = [m.id for m in run_checks(tags=["billing"]) if m.id in ("billing.E004", "billing.E005")]
    assert found == ids


# -- the form, as PayPal checks it -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"business": ""}, "seller&#x27;s PayPal account is missing"),
        ({"amount": ""}, "amount is missing"),
        ({"amount": "10,00"}, "incorrectly formatted amount"),
        ({"amount": "-3"}, "incorrectly formatted amount"),
        ({"amount": "0.00"}, "must be more than zero"),
        ({"currency_code": "XYZ"}, "not supported by PayPal"),
        ({"currency_code": "JPY", "amount": "10.50"}, "no decimals in JPY"),
        ({"invoice": ""}, "invoice is missing"),
        ({"quantity": "0"}, "not a positive whole number"),
        ({"tax_rate": "7"}, "does not model them"),
        ({"cmd": "_donations"}, "button type is not available"),
        ({"charset": "klingon"}, "not a character set"),
        ({"notify_url": "javascript:alert(1)"}, "notify_url is not an http(s) URL"),
    ],
)
def test_bad_form_gets_paypal_error_page(
    sandbox: Any, change: dict[str, str], message: str
) -> None:
    fields = {
        "cmd": "_xclick",
        "business": "shop@example.com",
        "amount": "10.00",
        "currency_code": "EUR",
        "invoice": "ORDER-1",
        "charset": "utf-8",
        **change,
    }
    assert_refused(Client().post(WEBSCR, fields), "Error detected", message)


@pytest.mark.django_db
def test_cart_upload_is_checked_item_by_item(sandbox: Any) -> None:
    cart = {
        "cmd": "_cart",
        "upload": "1",
        "business": "shop@example.com",
        "invoice": "ORDER-2",
        "currency_code": "USD",
        "item_name_1": "Mug",
        "amount_1": "4.00",
        "quantity_1": "2",
        "item_name_2": "Spoon",
        "amount_2": "1.50",
        "tax_cart": "0.50",
    }
    client = Client()
    response = client.post(WEBSCR, cart)
    assert response.status_code == 303
    assert "10.00 USD" in client.get(response["Location"]).content.decode()
    broken = {**cart, "amount_2": "1.5.0"}
    response = client.post(WEBSCR, broken)
    assert response.status_code == 400 and b"amount_2=" in response.content
    no_upload = {k: v for k, v in cart.items() if k != "upload"}
    assert b"needs upload=1" in client.post(WEBSCR, no_upload).content


@pytest.mark.django_db
def test_encrypted_button_is_refused_plainly(sandbox: Any) -> None:
    response = Client().post(WEBSCR, {"cmd": "_s-xclick", "encrypted": "-----BEGIN PKCS7-----"})
    assert response.status_code == 501
    assert b"Encrypted buttons are not supported by the sandbox" in response.content


@pytest.mark.django_db
def test_form_is_read_in_the_charset_it_names(sandbox: Any) -> None:
    body = (
        "cmd=_xclick&business=shop%40example.com&amount=3.00&invoice=W-1"
        "&item_name=Caf%E9+cr%E8me&charset=windows-1252"
    )
    client = Client()
    response = client.post(WEBSCR, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303
    assert Checkout.objects.get().fields["item_name"] == "Café crème"
    message = paypal.notification(Checkout.objects.get().fields, status="paid")
    assert b"item_name=Caf%E9+cr%E8me" in message.body  # the IPN speaks the form's charset
    bad = body.replace("charset=windows-1252", "charset=utf-8")
    assert (
        client.post(WEBSCR, bad, content_type="application/x-www-form-urlencoded").status_code
        == 400
    )


# -- postback and PDT ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_postback_verifies_only_what_the_sandbox_sent(sandbox: Any) -> None:
    from billing.sandbox.views import record

    message = paypal.notification(shop_form(), status="paid")
    record(paypal, message, authentic=True)
    client = Client()

    def ask(body: bytes) -> bytes:
        reply = client.post(
            IPNPB, b"cmd=_notify-validate&" + body, content_type="application/x-www-form-urlencoded"
        )
        assert reply.status_code == 200
        return reply.content

    assert ask(message.body) == b"VERIFIED"
    assert ask(message.body) == b"VERIFIED"  # PayPal answers as often as it is asked
    assert ask(paypal.tamper(message).body) == b"INVALID"
    assert ask(message.body + b"&extra=1") == b"INVALID"
    tampered = paypal.tamper(paypal.notification(shop_form(), status="paid"))
    record(paypal, tampered, authentic=False)
    assert ask(tampered.body) == b"INVALID"  # recorded, but never authentic


@pytest.mark.django_db
def test_pdt_answers_for_sent_transactions(sandbox: Any) -> None:
    from billing.sandbox.views import record

    sandbox.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "T"  # the seller's identity token
    message = paypal.notification(shop_form(), status="paid")
    record(paypal, message, authentic=True)
    client = Client()
    ok = client.post(WEBSCR, {"cmd": "_notify-synch", "tx": message.transaction_id, "at": "T"})
    lines = ok.content.decode().splitlines()
    assert lines[0] == "SUCCESS" and "payment_status=Completed" in lines
    unknown = client.post(WEBSCR, {"cmd": "_notify-synch", "tx": "NOPE", "at": "T"})
    assert unknown.content.startswith(b"FAIL")
    no_token = client.post(WEBSCR, {"cmd": "_notify-synch", "tx": message.transaction_id})
    assert no_token.content.startswith(b"FAIL")
    other = client.post(WEBSCR, {"cmd": "_notify-synch", "tx": message.transaction_id, "at": "X"})
    assert other.content.startswith(b"FAIL")


@pytest.mark.django_db
def test_notification_is_the_ipn_shop_code_can_read(sandbox: Any) -> None:
    from billing.protocols import pay_pal as protocol

    form = shop_form(custom="cust-7")
    fields = protocol.parse_ipn(paypal.notification(form, status="paid").body)
    notification = protocol.to_notification(fields, integration="pay_pal")
    assert notification.amount == Decimal("10.00") and notification.currency == "EUR"
    assert notification.reference == "ORDER-1" and notification.test
    assert notification.receiver == "shop@example.com" and notification.status == "paid"
    assert len(notification.transaction_id) == 17 and fields["custom"] == "cust-7"
    declined = protocol.parse_ipn(paypal.notification(form, status="failed").body)
    assert declined["payment_status"] == "Denied" and "mc_fee" not in declined


@pytest.mark.django_db
def test_issue_endpoint_builds_and_remembers(sandbox: Any) -> None:
    response = Client().post(
        "/sandbox/pay_pal/issue/",
        {"reference": "R-9", "amount": "5.00", "currency": "USD", "receiver": "a@b.example"},
    )
    assert response.status_code == 200
    sent = SentNotification.objects.get()
    assert bytes(sent.body) == response.content and sent.authentic
    assert parse_qs(response.content.decode())["invoice"] == ["R-9"]
    bad = Client().post("/sandbox/pay_pal/issue/", {"reference": "R", "amount": "x"})
    assert bad.status_code == 400


# -- the hosted page and the flows every stand-in shares (StandInFlows), as this one runs them


class TestPayPalFlows(StandInFlows):
    slug = "pay_pal"
    service_path = WEBSCR
    page_shows = ("10.00 EUR", "shop@example.com", "ORDER-1")
    tampered = b"mc_gross=0.01"
    shop_form = staticmethod(shop_form)

    def check_page(self, fields: dict[str, str]) -> None:
        assert fields["invoice"] == "ORDER-1"

    def check_approved(self, reply: httpx.Response) -> None:
        _, query = self.sent_back(reply, shown=False)  # auto-return, with what PDT needs
        assert query["st"] == ["Completed"] and query["amt"] == ["10.00"]
        assert Payment.objects.get().transaction_id == query["tx"][0]

    def test_delayed_notification_arrives_later(self, live: Customer) -> None:
        live.pay("approve", send="delay", delay="1")
        assert Payment.objects.get().status == PaymentStatus.PENDING
        deadline = time.monotonic() + 15
        while Payment.objects.get().status != PaymentStatus.PAID and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Payment.objects.get().status == PaymentStatus.PAID

    def test_a_checkout_is_decided_once(self, live: Customer) -> None:
        live.pay("approve")
        checkout = Checkout.objects.get()
        again = Client().post(
            f"/sandbox/pay_pal/checkout/{checkout.token}/decide/", {"action": "decline"}
        )
        assert again.status_code == 409
        assert b"Checkout approved" in again.content
        assert SentNotification.objects.count() == 1

    def test_index_lists_stand_ins_and_what_was_sent(self, live: Customer) -> None:
        live.pay("approve")
        page = live.http.get("/sandbox/")
        assert page.status_code == 200
        assert "/sandbox/pay_pal/ipnpb/cgi-bin/webscr" in page.text
        assert SentNotification.objects.get().transaction_id in page.text
        assert "HTTP 200" in page.text
