"""Wording for the shop's templates: ``{% load store_tags %}``."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()

JUST_NOW = timedelta(minutes=1)


@register.filter
def possessive(name: object) -> str:
    """The name's possessive: "PayPal's", but "Global Payments'" (a final s takes the
    apostrophe alone)."""
    text = str(name)
    return f"{text}'" if text.endswith(("s", "S")) else f"{text}'s"


@register.filter
def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago: "just now" under a minute (or for a moment ahead, clocks being a
    little apart), else "5 minutes ago"."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if now - moment < JUST_NOW:
        return "just now"
    return f"{timesince(moment, now)} ago"
