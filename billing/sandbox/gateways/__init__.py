"""The gateway stand-ins, one module per integration slug.

A stand-in is a module ``<slug>.py`` defining ``stand_in``: here for the built-in
gateways, and in a ``stand_ins`` package of any installed app for a gateway that a shop
or another package adds (as integrations are found in its ``integrations`` package). The
URLs, the hosted page, endpoint lookup and the ``billing`` command pick it up.
"""

import pkgutil
from functools import cache
from importlib import import_module
from importlib.util import find_spec

from django.core.exceptions import ImproperlyConfigured

from .base import StandIn

_NOT_STAND_INS = {"api_kit", "base", "kit"}


def _packages() -> list[str]:
    """Where stand-ins live: every installed app's ``stand_ins``, then the built-ins."""
    from django.apps import apps

    found = []
    if apps.ready:  # the billing command builds notifications without Django set up
        for config in apps.get_app_configs():
            if find_spec_safely(f"{config.name}.stand_ins"):
                found.append(f"{config.name}.stand_ins")
    return [*found, __name__]


def find_spec_safely(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:  # the app's parent package has no such module
        return False


@cache
def stand_ins() -> dict[str, StandIn]:
    found: dict[str, StandIn] = {}
    for package in _packages():
        for info in pkgutil.iter_modules(import_module(package).__path__):
            if info.name in _NOT_STAND_INS or info.name in found:
                continue
            module = import_module(f"{package}.{info.name}")
            stand_in = getattr(module, "stand_in", None)
            if not isinstance(stand_in, StandIn) or stand_in.slug != info.name:
                raise ImproperlyConfigured(
                    f"{module.__name__}.stand_in must be a StandIn for {info.name!r}"
                )
            found[info.name] = stand_in
    return found


def get_stand_in(slug: str) -> StandIn:
    try:
        return stand_ins()[slug]
    except KeyError:
        raise ImproperlyConfigured(
            f"the sandbox has no stand-in for {slug!r} (it has: {', '.join(stand_ins())})"
        ) from None
