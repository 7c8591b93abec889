"""What the API-checkout protocols (Stripe, Mollie, eWAY, PayPal Checkout) share: calling a
gateway's JSON API over the account's HTTP client, and reading what it answered.

Each gateway keeps its own paths, headers, error bodies and retry rules (passed in
here); this module only holds the moves that are the same for all of them. The client
comes in with the account and carries billing's timeouts (billing.http); nothing here
puts a credential into an exception message.

Plain Python: no Django.
"""

import json
import re
from collections.abc import Callable, Container
from typing import Any, ClassVar, TypeGuard
from urllib.parse import urlsplit

import httpx

from ..exceptions import BillingError, MalformedNotification
from .base import Account, Inbound, is_text

# The method billing stores its own request's answer with (pipeline.process_fetched):
# no view stores a request under it, so such a row is authentic by construction.
FETCH_METHOD = "FETCH"


def redact_secrets(text: str, secret_like: re.Pattern[str], joiner: str = "_") -> str:
    """Anything ``secret_like`` matches, cut to its first group (a key's prefix)."""
    return secret_like.sub(lambda m: f"{m.group(1)}{joiner}[redacted]", text)


class GatewayApiError(BillingError):
    """A gateway's API did not do what was asked; ``retryable`` says whether asking again
    may. A subclass names its gateway's secrets (``secret_like``) to cut out of the
    message."""

    secret_like: ClassVar[re.Pattern[str] | None] = None
    secret_joiner: ClassVar[str] = "_"

    def __init__(self, message: str, *, retryable: bool) -> None:
        if self.secret_like is not None:
            message = redact_secrets(message, self.secret_like, self.secret_joiner)
        super().__init__(message)
        self.retryable = retryable


def endpoint_url(account: Account, path: str = "") -> str:
    """The account's API base (settings override, live or test) with ``path``."""
    return account.endpoint("API_URL").rstrip("/") + path


def is_web_url(value: object) -> TypeGuard[str]:
    """An http(s) URL, as a checkout link in an API's answer must be."""
    return isinstance(value, str) and urlsplit(value).scheme in ("http", "https")


def fetched_by_us(inbound: Inbound, kinds: Container[str]) -> bool:
    """Stored by billing from its own request (process_fetched), never by a view."""
    return inbound.kind in kinds and inbound.method == FETCH_METHOD


# -- sending ---------------------------------------------------------------------------------


def not_read_timeout(exc: httpx.HTTPError) -> bool:
    """Worth sending again: anything but a timeout after the request went out (a connect
    or pool timeout never sent it)."""
    return not isinstance(exc, httpx.TimeoutException) or isinstance(
        exc, httpx.ConnectTimeout | httpx.PoolTimeout
    )


def never_sent(exc: httpx.HTTPError) -> bool:
    """The request never reached the gateway: no connection was made."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def any_failure(exc: httpx.HTTPError) -> bool:
    """Any transport failure is worth one more try (a GET changes nothing)."""
    return True


def failure_text(gateway: str, exc: httpx.HTTPError) -> str:
    """A transport failure in words safe to log: the exception's class, never its text
    (which may hold a URL or header)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{gateway} timed out ({type(exc).__name__})"
    return f"{gateway} could not be reached ({type(exc).__name__})"


def send_once(
    send: Callable[[], httpx.Response],
    *,
    may_retry: bool,
    retry_error: Callable[[httpx.HTTPError], bool],
    error: Callable[[httpx.HTTPError], Exception],
) -> httpx.Response | None:
    """One request: the answer; None when it failed in transport and may be sent again
    (``may_retry`` and ``retry_error``); else ``error(exc)`` is raised, without the
    transport exception chained (its text may name a URL with a secret)."""
    try:
        return send()
    except httpx.HTTPError as exc:
        if may_retry and retry_error(exc):
            return None
        raise error(exc) from None


def send_twice(
    send: Callable[[], httpx.Response],
    *,
    retry_error: Callable[[httpx.HTTPError], bool],
    error: Callable[[httpx.HTTPError], Exception],
    retry_answer: Callable[[httpx.Response], bool] = lambda response: False,
) -> httpx.Response:
    """The answer to ``send``, sent a second time when the first failed in transport
    (``retry_error``) or was answered with what ``retry_answer`` says to ask again
    (say False for an answer that is taken). The second answer is returned, whatever it
    is; a second transport failure raises ``error(exc)``."""
    for attempt in (1, 2):
        response = send_once(send, may_retry=attempt == 1, retry_error=retry_error, error=error)
        if response is None:
            continue
        if attempt == 2 or not retry_answer(response):
            return response
    raise AssertionError("unreachable")  # pragma: no cover


# -- reading answers ---------------------------------------------------------------------------


def answer_object(
    response: httpx.Response,
    *,
    no_json: str,
    no_object: str,
    error: Callable[[str], Exception],
) -> dict[str, Any]:
    """An API answer's JSON object; ``error(no_json)`` when it is not JSON,
    ``error(no_object)`` when it is JSON but no object."""
    try:
        data = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the limit
        raise error(no_json) from None
    if not isinstance(data, dict):
        raise error(no_object)
    return data


def answer_or_none(response: httpx.Response) -> dict[str, Any] | None:
    """An API answer's JSON object, None when it has none (an error body may not)."""
    try:
        data = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the limit
        return None
    return data if isinstance(data, dict) else None


def load_json(
    body: bytes, message: str, error: Callable[[str], Exception] = MalformedNotification
) -> Any:
    """A stored body as UTF-8 JSON; ``error(message)`` for anything else (invalid UTF-8,
    not JSON, nested past the interpreter's limit, a lone surrogate escape)."""
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise error(message) from None
    if not is_text(data):
        raise error(message)
    return data
