"""The one outbound HTTP client: pooled, always with timeouts."""

import threading

import httpx

from . import conf

_lock = threading.Lock()
_client: httpx.Client | None = None


def get_client() -> httpx.Client:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                timeout = conf.http_timeout()
                _client = httpx.Client(
                    timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                    follow_redirects=False,
                )
    return _client


def set_client(client: httpx.Client | None) -> None:
    """Replace the shared client (tests inject a transport; None resets)."""
    global _client
    with _lock:
        _client = client
