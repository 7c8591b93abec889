"""The gateway stand-ins, one module per integration slug, found by looking in this package.

A new gateway's stand-in is one module here (``<slug>.py``, defining ``stand_in``);
the URLs, the hosted page, endpoint lookup and the ``billing`` command pick it up.
"""

import pkgutil
from functools import cache
from importlib import import_module

from django.core.exceptions import ImproperlyConfigured

from .base import StandIn


@cache
def stand_ins() -> dict[str, StandIn]:
    found: dict[str, StandIn] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        module = import_module(f"{__name__}.{info.name}")
        stand_in = module.stand_in
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
