"""Putting a stand-in's notification on the wire, as the gateway's servers would.

Its own short-lived httpx client, not ``billing.http``'s: the shop's client may be a
test double, and the sandbox must make real requests to the shop.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .gateways.base import Message

logger = logging.getLogger("billing.sandbox")

DEFAULT_TIMEOUT = 10.0
MAX_REPLY_BYTES = 256 * 1024  # a shop's answer page is small; keep no more of it


@dataclass(frozen=True)
class Attempt:
    url: str
    status_code: int | None
    error: str
    seconds: float
    # What the shop answered: some gateways show it to the customer (relay response).
    reply: bytes = b""
    reply_type: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def summary(self) -> str:
        result = f"HTTP {self.status_code}" if self.status_code is not None else self.error
        return f"{result} in {self.seconds * 1000:.0f} ms"


def post(url: str, message: Message, *, timeout: float = DEFAULT_TIMEOUT) -> Attempt:
    """One delivery: a POST, or a GET with the body as query string.

    Never raises: a shop that is down is a result, not a crash.
    """
    started = time.monotonic()
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0))) as client:
            if message.method == "GET":  # the body is the query string
                target = f"{url}{'&' if '?' in url else '?'}{message.body.decode('ascii')}"
                reply = client.get(target, headers=dict(message.headers))
            else:
                headers = {"Content-Type": message.content_type, **message.headers}
                reply = client.post(url, content=message.body, headers=headers)
    except httpx.HTTPError as exc:
        attempt = Attempt(url, None, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
    else:
        attempt = Attempt(
            url,
            reply.status_code,
            "",
            time.monotonic() - started,
            reply=reply.content[:MAX_REPLY_BYTES],
            reply_type=reply.headers.get("Content-Type", ""),
        )
    logger.info("notification %s to %s: %s", message.transaction_id, url, attempt.summary())
    return attempt


def deliver(
    url: str, message: Message, *, times: int = 1, timeout: float = DEFAULT_TIMEOUT
) -> list[Attempt]:
    """Send now, ``times`` times in a row (the gateway repeating itself)."""
    return [post(url, message, timeout=timeout) for _ in range(times)]


def deliver_later(
    url: str,
    message: Message,
    *,
    delay: float,
    times: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    then: Callable[[list[Attempt]], None] | None = None,
) -> threading.Thread:
    """Send from a background thread after ``delay`` seconds, as a slow gateway would."""

    def run() -> None:
        time.sleep(delay)
        attempts = deliver(url, message, times=times, timeout=timeout)
        if then is not None:
            then(attempts)

    thread = threading.Thread(target=run, name=f"sandbox-delivery-{message.transaction_id}")
    thread.daemon = True
    thread.start()
    return thread
