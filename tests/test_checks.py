"""System checks: the sandbox never beside a live integration, live endpoints that are not
a gateway's, and callback URLs whose host the request chooses."""

from typing import Any

import pytest
from django.core.checks import CheckMessage, run_checks

from billing.protocols import authorize_net_dpm, global_payments, ogone_payments, pay_pal, world_pay

# Made-up accounts (never real credentials) for every built-in integration.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "pay_pal": {"RECEIVER_EMAIL": "shop@example.com"},
    "world_pay": {"INSTALLATION_ID": "1", "MD5_SECRET": "m", "CALLBACK_PASSWORD": "c"},
    "global_payments": {"MERCHANT_ID": "m", "ACCOUNT": "internet", "SHARED_SECRET": "s"},
    "ogone_payments": {"PSPID": "p", "SHA_IN": "i", "SHA_OUT": "o", "HASH_ALGORITHM": "sha512"},
    "authorize_net_dpm": {"LOGIN_ID": "l", "SIGNATURE_KEY": "AB" * 64},
}


@pytest.fixture
def shop(settings: Any) -> Any:
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["shop.example"]
    settings.BILLING_SITE_URL = "https://shop.example"
    settings.BILLING_SANDBOX = False
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {slug: dict(account) for slug, account in ACCOUNTS.items()}
    return settings


def found(check_id: str) -> list[CheckMessage]:
    return [message for message in run_checks(tags=["billing"]) if message.id == check_id]


# -- billing.E005: the sandbox on beside a live integration --------------------------------------


@pytest.mark.parametrize("slug", list(ACCOUNTS))
def test_sandbox_beside_one_live_integration_is_an_error_naming_it(shop: Any, slug: str) -> None:
    shop.BILLING_SANDBOX = True
    assert found("billing.E005") == []
    shop.MERCHANT_SETTINGS[slug]["TEST_MODE"] = False
    errors = found("billing.E005")
    assert len(errors) == 1 and slug in errors[0].msg and errors[0].is_serious()


def test_live_by_the_global_switch_names_every_integration_without_an_override(shop: Any) -> None:
    shop.BILLING_SANDBOX = True
    shop.MERCHANT_TEST_MODE = False
    shop.MERCHANT_SETTINGS["pay_pal"]["TEST_MODE"] = True  # an override keeps it in test mode
    named = " ".join(error.msg for error in found("billing.E005"))
    assert "pay_pal" not in named
    assert all(slug in named for slug in ACCOUNTS if slug != "pay_pal")


def test_an_incomplete_integration_in_live_mode_counts_too(shop: Any) -> None:
    shop.BILLING_SANDBOX = True
    shop.MERCHANT_SETTINGS["world_pay"] = {"TEST_MODE": False}  # E001 as well
    assert "world_pay" in found("billing.E005")[0].msg


def test_no_sandbox_no_e005(shop: Any) -> None:
    shop.MERCHANT_TEST_MODE = False
    assert found("billing.E005") == []


# -- billing.E002: a live integration pointing somewhere that is not the gateway -----------------


@pytest.fixture
def live(shop: Any) -> Any:
    shop.MERCHANT_TEST_MODE = False
    return shop


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]/cgi-bin/webscr",
        "http://[::ffff:127.0.0.1]/cgi-bin/webscr",
        "http://127.0.0.2:8000/x",
        "http://2130706433/x",  # 127.0.0.1 as one number, which browsers and resolvers take
        "http://10.0.0.5/",
        "http://192.168.1.20/pay",
        "http://172.16.0.1/pay",
        "http://169.254.169.254/latest/",
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://[::]/x",
        "http://localhost:8000/sandbox/",
        "http://LOCALHOST./x",
        "http://shop.localhost/x",
        "https://pay.sandbox.realexpayments.com/pay",
        "https://test.authorize.net/gateway/transact.dll",
        "https://www.sandbox.paypal.com/cgi-bin/webscr",
        "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr",
        "https://secure-test.worldpay.com/wcc/purchase",
        "https://ogone.test.v-psp.com/ncol/test/orderstandard_utf8.asp",
        "/relative/path",
    ],
)
def test_live_endpoint_that_is_not_a_live_gateway_is_an_error(live: Any, url: str) -> None:
    live.MERCHANT_SETTINGS["pay_pal"]["SERVICE_URL"] = url
    errors = found("billing.E002")
    assert len(errors) == 1 and "SERVICE_URL" in errors[0].msg


@pytest.mark.parametrize(
    ("slug", "url"),
    [
        ("world_pay", world_pay.TEST_SERVICE_URL),
        ("ogone_payments", ogone_payments.TEST_SERVICE_URL),
        ("authorize_net_dpm", authorize_net_dpm.TEST_SERVICE_URL),
        ("global_payments", global_payments.SANDBOX_SERVICE_URL),
        ("pay_pal", pay_pal.SANDBOX_POSTBACK_URL),
    ],
)
def test_the_integrations_own_test_url_is_an_error(live: Any, slug: str, url: str) -> None:
    key = "POSTBACK_URL" if slug == "pay_pal" else "SERVICE_URL"
    live.MERCHANT_SETTINGS[slug][key] = url
    errors = found("billing.E002")
    assert len(errors) == 1 and slug in errors[0].msg and "test URL" in errors[0].msg


def test_the_real_live_urls_of_every_gateway_pass(live: Any, settings: Any) -> None:
    from tests.test_tasks import DUMMY

    settings.TASKS = {"default": {"BACKEND": DUMMY}}  # a worker backend: no W003 either
    assert run_checks(tags=["billing"]) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://gateway.example.com/latest/pay",  # "test" inside a word of the path
        "https://contest-payments.example.com/pay",
        "https://pay.example.com/?return=http://localhost/",
        "https://8.8.8.8/pay",  # a public address
    ],
)
def test_a_live_url_that_only_contains_a_marker_passes(live: Any, url: str) -> None:
    live.MERCHANT_SETTINGS["pay_pal"]["SERVICE_URL"] = url
    assert found("billing.E002") == []


def test_e002_shows_no_credentials_of_the_url(live: Any) -> None:
    live.MERCHANT_SETTINGS["pay_pal"]["SERVICE_URL"] = "https://user:hunter2@localhost/pay"
    assert "hunter2" not in found("billing.E002")[0].msg


# -- billing.W001: the Host header choosing the callback host -------------------------------------


def test_wildcard_hosts_without_a_site_url_warns(shop: Any) -> None:
    shop.ALLOWED_HOSTS = ["shop.example", "*"]
    shop.BILLING_SITE_URL = ""
    warnings = found("billing.W001")
    assert len(warnings) == 1 and not warnings[0].is_serious()
    assert "BILLING_SITE_URL" in f"{warnings[0].msg} {warnings[0].hint}"


@pytest.mark.parametrize(
    ("hosts", "site", "configured"),
    [
        (["*"], "https://shop.example", True),
        (["shop.example", ".shop.example"], "", True),
        (["*"], "", False),
    ],
    ids=["site-url", "named-hosts", "no-integration"],
)
def test_no_warning_when_the_host_is_not_the_requests_choice(
    shop: Any, hosts: list[str], site: str, configured: bool
) -> None:
    shop.ALLOWED_HOSTS = hosts
    shop.BILLING_SITE_URL = site
    if not configured:
        shop.MERCHANT_SETTINGS = {}
    assert found("billing.W001") == []


def test_a_live_shop_without_a_deferring_backend_is_told_what_to_run(settings: Any) -> None:
    from billing.checks import check_operations

    settings.BILLING_SITE_URL = "https://shop.example"
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "s@example.com"}}
    assert check_operations() == []  # in test mode: a developer's machine
    settings.MERCHANT_SETTINGS["pay_pal"]["TEST_MODE"] = False
    [warning] = check_operations()
    assert warning.id == "billing.W003" and "billing_process --stale" in warning.hint


@pytest.mark.parametrize(
    "site", ["http://127.0.0.1:8000", "http://localhost:8000", "http://10.1.2.3"]
)
def test_a_notify_url_no_gateway_can_reach_is_a_warning(settings: Any, site: str) -> None:
    from billing.checks import check_operations

    settings.BILLING_SITE_URL = site
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "s@example.com"}}
    [warning] = check_operations()
    assert warning.id == "billing.W004" and "PayPal" in warning.msg
    settings.BILLING_SANDBOX = True  # the local stand-ins can reach it
    assert check_operations() == []


def test_a_gateway_with_one_url_for_both_modes_may_be_live(shop: Any) -> None:
    """Skrill has one URL for test and live accounts: posting there live is right, but an
    override to a test host is still refused."""
    account = {"PAY_TO_EMAIL": "shop@example.com", "MERCHANT_ID": "1", "SECRET_WORD": "w"}
    shop.MERCHANT_SETTINGS = {"skrill": {**account, "TEST_MODE": False}}
    assert found("billing.E002") == []
    override = {**account, "TEST_MODE": False, "SERVICE_URL": "https://pay.sandbox.example"}
    shop.MERCHANT_SETTINGS = {"skrill": override}
    [error] = found("billing.E002")
    assert "SERVICE_URL" in error.msg
