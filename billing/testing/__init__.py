"""Test helpers: for a shop's own tests, and for integrations' conformance.

For a shop (see docs/testing.md, "Testing your shop")::

    from billing.testing import FakePayPal, checkout, notify

``notify(client, slug, reference=..., ...)`` posts a gateway's authentic notification
through Django's test client; ``checkout(slug, ...)`` records the payment it is bound to,
as rendering the shop's form does; ``FakePayPal`` answers PayPal's postbacks. Nothing
here needs pytest; ``billing.testing.pytest_plugin`` adds fixtures for those who use it.

The names resolve on first use, so importing this package (or ``billing.testing.fakes``)
before Django's app registry is ready works. ``billing.testing.conformance`` is the
pytest mixin every built-in integration's tests run.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fakes import FakePayPal, install_transport
    from .notifications import (
        Notified,
        Notifier,
        NotifyError,
        SignalSent,
        build_notification,
        checkout,
        notify,
        statuses,
    )

__all__ = [
    "FakePayPal",
    "Notified",
    "Notifier",
    "NotifyError",
    "SignalSent",
    "build_notification",
    "checkout",
    "install_transport",
    "notify",
    "statuses",
]

_HOMES = {"FakePayPal": "fakes", "install_transport": "fakes"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'billing.testing' has no attribute {name!r}")
    module = import_module(f"{__name__}.{_HOMES.get(name, 'notifications')}")
    return getattr(module, name)
