"""Step 1: store the inbound request as received, before anything trusts it."""

import ipaddress
from collections.abc import Callable

from django.http import HttpRequest

from . import conf
from .models import NotificationLog

REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-csrftoken"})
_SECRET_WORDS = ("secret", "token", "password", "api-key", "apikey")
# The range of NotificationLog.declared_length (a BigIntegerField).
_MIN_BIGINT, _MAX_BIGINT = -(2**63), 2**63 - 1


def redact_headers(request: HttpRequest) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        lower = name.lower()
        secret = lower in _SECRET_HEADERS or any(word in lower for word in _SECRET_WORDS)
        headers[name] = REDACTED if secret else value
    return headers


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


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
) -> NotificationLog:
    """Store the request; redact replaces secrets a gateway puts in the body (e.g. a password)."""
    limit = conf.max_body_bytes()
    if request.method in ("GET", "HEAD"):
        body, truncated = b"", False
    else:
        body, truncated = read_body(request, limit)
    if redact is not None and not truncated:
        body = redact(body)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or len(body))
    except ValueError:
        declared = None
    too_large = declared is not None and declared > limit
    if declared is not None and not _MIN_BIGINT <= declared <= _MAX_BIGINT:
        declared = None  # a bogus header must not stop the request from being stored
    return NotificationLog.objects.create(
        integration=integration[:50],
        kind=kind,
        method=(request.method or "")[:8],
        path=request.path,
        query_string=request.META.get("QUERY_STRING", ""),
        content_type=request.META.get("CONTENT_TYPE", "")[:255],
        headers=redact_headers(request),
        body=body,
        declared_length=declared,
        truncated=truncated or too_large,
        remote_addr=client_address(request),
    )
