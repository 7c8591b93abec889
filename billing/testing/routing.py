"""billing's outbound HTTP answered by this process: the sandbox's API stand-ins, reached
through Django's test client instead of the network.

For tests of gateways whose checkout is created by API, or whose notification is checked
by asking the gateway (Stripe, Mollie, PayPal Checkout, eWAY): with the sandbox on, the
integration's API URL is the sandbox's, and ``routed()`` makes billing's HTTP client
deliver those requests to this process's URLconf. ``InProcessApi.down`` makes requests
fail first, as the gateway's API can.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from django.test import Client

from .. import http

# Hop-by-hop and framing headers the test client sets itself.
_NOT_FORWARDED = ("host", "content-length")


def forward(request: httpx.Request) -> httpx.Response:
    """The request as this process's URLconf answers it."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
    response = Client().generic(
        request.method,
        request.url.raw_path.decode(),
        request.content,
        content_type=request.headers.get("content-type", ""),
        headers=headers,
        HTTP_HOST=request.url.netloc.decode(),
    )
    return httpx.Response(
        response.status_code, headers=dict(response.items()), content=response.content
    )


class InProcessApi:
    """Answers billing's outbound requests in process, recording each.

    ``down`` holds what the next requests meet instead, one per request: an exception
    (raised: unreachable, timed out), a status code (answered with ``error_body``),
    ``"junk"`` (a 200 that is not the API's JSON), ``"after"`` (the API did it, then the
    answer was lost: a read timeout), or a dict (a 200 with that JSON).
    """

    def __init__(self, error_body: Callable[[int], Any] = lambda status: {"status": status}):
        self.requests: list[httpx.Request] = []
        self.down: list[Any] = []
        self.error_body = error_body

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            failure = self.down.pop(0)
            if isinstance(failure, Exception):
                raise failure
            if isinstance(failure, int):
                return httpx.Response(failure, json=self.error_body(failure))
            if isinstance(failure, dict):
                return httpx.Response(200, json=failure)
            if failure == "junk":
                return httpx.Response(200, text="<html>gateway timeout</html>")
            if failure == "after":
                forward(request)
                raise httpx.ReadTimeout("read timed out", request=request)
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        """What the sandbox answers (a subclass may answer some requests itself)."""
        return forward(request)

    def client(self, timeout: float = 5) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler), timeout=timeout)


@contextmanager
def routed(api: InProcessApi | None = None) -> Iterator[InProcessApi]:
    """billing's HTTP client answered by ``api`` (a new InProcessApi by default)."""
    api = api or InProcessApi()
    http.set_client(api.client())
    try:
        yield api
    finally:
        http.set_client(None)
