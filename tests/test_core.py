"""The Integration API, registry, template tag, capture, checks and admin."""

import logging
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, RequestFactory

from billing import Integration, get_integration
from billing.capture import client_address, redact_headers
from billing.checks import check_integrations
from billing.exceptions import (
    BillingError,
    IntegrationModuleNotFound,
    IntegrationNotConfigured,
    PaymentConflict,
)
from billing.integrations.pay_pal_integration import PayPalIntegration
from billing.models import NotificationLog, Payment, PaymentStatus
from billing.protocols import pay_pal
from tests.pay_pal_data import ipn_body, pay_pal_order, post_ipn

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def merchant(settings: Any) -> Any:
    settings.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com"},
        "modified_bp": {"RECEIVER_EMAIL": "other@example.com"},
    }
    settings.MERCHANT_TEST_MODE = True
    return settings


# -- registry ---------------------------------------------------------------------------


def test_get_integration_returns_the_builtin_class() -> None:
    integration = get_integration("pay_pal")
    assert type(integration) is PayPalIntegration
    assert isinstance(integration, Integration)
    assert integration.display_name == "PayPal Payments Standard"


def test_shop_apps_are_searched_first() -> None:
    integration = get_integration("modified_bp")
    assert type(integration).__name__ == "ModifiedBpIntegration"
    assert type(integration).__module__ == "tests.shop.integrations.modified_bp_integration"


@pytest.mark.parametrize("name", ["nope", "../etc", "Pay_Pal", ""])
def test_unknown_integration(name: str) -> None:
    with pytest.raises(IntegrationModuleNotFound):
        get_integration(name)


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("google_checkout", "closed in 2013"),
        ("amazon_fps", "Amazon Pay"),
        ("braintree_payments", "Drop-in UI"),
        ("global_iris", "global_payments"),
    ],
)
def test_retired_integration_says_what_to_use(name: str, advice: str) -> None:
    with pytest.raises(IntegrationModuleNotFound, match=advice):
        get_integration(name)


def test_not_configured_names_integration_and_keys(merchant: Any) -> None:
    merchant.MERCHANT_SETTINGS = {"pay_pal": {}}
    with pytest.raises(IntegrationNotConfigured) as info:
        get_integration("pay_pal")
    assert "PayPal Payments Standard" in str(info.value)
    assert "RECEIVER_EMAIL" in str(info.value)
    merchant.MERCHANT_SETTINGS = {}
    with pytest.raises(IntegrationNotConfigured, match="PayPal Payments Standard"):
        get_integration("pay_pal")
    assert issubclass(IntegrationNotConfigured, BillingError)


# -- the seed's field API -----------------------------------------------------------------


def test_fields_options_and_add_fields() -> None:
    integration = get_integration("pay_pal", {"invoice": "A-1", "amount": "5.00"})
    integration.add_field("item_name", "Mug")
    integration.add_fields({"amount": "6.00", "currency_code": "EUR"})
    assert integration.fields == {
        "invoice": "A-1",
        "amount": "6.00",
        "item_name": "Mug",
        "currency_code": "EUR",
    }


def test_test_mode_is_read_per_instance_never_frozen(merchant: Any) -> None:
    integration = get_integration("pay_pal")
    assert integration.test_mode is True
    assert integration.service_url == pay_pal.SANDBOX_SERVICE_URL
    merchant.MERCHANT_TEST_MODE = False
    assert integration.test_mode is False
    assert integration.service_url == pay_pal.LIVE_SERVICE_URL
    integration.test_mode = True
    assert integration.service_url == pay_pal.SANDBOX_SERVICE_URL
    assert get_integration("pay_pal").test_mode is False


def test_per_integration_test_mode_and_url_override(merchant: Any) -> None:
    merchant.MERCHANT_SETTINGS["pay_pal"].update(TEST_MODE=False, SERVICE_URL="https://pp.test/x")
    integration = get_integration("pay_pal")
    assert integration.test_mode is False
    assert integration.service_url == "https://pp.test/x"


# -- rendering and recording ---------------------------------------------------------------


def render(integration: Integration, tag_args: str = "") -> str:
    template = Template(
        "{% load render_integration from billing_tags %}{% render_integration obj "
        + tag_args
        + " %}"
    )
    request = RequestFactory().get("/", HTTP_HOST="shop.test")
    return template.render(Context({"obj": integration, "request": request}))


@pytest.mark.usefixtures("no_site_url")
def test_render_fills_callback_urls_and_escapes() -> None:
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "A&1", "amount": "5.00", "item_name": '"><script>'})
    page = render(integration)
    assert 'name="notify_url" value="http://shop.test/billing/pay_pal/notify/"' in page
    assert 'value="http://shop.test/billing/pay_pal/return/?ref=A%26amp%3B1"' not in page
    assert "ref=A%261" in page
    assert "<script>" not in page and "&quot;&gt;&lt;script&gt;" in page
    assert "data-autosubmit" not in page


def test_autosubmit_variant() -> None:
    integration = get_integration("pay_pal", {"invoice": "A-2", "amount": "5.00"})
    page = render(integration, "autosubmit=True")
    assert "data-autosubmit" in page and ".submit()" in page


def test_rerender_updates_pending_payment_but_never_a_paid_one() -> None:
    get_integration("pay_pal", {"invoice": "A-3", "amount": "5.00"}).generate_form()
    get_integration("pay_pal", {"invoice": "A-3", "amount": "7.00"}).generate_form()
    assert Payment.objects.get().amount == Decimal("7.00")
    Payment.objects.update(status=PaymentStatus.PAID)
    with pytest.raises(PaymentConflict):
        get_integration("pay_pal", {"invoice": "A-3", "amount": "1.00"}).generate_form()
    get_integration("pay_pal", {"invoice": "A-3", "amount": "7.00"}).generate_form()  # same terms
    assert Payment.objects.get().amount == Decimal("7.00")


# -- capture -----------------------------------------------------------------------------


def test_secret_headers_are_redacted() -> None:
    request = RequestFactory().post(
        "/",
        HTTP_AUTHORIZATION="Bearer abc",
        HTTP_COOKIE="s=1",
        HTTP_X_API_TOKEN="t",
        HTTP_USER_AGENT="PayPal IPN",
    )
    headers = redact_headers(request)
    assert headers["Authorization"] == headers["Cookie"] == headers["X-Api-Token"] == "[redacted]"
    assert headers["User-Agent"] == "PayPal IPN"


def test_forwarded_for_only_believed_from_trusted_proxy(settings: Any) -> None:
    spoofed = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(spoofed) == "203.0.113.9"
    settings.BILLING_TRUSTED_PROXIES = ["10.0.0.1"]
    proxied = RequestFactory().post(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
    )
    assert client_address(proxied) == "198.51.100.7"
    garbage = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="<script>")
    assert client_address(garbage) == "10.0.0.1"


def test_notify_stores_request_as_received() -> None:
    body = ipn_body()
    Client().post(
        "/billing/pay_pal/notify/?x=1",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION="Basic c2VjcmV0",
        REMOTE_ADDR="192.0.2.5",
    )
    log = NotificationLog.objects.get()
    assert bytes(log.body) == body
    assert log.query_string == "x=1"
    assert log.remote_addr == "192.0.2.5"
    assert log.headers["Authorization"] == "[redacted]"
    assert "c2VjcmV0" not in str(log.headers)


# -- checks, admin, migrations, logging -------------------------------------------------------


def check_ids() -> set[str]:
    return {message.id for message in check_integrations()}


def test_checks(merchant: Any) -> None:
    assert check_ids() == set()
    merchant.MERCHANT_SETTINGS = {"pay_pal": {}}
    assert check_ids() == {"billing.E001"}
    merchant.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "a@b.c", "POSTBACK_URL": "https://ipnpb.sandbox.paypal.com/x"}
    }
    merchant.MERCHANT_TEST_MODE = False
    merchant.BILLING_SITE_URL = "http://shop.example"
    assert check_ids() == {"billing.E002", "billing.E003"}
    merchant.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "a@b.c"}}
    merchant.BILLING_SITE_URL = "https://shop.example"
    assert check_ids() == set()


def test_admin_pages_and_reprocess_action(admin_client: Client, fake_paypal: Any) -> None:
    pay_pal_order()
    body = fake_paypal.send(ipn_body())
    fake_paypal.unreachable = True
    post_ipn(body)
    log = NotificationLog.objects.get()
    for url in (
        "/admin/billing/payment/",
        "/admin/billing/notificationlog/?outcome__exact=retry",
        f"/admin/billing/notificationlog/{log.pk}/change/",
        f"/admin/billing/payment/{Payment.objects.get().pk}/change/",
        "/admin/billing/notificationlog/?q=ORDER-1",
    ):
        assert admin_client.get(url).status_code == 200, url
    fake_paypal.unreachable = False
    admin_client.post(
        "/admin/billing/notificationlog/",
        {"action": "reverify", "_selected_action": [log.pk]},
    )
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_migrations_are_complete() -> None:
    call_command("makemigrations", "billing", "--check", "--dry-run", verbosity=0)


def test_pdt_token_never_logged(merchant: Any, fake_paypal: Any, caplog: Any) -> None:
    merchant.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "very-secret-pdt-token"
    fake_paypal.unreachable = True
    caplog.set_level(logging.DEBUG)
    pay_pal_order()
    Client().get("/billing/pay_pal/return/?ref=ORDER-1&tx=ABC")
    post_ipn(ipn_body())
    assert "very-secret-pdt-token" not in caplog.text
    assert all(
        "very-secret-pdt-token" not in (log.error or "") for log in NotificationLog.objects.all()
    )


def test_add_order_uses_the_gateways_field_names() -> None:
    integration = get_integration("pay_pal")
    integration.add_order(
        reference="N-1", amount=Decimal("12.50"), currency="EUR", description="Mug"
    )
    integration.generate_form()
    payment = Payment.objects.get(reference="N-1")
    assert (payment.amount, payment.currency) == (Decimal("12.50"), "EUR")
    assert integration.fields["item_name"] == "Mug"


def test_a_parser_bug_is_a_logged_400_not_a_500(monkeypatch: Any) -> None:
    def broken(self: Any, log: Any) -> dict[str, str]:
        raise KeyError("bug")

    monkeypatch.setattr(PayPalIntegration, "parse_notification", broken)
    response = post_ipn(b"a=b", Client(raise_request_exception=False))
    assert response.status_code == 400
    assert bytes(NotificationLog.objects.get().body) == b"a=b"


def test_a_broken_integration_still_stores_the_request(monkeypatch: Any) -> None:
    def broken(self: Any, options: Any = None) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(PayPalIntegration, "__init__", broken)
    response = post_ipn(b"a=b", Client(raise_request_exception=False))
    assert response.status_code == 404
    assert bytes(NotificationLog.objects.get().body) == b"a=b"


def test_a_live_integration_never_points_at_the_sandbox(merchant: Any) -> None:
    merchant.BILLING_SANDBOX = True
    assert "/sandbox/" in get_integration("pay_pal").service_url
    merchant.MERCHANT_TEST_MODE = False
    assert get_integration("pay_pal").service_url == pay_pal.LIVE_SERVICE_URL
