"""When the sandbox may answer at all: checked on every request, by every view.

DEBUG (as the settings file says it), ``BILLING_SANDBOX``, and the gateway's
integration configured and in test mode: the stand-ins sign with that integration's
secrets, so a live one must never get a notification the shop believes.
"""

from django.http import HttpResponse, HttpResponseNotFound

from .. import conf
from ..exceptions import BillingError
from ..registry import integration_class


def enabled() -> bool:
    """The sandbox switched on, where it may be: with DEBUG (as the settings file says it,
    so a development project's own test suite may use it too)."""
    return conf.configured_debug() and conf.sandbox_enabled()


def serves(slug: str) -> bool:
    """Whether the sandbox may play this gateway now."""
    if not enabled():
        return False
    try:
        return bool(integration_class(slug)().test_mode)
    except BillingError:  # unknown, not configured or incomplete: nothing to play
        return False


def not_enabled() -> HttpResponse:
    return HttpResponseNotFound(
        b"The billing sandbox is off (DEBUG, BILLING_SANDBOX, or this integration is not in "
        b"test mode).\n",
        content_type="text/plain",
    )
