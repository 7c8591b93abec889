"""Off-site payment integrations for Django.

``from billing import get_integration, Integration`` works before Django's app
registry is ready: both names are resolved on first use. The errors import nothing
of Django and are plain attributes.
"""

from typing import TYPE_CHECKING, Any

from .exceptions import BillingError, IntegrationModuleNotFound, IntegrationNotConfigured

if TYPE_CHECKING:
    from .integration import Integration
    from .registry import get_integration

__all__ = [
    "BillingError",
    "Integration",
    "IntegrationModuleNotFound",
    "IntegrationNotConfigured",
    "get_integration",
]


def __getattr__(name: str) -> Any:
    if name == "Integration":
        from .integration import Integration

        return Integration
    if name == "get_integration":
        from .registry import get_integration

        return get_integration
    raise AttributeError(f"module 'billing' has no attribute {name!r}")
