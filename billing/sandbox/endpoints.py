"""Absolute URLs of the stand-ins, for ``Integration.endpoint()`` when BILLING_SANDBOX is on.

Absolute, because the shop itself calls some of them server-to-server (PayPal's IPN
postback, PDT) and has no request to build them from: the base comes from
``BILLING_SANDBOX_URL``, the path from wherever ``billing.sandbox.urls`` is mounted.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from .gateways import get_stand_in

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url() -> str:
    return str(getattr(settings, "BILLING_SANDBOX_URL", "") or DEFAULT_BASE_URL).rstrip("/")


def sandbox_endpoint(slug: str, key: str) -> str:
    stand_in = get_stand_in(slug)
    try:
        name = stand_in.endpoints[key]
    except KeyError:
        raise ImproperlyConfigured(f"the {slug} stand-in has no endpoint for {key}") from None
    try:
        path = reverse(f"billing_sandbox:{slug}:{name}")
    except NoReverseMatch:
        raise ImproperlyConfigured(
            "BILLING_SANDBOX is on but billing.sandbox.urls is not mounted: add "
            'path("sandbox/", include("billing.sandbox.urls")) to your URLconf'
        ) from None
    return base_url() + path
