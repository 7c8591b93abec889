"""Django's error reports (the DEBUG page, ADMINS mails) without the gateways' secrets.

Django hides settings whose *names* look secret; ``SHA_IN`` or ``SALT`` do not. This
filter also hides every *value* an integration declares secret (``secret_settings``),
wherever it shows up: settings, local variables, POST data, request headers. Billing
installs it when the project keeps Django's default filter; a system check warns when
a project's own filter does not derive from it.
"""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.http import HttpRequest, QueryDict
from django.utils.module_loading import import_string
from django.views.debug import SafeExceptionReporterFilter, get_default_exception_reporter_filter

from . import conf
from .exceptions import BillingError
from .registry import integration_class

DJANGO_DEFAULT = "django.views.debug.SafeExceptionReporterFilter"
THIS_FILTER = "billing.reporting.SecretsFilter"
# Shorter values are masked only where they are the whole value: masking every "42"
# inside other text would make reports unreadable and hide nothing worth hiding.
_MIN_SUBSTRING = 8


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def configured_secrets() -> frozenset[str]:
    """Every secret value in MERCHANT_SETTINGS, by declaration or by Django's name rule."""
    found: set[str] = {str(settings.SECRET_KEY)}
    for slug, values in conf.merchant_settings().items():
        try:
            declared = frozenset(integration_class(slug).secret_settings)
        except BillingError:
            declared = frozenset()
        found.update(_secret_values(values or {}, declared))
    return frozenset(secret for secret in found if secret)


def _secret_values(values: dict[str, Any], declared: frozenset[str]) -> Iterator[str]:
    """Values under a declared or secret-looking key, at any depth (PayPal's EWP keys
    sit in a nested dict)."""
    hidden = SafeExceptionReporterFilter.hidden_settings
    for key, value in values.items():
        if key in declared or hidden.search(str(key)):
            yield from _strings(value)
        elif isinstance(value, dict):
            yield from _secret_values(value, declared)


class SecretsFilter(SafeExceptionReporterFilter):
    def _mask(self, value: Any, secrets: frozenset[str]) -> Any:
        if isinstance(value, str):
            if value in secrets:
                return self.cleansed_substitute
            for secret in secrets:
                if len(secret) >= _MIN_SUBSTRING and secret in value:
                    value = value.replace(secret, self.cleansed_substitute)
            return value
        if isinstance(value, dict):
            return {k: self._mask(v, secrets) for k, v in value.items()}
        if isinstance(value, list):
            return [self._mask(v, secrets) for v in value]
        if isinstance(value, tuple):
            return tuple(self._mask(v, secrets) for v in value)
        return value

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        return self._mask(super().cleanse_setting(key, value), configured_secrets())

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        parameters = super().get_post_parameters(request)
        if not isinstance(parameters, QueryDict):
            return parameters
        secrets = configured_secrets()
        masked = parameters.copy()
        for name, values in parameters.lists():
            masked.setlist(name, [self._mask(v, secrets) for v in values])
        return masked

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        secrets = configured_secrets()
        return [
            (name, self._mask(value, secrets))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


def install() -> None:
    """Use this filter unless the project chose its own (AppConfig.ready)."""
    if getattr(settings, "DEFAULT_EXCEPTION_REPORTER_FILTER", DJANGO_DEFAULT) == DJANGO_DEFAULT:
        settings.DEFAULT_EXCEPTION_REPORTER_FILTER = THIS_FILTER
        get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]


@register(Tags.security, "billing")
def check_reporter_filter(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    path = getattr(settings, "DEFAULT_EXCEPTION_REPORTER_FILTER", DJANGO_DEFAULT)
    try:
        chosen = import_string(path)
    except ImportError:
        return []  # Django itself reports a filter that cannot be imported
    if not conf.merchant_settings() or issubclass(chosen, SecretsFilter):
        return []
    return [
        Warning(
            f"DEFAULT_EXCEPTION_REPORTER_FILTER is {path}, which does not hide the gateways' "
            "secrets (e.g. SHA_IN) in error reports",
            hint=f"Derive your filter from {THIS_FILTER}.",
            id="billing.W002",
        )
    ]
