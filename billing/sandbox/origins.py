"""The shop's own origins: the only places a stand-in posts to or sends the customer.

The URLs a stand-in uses (notify_url, MC_callback, x_relay_url, return, ...) come from
the customer's browser, which may have changed them. A real gateway posts to whatever
the form says from its own network; a sandbox runs next to the shop, so following them
would let anyone make it request internal addresses (SSRF) or send customers to a
look-alike site. So a target counts only if its origin (scheme, host, port) is one the
shop configured: ``BILLING_SITE_URL``, ``BILLING_SANDBOX_URL`` (the sandbox runs inside
the shop) or one listed in ``BILLING_SANDBOX_ALLOWED_ORIGINS``.
"""

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .endpoints import base_url

Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters browsers and HTTP libraries read differently (a backslash is a slash to a
# browser, not to urlsplit), or that have no place in a URL.
_AMBIGUOUS = re.compile(r"[\x00-\x20\x7f\\]")
_REFRESH = re.compile(
    r"^\s*(\d{1,6})\s*(?:[;,]\s*(?:url\s*=\s*)?(.*))?$", re.IGNORECASE | re.DOTALL
)


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else."""
    if not url or _AMBIGUOUS.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None  # "https://shop.test@evil.example" reads as the shop to people
    return parts.scheme, parts.hostname.rstrip("."), port or DEFAULT_PORTS[parts.scheme]


def shop_origins() -> set[Origin]:
    """The origins the shop configured, read at call time."""
    extra = getattr(settings, "BILLING_SANDBOX_ALLOWED_ORIGINS", ()) or ()
    if isinstance(extra, str):
        extra = (extra,)
    urls = [str(getattr(settings, "BILLING_SITE_URL", "") or ""), base_url(), *map(str, extra)]
    return {found for found in map(origin, urls) if found is not None}


def is_shop_url(url: str) -> bool:
    found = origin(url)
    return found is not None and found in shop_origins()


def shop_url(url: str) -> str:
    """``url`` if it is the shop's, else "" (the sandbox then links nowhere)."""
    return url if is_shop_url(url) else ""


class _Links(HTMLParser):
    """Collects a page's links and its refresh, without running or rendering anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.refresh = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.refresh = values.get("content", "")


def shop_links(page: str, base: str) -> tuple[list[str], tuple[int, str] | None]:
    """The links of ``page`` (fetched from ``base``) that lead to the shop, and its
    refresh as (seconds, url) when that leads to the shop too."""
    parser = _Links()
    parser.feed(page)
    parser.close()
    links = _unique(urljoin(base, link.strip()) for link in parser.links)
    refresh = None
    found = _REFRESH.match(parser.refresh)
    if found and found.group(2):
        url = urljoin(base, found.group(2).strip().strip("'\""))
        if is_shop_url(url):
            refresh = (min(int(found.group(1)), 60), url)
    return [link for link in links if is_shop_url(link)], refresh


def _unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))
