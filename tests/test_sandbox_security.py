"""Attacks on the sandbox: each test tries one and expects the sandbox to refuse it.

The sandbox plays gateways with the shop's own secrets, so it must never act for a live
integration, never hand those secrets out, never post to or redirect to a place the
customer picked, and never show what another server answered as its own page.
"""

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing.sandbox import views
from billing.sandbox.delivery import Attempt
from billing.sandbox.gateways import get_stand_in
from billing.sandbox.gateways.base import FormRejected, Message
from billing.sandbox.gateways.world_pay import md5_signature
from billing.sandbox.models import Checkout, SentNotification
from tests.helpers import made_up_accounts
from tests.sandbox_helpers import order_form

pytestmark = pytest.mark.django_db

SHOP = "http://shop.test"
# Made-up accounts (never real credentials), one per stand-in.
ACCOUNTS = made_up_accounts("attack")
SERVICE = {
    "pay_pal": "/sandbox/pay_pal/cgi-bin/webscr",
    "world_pay": "/sandbox/world_pay/wcc/purchase",
    "global_payments": "/sandbox/global_payments/pay",
    "ogone_payments": "/sandbox/ogone_payments/ncol/test/orderstandard_utf8.asp",
    "authorize_net_dpm": "/sandbox/authorize_net_dpm/gateway/transact.dll",
}
# The form field naming where the gateway posts its notification (Worldline takes it
# from its back office, not from the form).
NOTIFY_FIELD = {
    "pay_pal": "notify_url",
    "world_pay": "MC_callback",
    "global_payments": "MERCHANT_RESPONSE_URL",
    "authorize_net_dpm": "x_relay_url",
}
CURRENCY = {"world_pay": "GBP", "global_payments": "GBP"}
SLUGS = list(ACCOUNTS)


def secrets_of(slug: str) -> list[str]:
    account = ACCOUNTS[slug]
    keys = ("MD5_SECRET", "CALLBACK_PASSWORD", "SHARED_SECRET", "SHA_IN", "SHA_OUT")
    found = [str(account[key]) for key in keys if key in account]
    if "SIGNATURE_KEY" in account:
        found += [account["SIGNATURE_KEY"], account["SIGNATURE_KEY"].lower()]
    return found


@pytest.fixture
def shop(settings: Any) -> Any:
    """Every gateway configured in test mode, the sandbox on, as a developer runs it."""
    settings.DEBUG = True
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {slug: dict(account) for slug, account in ACCOUNTS.items()}
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = "http://sandbox.test"
    settings.BILLING_SITE_URL = SHOP
    return settings


def form(slug: str, **change: str) -> dict[str, str]:
    """The shop's own form for ORDER-1, 10.00, as the customer's browser holds it."""
    fields = order_form(slug, currency=CURRENCY.get(slug, "EUR"))
    fields.update(change)
    if slug == "world_pay" and change:
        # Worldpay's signature covers the URLs: re-signed here, as a shop whose
        # SignatureFields did not would send it, so that the sandbox's own check is tested.
        names = fields["signatureFields"].split(":")
        secret = ACCOUNTS[slug]["MD5_SECRET"]
        fields["signature"] = md5_signature(secret, [fields.get(name, "") for name in names])
    return fields


def start(client: Client, slug: str, fields: dict[str, str]) -> Checkout:
    response = client.post(SERVICE[slug], fields)
    assert response.status_code == 303, response.content.decode()
    return Checkout.objects.get(gateway=slug)


def decide_url(checkout: Checkout) -> str:
    return f"/sandbox/{checkout.gateway}/checkout/{checkout.token}/decide/"


class Deliveries:
    """Stands in for the network: records each delivery and answers with ``reply``."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.reply = b"<p>ok</p>"
        self.reply_type = "text/html; charset=utf-8"

    def __call__(self, url: str, message: Message, **kwargs: Any) -> list[Attempt]:
        self.urls.append(url)
        return [Attempt(url, 200, "", 0.01, reply=self.reply, reply_type=self.reply_type)]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deliveries]:
    deliveries = Deliveries()
    monkeypatch.setattr(views, "deliver", deliveries)
    monkeypatch.setattr(views, "deliver_later", deliveries)
    yield deliveries


# -- finding 1: the sandbox acts only in DEBUG, for configured integrations in test mode ----------


def test_every_sandbox_url_is_404_without_debug(shop: Any) -> None:
    checkout = start(Client(), "pay_pal", form("pay_pal"))
    shop.DEBUG = False
    client = Client()
    assert client.get("/sandbox/").status_code == 404
    assert client.post(SERVICE["pay_pal"], form("pay_pal")).status_code == 404
    assert client.get(f"/sandbox/pay_pal/checkout/{checkout.token}/").status_code == 404
    assert client.post(decide_url(checkout), {"action": "approve"}).status_code == 404
    ipn = b"cmd=_notify-validate&a=b"
    reply = client.post(
        "/sandbox/pay_pal/ipnpb/cgi-bin/webscr",
        ipn,
        content_type="application/x-www-form-urlencoded",
    )
    assert reply.status_code == 404
    issue = {"reference": "R-1", "amount": "5.00", "receiver": "shop@example.com"}
    assert client.post("/sandbox/pay_pal/issue/", issue).status_code == 404
    assert not SentNotification.objects.exists()


@pytest.mark.parametrize("slug", SLUGS)
def test_a_live_integration_gets_nothing_from_the_sandbox(shop: Any, slug: str) -> None:
    fields = form(slug)  # rendered while in test mode ...
    shop.MERCHANT_SETTINGS[slug]["TEST_MODE"] = False  # ... then the integration goes live
    client = Client()
    assert client.post(SERVICE[slug], fields).status_code == 404
    issue = {"reference": "R-1", "amount": "5.00", "currency": "EUR", "receiver": "x"}
    assert client.post(f"/sandbox/{slug}/issue/", issue).status_code == 404
    assert not Checkout.objects.exists() and not SentNotification.objects.exists()


def test_live_mode_without_an_override_gets_nothing(shop: Any) -> None:
    fields = form("pay_pal")
    shop.MERCHANT_TEST_MODE = False
    assert Client().post(SERVICE["pay_pal"], fields).status_code == 404
    assert Client().get("/sandbox/").status_code == 404  # every integration is live


def test_an_unconfigured_integration_gets_nothing(shop: Any) -> None:
    fields = form("world_pay")
    del shop.MERCHANT_SETTINGS["world_pay"]
    assert Client().post(SERVICE["world_pay"], fields).status_code == 404
    shop.MERCHANT_SETTINGS["world_pay"] = {"INSTALLATION_ID": "1234"}  # cannot be built
    assert Client().post(SERVICE["world_pay"], fields).status_code == 404


def test_an_open_checkout_is_dead_once_the_integration_is_live(shop: Any, wire: Deliveries) -> None:
    checkout = start(Client(), "world_pay", form("world_pay"))
    shop.MERCHANT_SETTINGS["world_pay"]["TEST_MODE"] = False
    client = Client()
    assert client.get(f"/sandbox/world_pay/checkout/{checkout.token}/").status_code == 404
    assert client.post(decide_url(checkout), {"action": "approve"}).status_code == 404
    assert wire.urls == [] and not SentNotification.objects.exists()


@pytest.mark.parametrize(
    "slug", ["world_pay", "global_payments", "ogone_payments", "authorize_net_dpm"]
)
def test_a_stand_in_never_signs_for_a_live_integration(shop: Any, slug: str) -> None:
    stand_in = get_stand_in(slug)
    fields = form(slug)
    shop.MERCHANT_SETTINGS[slug]["TEST_MODE"] = False
    with pytest.raises(FormRejected, match="live") as refused:
        stand_in.notification(fields, status="paid")
    for secret in secrets_of(slug):
        assert secret not in str(refused.value)
    with pytest.raises(FormRejected, match="live"):
        stand_in.form_for(reference="R-1", amount=Decimal("5"), currency="EUR", receiver="x")
    del shop.MERCHANT_SETTINGS[slug]["TEST_MODE"]
    shop.MERCHANT_TEST_MODE = False  # live by the global switch: the same
    with pytest.raises(FormRejected, match="live"):
        stand_in.notification(fields, status="paid")


@pytest.mark.parametrize(
    "slug", ["world_pay", "global_payments", "ogone_payments", "authorize_net_dpm"]
)
def test_issue_hands_out_no_body_built_from_the_shops_secrets(shop: Any, slug: str) -> None:
    receiver = str(ACCOUNTS[slug][get_stand_in(slug).receiver_setting])
    data = {"reference": "R-9", "amount": "5.00", "currency": "EUR", "receiver": receiver}
    response = Client().post(f"/sandbox/{slug}/issue/", data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "billing send" in text  # says what to do instead
    for secret in secrets_of(slug):
        assert secret not in text
    assert not SentNotification.objects.exists()


def test_issue_still_vouches_for_paypal(shop: Any) -> None:
    data = {"reference": "R-9", "amount": "5.00", "currency": "USD", "receiver": "a@b.example"}
    response = Client().post("/sandbox/pay_pal/issue/", data)
    assert response.status_code == 200
    assert bytes(SentNotification.objects.get().body) == response.content


def test_issue_needs_a_post(shop: Any) -> None:
    assert Client().get("/sandbox/pay_pal/issue/", {"reference": "R-1"}).status_code == 405


@pytest.mark.parametrize(
    "field",
    [
        "reference",
        "amount",
        "currency",
        "receiver",
        "status",
        "charged",
        "transaction_id",
        "target",
    ],
)
@pytest.mark.parametrize("junk", ["\r\nX-Injected: 1", "\x00", "\x1b[2J"])
def test_issue_answers_junk_with_400_never_500(shop: Any, field: str, junk: str) -> None:
    data = {
        "reference": "R-9",
        "amount": "5.00",
        "currency": "USD",
        "receiver": "a@b.example",
        "status": "paid",
        "charged": "5.00",
        "transaction_id": "TX1",
        "target": "http://shop.test/billing/pay_pal/notify/",
    }
    data[field] += junk
    response = Client(raise_request_exception=False).post("/sandbox/pay_pal/issue/", data)
    assert response.status_code == 400
    assert "X-Injected" not in response.headers
    assert not SentNotification.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "1e999999999"),
        ("charged", "9" * 40),
        ("status", "Completed"),  # PayPal's word, not one the sandbox offers
        ("transaction_id", "x" * 200),
        ("transaction_id", "tx-é"),
    ],
)
def test_issue_answers_odd_values_with_400(shop: Any, field: str, value: str) -> None:
    data = {"reference": "R-9", "amount": "5.00", "currency": "USD", "receiver": "a@b.example"}
    data[field] = value
    response = Client(raise_request_exception=False).post("/sandbox/pay_pal/issue/", data)
    assert response.status_code == 400


@pytest.mark.parametrize(("name", "value"), [("delay", "nan"), ("other_amount", "1e999999999")])
def test_decide_answers_odd_options_without_500(
    shop: Any, wire: Deliveries, name: str, value: str
) -> None:
    client = Client(raise_request_exception=False)
    checkout = start(client, "pay_pal", form("pay_pal"))
    mode = "delay" if name == "delay" else "amount"
    response = client.post(decide_url(checkout), {"action": "approve", "send": mode, name: value})
    assert response.status_code < 500


# -- finding 8: deliveries and redirections go to the shop's own origins only ----------------------


@pytest.mark.parametrize("slug", list(NOTIFY_FIELD))
@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "https://shop.test/billing/notify/",  # another scheme: another origin
        "http://shop.test:8080/billing/notify/",
        "http://shop.test.evil.example/billing/notify/",
        "http://evil.example\\@shop.test/billing/notify/",  # a browser's host: evil.example
    ],
)
def test_the_gateway_refuses_to_notify_a_url_the_customer_chose(
    shop: Any, wire: Deliveries, slug: str, target: str
) -> None:
    response = Client().post(SERVICE[slug], form(slug, **{NOTIFY_FIELD[slug]: target}))
    assert response.status_code == 400
    assert "Error detected" in response.content.decode()
    assert not Checkout.objects.exists() and wire.urls == []


def test_a_target_that_became_foreign_is_not_notified(shop: Any, wire: Deliveries) -> None:
    checkout = start(Client(), "pay_pal", form("pay_pal"))
    shop.BILLING_SITE_URL = "https://shop.example"  # the shop moved since the form was read
    response = Client().post(decide_url(checkout), {"action": "approve"})
    assert response.status_code == 400 and wire.urls == []


def test_the_shops_own_origins_are_notified(shop: Any, wire: Deliveries) -> None:
    shop.BILLING_SANDBOX_ALLOWED_ORIGINS = ["https://tunnel.example:8443"]
    targets = [
        "http://shop.test/billing/pay_pal/notify/",  # BILLING_SITE_URL
        "http://SHOP.test:80/x",  # the same origin, written differently
        "http://sandbox.test/billing/pay_pal/notify/",  # BILLING_SANDBOX_URL
        "https://tunnel.example:8443/billing/pay_pal/notify/",  # the extra setting
    ]
    for n, target in enumerate(targets):
        fields = form("pay_pal", notify_url=target, invoice=f"ORDER-{n}")
        response = Client().post(SERVICE["pay_pal"], fields)
        assert response.status_code == 303, (target, response.content.decode())
        checkout = Checkout.objects.get(token=response["Location"].split("/")[-2])
        Client().post(decide_url(checkout), {"action": "approve"})
    assert wire.urls == targets


@pytest.mark.parametrize(
    ("slug", "change", "action"),
    [
        ("pay_pal", {"return": "https://evil.example/phish"}, "approve"),
        ("pay_pal", {"return": "https://shop.test@evil.example/phish"}, "decline"),
        ("pay_pal", {"return": "http://evil.example\\@shop.test/phish"}, "approve"),
        ("pay_pal", {"cancel_return": "https://evil.example/phish"}, "cancel"),
        ("world_pay", {"MC_callback": "", "MC_return": "https://evil.example/phish"}, "approve"),
        ("authorize_net_dpm", {"x_cancel_url": "https://evil.example/phish"}, "cancel"),
    ],
)
def test_no_redirection_to_a_foreign_site(
    shop: Any, wire: Deliveries, slug: str, change: dict[str, str], action: str
) -> None:
    checkout = start(Client(), slug, form(slug, **change))
    response = Client().post(decide_url(checkout), {"action": action})
    assert response.status_code == 200  # the sandbox's own "done" page
    assert "Location" not in response.headers
    assert "evil.example" not in response.content.decode()


def test_the_shops_answer_is_shown_as_text_not_as_a_page(shop: Any, wire: Deliveries) -> None:
    back = f"{SHOP}/billing/authorize_net_dpm/return/?ref=ORDER-1&amp;x=1"
    wire.reply = (
        b"<html><head><script>alert(document.cookie)</script>"
        b'<meta http-equiv="refresh" content="0;url=https://evil.example/">'
        b'</head><body><a href="https://evil.example/steal">win</a>'
        b'<a href="' + back.encode() + b'">Back to the shop</a></body></html>'
    )
    wire.reply_type = "application/javascript"
    checkout = start(Client(), "authorize_net_dpm", form("authorize_net_dpm"))
    response = Client().post(decide_url(checkout), {"action": "approve"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "<script>" not in page and "&lt;script&gt;alert(document.cookie)" in page
    assert 'href="https://evil.example' not in page
    assert not re.search(r'<meta http-equiv="refresh" content="[^"]*evil', page)
    # The shop's own link is offered, and followed as the shop's page asked.
    assert f'href="{back}"' in page


def test_the_shops_refresh_is_followed_only_to_the_shop(shop: Any, wire: Deliveries) -> None:
    wire.reply = b'<meta http-equiv="refresh" content="2;url=/billing/world_pay/return/?ref=R">'
    checkout = start(Client(), "world_pay", form("world_pay"))
    page = Client().post(decide_url(checkout), {"action": "approve"}).content.decode()
    # Relative to the callback URL the shop answered at, which is the shop's.
    assert f'content="2;url={SHOP}/billing/world_pay/return/?ref=R"' in page


# -- finding 8: PayPal's PDT answers only the shop's identity token -------------------------------


def test_pdt_answers_only_the_shops_identity_token(shop: Any) -> None:
    message = get_stand_in("pay_pal").notification(form("pay_pal"), status="paid")
    views.record(get_stand_in("pay_pal"), message, authentic=True)

    def pdt(token: str) -> bytes:
        data = {"cmd": "_notify-synch", "tx": message.transaction_id, "at": token}
        return Client().post(SERVICE["pay_pal"], data).content

    assert pdt("guess").startswith(b"FAIL")  # no PDT_TOKEN: nothing is right
    shop.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "the-identity-token"
    assert pdt("guess").startswith(b"FAIL")
    assert pdt("the-identity-token").startswith(b"SUCCESS\n")
