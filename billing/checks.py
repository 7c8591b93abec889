"""System checks for configured integrations."""

import ipaddress
import re
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from . import conf
from .exceptions import BillingError
from .registry import integration_class

if TYPE_CHECKING:
    from .integration import Integration

# DNS words that name a gateway's test system: pay.sandbox.realexpayments.com,
# test.authorize.net, secure-test.worldpay.com. Whole words only ("contest" is not one).
_TEST_WORDS = frozenset({"sandbox", "test"})


@register(Tags.security, "billing")
def check_integrations(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    live: list[str] = []
    for slug, configured in conf.merchant_settings().items():
        integration: Integration | None = None
        try:
            integration = integration_class(slug)()
        except BillingError as exc:
            messages.append(Error(str(exc), id="billing.E001"))
        if not _test_mode(integration, configured):
            name = integration.display_name if integration is not None else slug
            live.append(f"{name} ({slug})")
        if integration is None or integration.test_mode:
            continue
        for key, (live_url, test_url) in integration.endpoints.items():
            url = integration.endpoint(key)
            # One URL for both modes (Skrill, QuickPay: the account decides) is no test URL.
            problem = not_a_live_gateway(url, "" if live_url == test_url else test_url)
            if problem:
                messages.append(
                    Error(
                        f"{integration.display_name} ({slug}) is live but {key} points at "
                        f"{_shown(url)}: {problem}",
                        hint="Remove the override or turn test mode on.",
                        id="billing.E002",
                    )
                )
        site = conf.site_url()
        if site.startswith("http://"):
            messages.append(
                Error(
                    f"{integration.display_name} is live but BILLING_SITE_URL is plain http",
                    hint="Gateways must reach notify/ over https in live mode.",
                    id="billing.E003",
                )
            )
    if conf.sandbox_enabled() and not conf.configured_debug():
        messages.append(
            Error(
                "BILLING_SANDBOX is on while DEBUG is False",
                hint="The sandbox fakes every gateway; it must never serve real customers.",
                id="billing.E004",
            )
        )
    if conf.sandbox_enabled():
        # The stand-ins sign with the shop's secrets: beside a live integration they
        # would forge its notifications. Every configured one counts, not just the switch.
        for name in live:
            messages.append(
                Error(
                    f"BILLING_SANDBOX is on while {name} is live",
                    hint="Turn the sandbox off, or test mode on for it (TEST_MODE = True).",
                    id="billing.E005",
                )
            )
        if not conf.merchant_settings() and not conf.test_mode():
            messages.append(
                Error(
                    "BILLING_SANDBOX is on in live mode (MERCHANT_TEST_MODE=False)",
                    id="billing.E005",
                )
            )
    return messages


@register(Tags.security, "billing")
def check_callback_host(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Callback URLs (notify_url, return, ...) are built from the request without
    BILLING_SITE_URL; with a wildcard ALLOWED_HOSTS, its Host header picks the host."""
    if not conf.merchant_settings() or conf.site_url():
        return []
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "ALLOWED_HOSTS contains '*' and BILLING_SITE_URL is not set: the Host header of "
            "a request chooses the callback URLs the forms send to gateways",
            hint="Set BILLING_SITE_URL to the shop's public origin, e.g. https://shop.example.",
            id="billing.W001",
        )
    ]


def _test_mode(integration: "Integration | None", configured: Mapping[str, Any]) -> bool:
    """The integration's own answer; for one that cannot be built, the same rule."""
    if integration is not None:
        return integration.test_mode
    return bool((configured or {}).get("TEST_MODE", conf.test_mode()))


def not_a_live_gateway(url: str, test_url: str = "") -> str:
    """Why ``url`` cannot be a gateway's live endpoint ("" when it may be one)."""
    if test_url and url.rstrip("/") == test_url.rstrip("/"):
        return "the integration's own test URL"
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return "not a URL"
    if not host:
        return "no host"
    if host == "localhost" or host.endswith(".localhost"):
        return "a local host"
    address = _address(host)
    if address is not None:
        if address.is_unspecified:
            return "an unspecified address"
        if address.is_loopback or address.is_private or address.is_link_local:
            return "a local or private address"
        return ""
    if _TEST_WORDS & set(re.split(r"[.-]", host)):
        return "a test system's host"
    return ""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host names, in any spelling resolvers accept (127.1, 2130706433)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _shown(url: str) -> str:
    """The URL without any user name or password it carries."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an invalid URL"
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()


def unreachable_by_gateways(url: str) -> str:
    """Why a gateway's servers could not reach ``url`` ("" when they may)."""
    reason = not_a_live_gateway(url)
    return reason if reason in ("a local host", "a local or private address", "no host") else ""


@register("billing")
def check_operations(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """What a deployment must add for nothing to wait: a worker for retries, a public URL."""
    from .tasks import can_defer

    messages: list[CheckMessage] = []
    real: list[Integration] = []  # integrations that talk to the gateway itself
    for slug in conf.merchant_settings():
        try:
            integration = integration_class(slug)()
        except BillingError:
            continue  # E001 says so
        if not (conf.sandbox_enabled() and integration.test_mode):
            real.append(integration)
    if any(not integration.test_mode for integration in real) and not can_defer():
        messages.append(
            Warning(
                "notifications are processed by a task backend that cannot defer: retries "
                "and recovery of interrupted notifications run only when billing gets traffic",
                hint="Run a worker backend (e.g. django-tasks-db's db_worker) or schedule "
                "`manage.py billing_process --stale` every few minutes.",
                id="billing.W003",
            )
        )
    site = conf.site_url()
    reason = unreachable_by_gateways(site) if site else ""
    if real and reason:
        names = ", ".join(integration.display_name for integration in real)
        messages.append(
            Warning(
                f"BILLING_SITE_URL is {reason}, which {names} cannot reach: their "
                "notifications will never arrive",
                hint="Use the shop's public origin, or turn the sandbox on while developing.",
                id="billing.W004",
            )
        )
    return messages


@register(Tags.security, "billing")
def check_dummy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The dummy gateway takes no money: it exists to be copied, and only ever in test mode."""
    if "dummy" not in conf.merchant_settings():
        return []
    configured = conf.merchant_settings()["dummy"] or {}
    if _test_mode(None, configured):
        return []
    return [
        Error(
            "the dummy gateway is configured in live mode",
            hint="It is a template for new integrations; remove it or keep it in test mode.",
            id="billing.E006",
        )
    ]
