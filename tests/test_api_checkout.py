"""The framework for checkouts created by API: routes and URLs without the namespace."""

import sys
import types
from typing import Any

import pytest
from django.urls import include, path

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured
from billing.integration import route_path

ACCOUNTS = {
    "stripe": {"SECRET_KEY": "sk_test_x", "WEBHOOK_SECRET": "whsec_x"},
    "dummy": {"MERCHANT_ID": "M-1", "SECRET": "dummy-secret"},
}


@pytest.fixture
def urlconf(settings: Any) -> Any:
    """Set ROOT_URLCONF to a module of the given patterns."""
    settings.MERCHANT_SETTINGS = ACCOUNTS
    module = types.ModuleType("tests._api_checkout_urls")
    sys.modules[module.__name__] = module

    def use(patterns: list[Any]) -> None:
        module.urlpatterns = patterns  # type: ignore[attr-defined]
        settings.ROOT_URLCONF = module.__name__

    yield use
    del sys.modules[module.__name__]


def test_seed_style_side_by_side_each_finds_its_own(urlconf: Any) -> None:
    stripe, dummy = get_integration("stripe"), get_integration("dummy")
    urlconf([path("s/", include(stripe.urls)), path("d/", include(dummy.urls))])
    assert route_path("stripe", "notify") == "/s/notify/"
    assert route_path("dummy", "notify") == "/d/notify/"
    assert route_path("stripe", "start") == "/s/start/"
    assert route_path("dummy", "start") is None  # a form-post gateway has no start/


def test_seed_style_under_a_namespace_named_by_the_slug(urlconf: Any) -> None:
    stripe = get_integration("stripe")
    urlconf([path("pay/", include((stripe.urls, "stripe")))])
    assert stripe.service_url == "/pay/start/"


def test_billing_urls_first(urlconf: Any) -> None:
    stripe = get_integration("stripe")
    urlconf([path("billing/", include("billing.urls")), path("x/", include(stripe.urls))])
    assert stripe.service_url == "/billing/stripe/start/"


def test_not_mounted_says_so(urlconf: Any) -> None:
    stripe = get_integration("stripe")
    urlconf([])
    assert stripe.absolute_url("notify", None) is None
    with pytest.raises(IntegrationNotConfigured, match="start/"):
        stripe.service_url
