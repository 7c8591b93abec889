"""Step 1: store the inbound request as received, before anything trusts it."""

import ipaddress
from collections.abc import Callable, Collection
from urllib.parse import quote

from django.http import HttpRequest

from . import conf
from .models import NotificationLog, clipped, storable

REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-csrftoken"})
_SECRET_WORDS = ("secret", "token", "password", "api-key", "apikey")
# Signature and password headers by their usual suffixes (X-Hub-Signature, X-Sig, X-Pw).
_SECRET_SUFFIXES = ("signature", "-sig", "-pw")
# The range of NotificationLog.declared_length (a BigIntegerField).
_MIN_BIGINT, _MAX_BIGINT = -(2**63), 2**63 - 1
# PostgreSQL text and jsonb cannot hold NUL; a URL may carry it percent-encoded.
_NUL = "\x00"


def _url_text(text: str) -> str:
    """A path or query string with NUL percent-encoded: the same URL, storable."""
    return text.replace(_NUL, quote(_NUL))


def _is_secret_header(lower: str) -> bool:
    return (
        lower in _SECRET_HEADERS
        or any(word in lower for word in _SECRET_WORDS)
        or lower.endswith(_SECRET_SUFFIXES)
    )


def redact_headers(request: HttpRequest, keep: Collection[str] = ()) -> dict[str, str]:
    """Headers as received, minus secrets; ``keep`` names headers an integration needs
    to verify the stored request again (e.g. a webhook's signature)."""
    kept = {name.lower() for name in keep}
    headers = {}
    for name, value in request.headers.items():
        lower = name.lower()
        secret = lower not in kept and _is_secret_header(lower)
        headers[storable(name)] = REDACTED if secret else storable(value)
    return headers


def _valid_ip(value: str) -> str | None:
    """A plain address; an IPv6 zone (``fe80::1%eth0``) names the receiver's interface,
    not the sender, and the database's inet type refuses it."""
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None
    return str(address)


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the nearest untrusted hop of X-Forwarded-For behind a trusted proxy."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    trusted = conf.trusted_proxies()
    if remote is None or remote not in trusted:
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _valid_ip(hop)
        if address is None:
            return remote
        if address not in trusted:
            return address
    return remote


def read_body(request: HttpRequest, limit: int) -> tuple[bytes, bool]:
    """Read at most limit bytes (plus one to detect more), bypassing Django's body cache."""
    data = request.read(limit + 1)
    return data[:limit], len(data) > limit


def store(
    request: HttpRequest,
    integration: str,
    kind: str,
    redact: Callable[[bytes], bytes] | None = None,
    keep_headers: Collection[str] = (),
) -> NotificationLog:
    """Store the request. ``redact`` replaces secrets a gateway puts in the request (e.g. a
    password); it is applied to the body, truncated or not, and to the query string."""
    limit = conf.max_body_bytes()
    if request.method in ("GET", "HEAD"):
        body, truncated = b"", False
    else:
        body, truncated = read_body(request, limit)
    query = request.META.get("QUERY_STRING", "")
    if redact is not None:
        body = redact(body)
        if query:
            query = redact(query.encode("utf-8")).decode("utf-8", errors="replace")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or len(body))
    except ValueError:
        declared = None
    too_large = declared is not None and declared > limit
    if declared is not None and not _MIN_BIGINT <= declared <= _MAX_BIGINT:
        declared = None  # a bogus header must not stop the request from being stored
    return NotificationLog.objects.create(
        integration=clipped(NotificationLog, "integration", integration),
        kind=kind,
        method=clipped(NotificationLog, "method", storable(request.method or "")),
        path=_url_text(request.path),
        query_string=_url_text(query),
        content_type=clipped(
            NotificationLog, "content_type", storable(request.META.get("CONTENT_TYPE", ""))
        ),
        headers=redact_headers(request, keep_headers),
        body=body,
        declared_length=declared,
        truncated=truncated or too_large,
        remote_addr=client_address(request),
    )
