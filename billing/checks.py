"""System checks for configured integrations."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from . import conf
from .exceptions import BillingError
from .registry import integration_class

_SANDBOX_MARKERS = ("sandbox", "test", "127.0.0.1", "localhost")


@register(Tags.security, "billing")
def check_integrations(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for slug in conf.merchant_settings():
        try:
            integration = integration_class(slug)()
        except BillingError as exc:
            messages.append(Error(str(exc), id="billing.E001"))
            continue
        if integration.test_mode:
            continue
        for key in integration.endpoints:
            url = integration.endpoint(key)
            if any(marker in url for marker in _SANDBOX_MARKERS):
                messages.append(
                    Error(
                        f"{integration.display_name} is live but {key} points at {url}",
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
    if conf.sandbox_enabled() and not settings.DEBUG:
        messages.append(
            Error(
                "BILLING_SANDBOX is on while DEBUG is False",
                hint="The sandbox fakes every gateway; it must never serve real customers.",
                id="billing.E004",
            )
        )
    if conf.sandbox_enabled() and not conf.test_mode():
        messages.append(
            Error(
                "BILLING_SANDBOX is on in live mode (MERCHANT_TEST_MODE=False)", id="billing.E005"
            )
        )
    return messages
