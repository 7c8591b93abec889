"""Finding integration classes by slug, in the shop's apps first, then the built-ins."""

import difflib
import pkgutil
import re
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.apps import apps

from .exceptions import IntegrationModuleNotFound

if TYPE_CHECKING:
    from .integration import Integration

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")

RETIRED = {
    "google_checkout": "Google Checkout closed in 2013; use PayPal or Stripe.",
    "amazon_fps": "Amazon Flexible Payments Service closed in 2015; use Amazon Pay.",
    "braintree_payments": (
        "Braintree's Transparent Redirect was retired; use Braintree's Drop-in UI."
    ),
    "global_iris": "Global Iris RealMPI was retired; use global_payments (Realex HPP).",
}

_cache: dict[tuple[str, tuple[str, ...]], type["Integration"]] = {}


def class_name_for(slug: str) -> str:
    return "".join(part.title() for part in slug.split("_")) + "Integration"


def _import(module_path: str) -> Any | None:
    try:
        return import_module(module_path)
    except ModuleNotFoundError as exc:
        # Only "this module does not exist"; a broken import inside it must surface.
        if exc.name and module_path.startswith(exc.name):
            return None
        raise


def integration_class(slug: str) -> type["Integration"]:
    if not _SLUG.match(slug):
        raise IntegrationModuleNotFound(f"{slug!r} is not an integration name")
    app_names = tuple(config.name for config in apps.get_app_configs())
    key = (slug, app_names)
    if key in _cache:
        return _cache[key]
    if slug in RETIRED:
        raise IntegrationModuleNotFound(f"{slug}: {RETIRED[slug]}")
    candidates = [f"{name}.integrations.{slug}_integration" for name in app_names]
    candidates.append(f"billing.integrations.{slug}_integration")
    for module_path in candidates:
        module = _import(module_path)
        if module is None:
            continue
        cls = getattr(module, class_name_for(slug), None)
        if cls is None:
            raise IntegrationModuleNotFound(f"{module_path} has no class {class_name_for(slug)}")
        _cache[key] = cls
        return cls
    raise IntegrationModuleNotFound(f"no integration named {slug!r}{did_you_mean(slug)}")


def built_in_slugs() -> list[str]:
    from . import integrations

    suffix = "_integration"
    return sorted(
        info.name[: -len(suffix)]
        for info in pkgutil.iter_modules(integrations.__path__)
        if info.name.endswith(suffix)
    )


def did_you_mean(slug: str, known: list[str] | None = None) -> str:
    """``"; did you mean 'pay_pal'?"`` for a near miss, else ""."""
    close = difflib.get_close_matches(slug, known or built_in_slugs(), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def get_integration(name: str, *args: Any, **kwargs: Any) -> "Integration":
    return integration_class(name)(*args, **kwargs)
