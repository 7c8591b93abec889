"""What stand-ins check and write alike, written once: a problems collector, amounts in
major and minor units, a form-encoded notification and the shop's notify URL. (The
played account is ``StandIn.account``; ``played_account`` is re-exported from ``base``.)

Only the scaffolding is shared. Each stand-in still computes its own signatures from the
gateway's documentation (none are here), so it can disagree with the shop's code.
"""

import hmac
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.urls import NoReverseMatch, reverse

from .base import FormRejected, Message, exponent
from .base import played_account as played_account  # where stand-ins have imported it from


class Problems:
    """What is wrong with a shop's form, in the gateway's words, collected to show at once."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = fields
        self.found: list[str] = []

    def add(self, problem: str) -> None:
        self.found.append(problem)

    def check(self, condition: bool, problem: str) -> bool:
        if not condition:
            self.add(problem)
        return condition

    def require(self, *names: str) -> bool:
        """Each named field is present and not empty."""
        missing = [name for name in names if not self.fields.get(name)]
        for name in missing:
            self.add(f"{name} is required.")
        return not missing

    def equals(self, name: str, expected: str, what: str) -> bool:
        """The field holds the played account's value (a merchant id, a key)."""
        return self.check(
            bool(expected) and self.fields.get(name) == expected,
            f"{name} is not {what} this sandbox plays.",
        )

    def http_urls(self, *names: str, required: bool = False) -> None:
        """Each named field, if there (or ``required``), is an http(s) URL."""
        for name in names:
            self.http_url(name, required=required)

    def http_url(self, name: str, *, required: bool = False) -> str:
        """An http(s) URL the gateway can call or send the customer to ("" if absent)."""
        url = self.fields.get(name, "")
        if not url:
            self.check(not required, f"{name} is required.")
            return ""
        parts = urlsplit(url)
        if self.check(
            parts.scheme in ("http", "https") and bool(parts.netloc),
            f"{name} is not an http(s) URL.",
        ):
            return url
        return ""

    def amount(self, name: str, currency: str, *, minor_units: bool = False) -> Decimal:
        """A positive amount of ``currency`` with exactly its decimals (or in minor units);
        Decimal(0) when it is not one (and the problem is noted)."""
        text = self.fields.get(name, "")
        places = 0 if minor_units else exponent(currency)
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal(0)
        decimals = len(text.partition(".")[2]) if "." in text else 0
        if value <= 0 or not text.replace(".", "", 1).isdigit() or decimals != places:
            unit = "minor units" if minor_units else "major units"
            self.add(f"{name} {text!r} is not a {currency} amount in {unit}.")
            return Decimal(0)
        return value.scaleb(-exponent(currency)) if minor_units else value

    def signature(self, name: str, expected: str, *, case_sensitive: bool = False) -> bool:
        """The form's signature field matches what the gateway computes."""
        received = self.fields.get(name, "")
        if not case_sensitive:
            received, expected = received.lower(), expected.lower()
        return self.check(
            hmac.compare_digest(received.encode(), expected.encode()),
            f"{name} does not match the form.",
        )

    def raise_if_any(self, title: str) -> None:
        if self.found:
            raise FormRejected(title, self.found)


def major(amount: Decimal, currency: str, spec: str = "f") -> str:
    """``amount`` in major units with exactly the currency's decimals (``spec`` ",f" for
    thousands commas)."""
    return format(amount.quantize(Decimal(1).scaleb(-exponent(currency))), spec)


def minor(amount: Decimal, currency: str) -> int:
    """``amount`` in minor units of the currency (rounded to a whole number)."""
    return int(amount.scaleb(exponent(currency)).to_integral_value())


def form_message(
    pairs: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    transaction_id: str,
    status: str,
    **more: Any,
) -> Message:
    """A notification posted as an urlencoded form of ``pairs``, in their order (``more``:
    the Message's headers or method)."""
    body = urlencode(pairs).encode("ascii")
    return Message(body=body, transaction_id=transaction_id, status=status, **more)


def shop_notify_url(slug: str) -> str:
    """The shop's ``billing/<slug>/notify/`` as an absolute URL, what the integration's
    docs tell merchants to set in the gateway's dashboard ("" without billing.urls)."""
    try:
        relative = reverse("billing:notify", kwargs={"integration": slug})
    except NoReverseMatch:
        return ""
    from django.conf import settings

    from ..endpoints import base_url

    site = str(getattr(settings, "BILLING_SITE_URL", "") or "").rstrip("/")
    return (site or base_url()) + relative
