"""What the gateways' test modules share: the shop's account, notify/, what it recorded;
for checkouts created by API, the pay button's token, start/ and the routed API."""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing.models import NotificationLog, Payment
from billing.registry import get_integration
from billing.testing.conformance import Delivery
from billing.testing.routing import InProcessApi, routed


def use_account(settings: Any, slug: str, account: dict[str, Any]) -> Any:
    """The shop in test mode with one gateway's account (a copy, which a test may change)."""
    settings.MERCHANT_SETTINGS = {slug: dict(account)}
    settings.MERCHANT_TEST_MODE = True
    return settings


def made_up_accounts(secret_prefix: str) -> dict[str, dict[str, Any]]:
    """Made-up accounts (never real credentials) for the stand-ins that share one shop;
    the secrets start with ``secret_prefix``, so a leak names the module it came from."""
    return {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com"},
        "world_pay": {
            "INSTALLATION_ID": "1234",
            "MD5_SECRET": f"{secret_prefix}-md5-secret",
            "CALLBACK_PASSWORD": f"{secret_prefix}-callback-password",
        },
        "global_payments": {
            "MERCHANT_ID": "shopmerchant",
            "ACCOUNT": "internet",
            "SHARED_SECRET": f"{secret_prefix}-shared-secret",
        },
        "ogone_payments": {
            "PSPID": "demoshop",
            "SHA_IN": f"{secret_prefix}-sha-in-passphrase",
            "SHA_OUT": f"{secret_prefix}-sha-out-passphrase",
            "HASH_ALGORITHM": "sha512",
        },
        "authorize_net_dpm": {
            "LOGIN_ID": "demo-login",
            "SIGNATURE_KEY": "0123456789ABCDEF" * 8,  # 128 made-up hex digits
            "CURRENCY": "EUR",
        },
    }


def settings_fixture(
    slug: str,
    account: dict[str, Any],
    configure: Callable[[Any, str, dict[str, Any]], Any] = use_account,
) -> Any:
    """A fixture of the settings ``configure`` (use_account, sandbox_settings) makes for one
    gateway's account: ``shop = settings_fixture("skrill", SETTINGS)``."""

    @pytest.fixture
    def fixture(settings: Any) -> Any:
        return configure(settings, slug, account)

    return fixture


def form_renderer(slug: str, currency: str, **fields: str) -> Callable[..., dict[str, str]]:
    """``render(reference="ORDER-1", amount="10.00")``: the form billing renders for an
    order in ``currency`` (with ``fields`` added), its payment recorded."""

    def render(reference: str = "ORDER-1", amount: str = "10.00") -> dict[str, str]:
        integration = get_integration(slug)
        integration.add_order(reference=reference, amount=Decimal(amount), currency=currency)
        if fields:
            integration.add_fields(fields)
        return integration.generate_form()

    return render


def token_renderer(slug: str, currency: str) -> Callable[..., str]:
    """``rendered(reference="ORDER-1", amount="10.00", currency=currency)``: the shop's pay
    page for an order of a Mug, at a checkout created by API; records the payment and
    returns the form's only field, its token."""

    def rendered(
        reference: str = "ORDER-1", amount: str = "10.00", currency: str = currency
    ) -> str:
        integration = get_integration(slug)
        integration.add_order(
            reference=reference, amount=Decimal(amount), currency=currency, description="Mug"
        )
        return integration.generate_form()["token"]

    return rendered


def starter(slug: str) -> Callable[..., Any]:
    """``start(token, **extra)``: the pay button pressed, a POST to the gateway's start/
    (``extra``: fields a customer added, which must mean nothing)."""
    url = f"/billing/{slug}/start/"

    def start(token: str, **extra: str) -> Any:
        return Client().post(url, {"token": token, **extra})

    return start


def start_while_down(start: Callable[..., Any], token: str, api: Any, failure: list[Any]) -> str:
    """The pay button pressed while the gateway's API fails as ``failure`` says (see
    ``InProcessApi.down``): start/'s 502 page, as text."""
    api.down = list(failure)
    response = start(token)
    assert response.status_code == 502
    return response.content.decode()


def assert_lost_answer_is_not_made_twice(start: Callable[..., Any], token: str, api: Any) -> None:
    """The gateway made the checkout but its answer was lost: start/ fails, and pressed
    again reuses the one the gateway has (the same idempotency key), never a second."""
    from billing.sandbox.models import Checkout

    api.down = ["after"]
    assert start(token).status_code == 502 and Checkout.objects.count() == 1
    assert start(token).status_code == 303 and Checkout.objects.count() == 1
    assert Payment.objects.get().gateway_reference == Checkout.objects.get().token


def routed_fixture(make: Callable[[], InProcessApi]) -> Any:
    """A fixture on top of the module's ``shop`` fixture: billing's outbound HTTP answered
    in process by ``make()``, the API it yields (which records the requests)."""

    @pytest.fixture
    def fixture(shop: Any) -> Iterator[InProcessApi]:
        with routed(make()) as api:
            yield api

    return fixture


def deliverer(slug: str) -> Callable[..., Any]:
    """``deliver(delivery, django_capture_on_commit_callbacks, **headers)``: a Delivery
    posted to the gateway's notify/ with its own headers (and ``headers``), with the
    callbacks run on commit (where the payment is processed)."""
    url = f"/billing/{slug}/notify/"

    def deliver(delivery: Delivery, capture: Any, **headers: str) -> Any:
        with capture(execute=True):
            return Client().generic(
                "POST",
                url,
                delivery.body,
                content_type=delivery.content_type,
                headers={**delivery.headers, **headers},
            )

    return deliver


def poster(slug: str) -> Callable[..., Any]:
    """``post(body, django_capture_on_commit_callbacks, ip="127.0.0.1")``: a form POST to
    the gateway's notify/ from ``ip``, with the callbacks run on commit (where the payment
    is processed)."""
    url = f"/billing/{slug}/notify/"

    def post(body: bytes, capture: Any, ip: str = "127.0.0.1") -> Any:
        with capture(execute=True):
            return Client(REMOTE_ADDR=ip).post(
                url, body, content_type="application/x-www-form-urlencoded"
            )

    return post


def payment_of(slug: str) -> Callable[..., Payment]:
    """``payment(reference="ORDER-1")``: the gateway's payment for an order."""

    def payment(reference: str = "ORDER-1") -> Payment:
        return Payment.objects.get(integration=slug, reference=reference)

    return payment


def payment_status(slug: str) -> Callable[..., str]:
    """``status(reference="ORDER-1")``: the status of the gateway's payment for an order."""
    payment = payment_of(slug)

    def status(reference: str = "ORDER-1") -> str:
        return payment(reference).status

    return status


def outcomes(**filters: Any) -> list[str]:
    """What the notification log made of each request, oldest first."""
    logs = NotificationLog.objects.filter(**filters).order_by("pk")
    return list(logs.values_list("outcome", flat=True))


def signed_ref(slug: str, reference: str = "ORDER-1", *, html: bool = False) -> str:
    """The query billing puts on return and cancel URLs: ``ref=...&sig=...``."""
    from billing.links import reference_signer

    query = f"ref={reference}&sig={reference_signer(slug).signature(reference)}"
    return query.replace("&", "&amp;") if html else query
