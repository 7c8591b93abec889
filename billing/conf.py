"""Settings, always read at call time so tests and per-request overrides see changes."""

from typing import Any

from django.conf import settings

DEFAULT_MAX_BODY_BYTES = 64 * 1024


def test_mode() -> bool:
    return bool(getattr(settings, "MERCHANT_TEST_MODE", True))


def merchant_settings() -> dict[str, dict[str, Any]]:
    return dict(getattr(settings, "MERCHANT_SETTINGS", {}) or {})


def integration_settings(slug: str) -> dict[str, Any] | None:
    value = merchant_settings().get(slug)
    return dict(value) if value is not None else None


def configured_debug() -> bool:
    """DEBUG as the project's settings say it, also under a test runner.

    Django's test runners force DEBUG off and keep the configured value (in the private
    ``django.test.utils._TestState``); a shop's development settings, run as a test
    suite, may then still use the sandbox. Production settings never had DEBUG on.
    """
    from django.test.utils import _TestState

    saved = getattr(_TestState, "saved_data", None)
    if saved is not None and not settings.DEBUG:
        return bool(getattr(saved, "debug", False))
    return bool(settings.DEBUG)


def sandbox_enabled() -> bool:
    return bool(getattr(settings, "BILLING_SANDBOX", False))


def max_body_bytes() -> int:
    return int(getattr(settings, "BILLING_MAX_NOTIFICATION_BYTES", DEFAULT_MAX_BODY_BYTES))


def trusted_proxies() -> frozenset[str]:
    """Addresses of reverse proxies whose X-Forwarded-For may be believed."""
    return frozenset(getattr(settings, "BILLING_TRUSTED_PROXIES", ()))


def http_timeout() -> float:
    return float(getattr(settings, "BILLING_HTTP_TIMEOUT", 10.0))


def max_verify_attempts() -> int:
    return int(getattr(settings, "BILLING_MAX_VERIFY_ATTEMPTS", 8))


def retry_base_seconds() -> float:
    """The first retry's delay; each further one doubles it (capped at six hours)."""
    return float(getattr(settings, "BILLING_RETRY_BASE_SECONDS", 30.0))


def lease_seconds() -> float:
    """How long a worker's claim on a notification lasts before another may take it."""
    return float(getattr(settings, "BILLING_LEASE_SECONDS", 300.0))


def recovery_interval() -> float:
    """Seconds between automatic recovery sweeps, per process."""
    return float(getattr(settings, "BILLING_RECOVERY_INTERVAL", 60.0))


def retention_days() -> int | None:
    """Days after which settled payer data and return rows are pruned; None keeps them."""
    days = getattr(settings, "BILLING_RETENTION_DAYS", None)
    return None if days is None else int(days)


def task_backend_alias() -> str:
    return str(getattr(settings, "BILLING_TASK_BACKEND", "default"))


def site_url() -> str:
    """Scheme and host used for callback URLs when no request is at hand."""
    return str(getattr(settings, "BILLING_SITE_URL", "")).rstrip("/")
