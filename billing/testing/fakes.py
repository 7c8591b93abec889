"""Stand-ins for a gateway's server-to-server side in tests."""

import threading
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx

from .. import http


class FakePayPal:
    """Answers IPN postbacks as PayPal would: VERIFIED only for bodies it really sent."""

    def __init__(self) -> None:
        self.sent: set[bytes] = set()
        self.postbacks: list[httpx.Request] = []
        self.pdt: dict[str, bytes] = {}
        self.unreachable = False
        self._lock = threading.Lock()

    def send(self, body: bytes) -> bytes:
        with self._lock:
            self.sent.add(body)
        return body

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.postbacks.append(request)
        if self.unreachable:
            raise httpx.ConnectError("gateway unreachable", request=request)
        content = request.content
        prefix = b"cmd=_notify-validate&"
        if content.startswith(prefix):
            verified = content[len(prefix) :] in self.sent
            return httpx.Response(200, text="VERIFIED" if verified else "INVALID")
        form = parse_qs(content.decode("ascii"))
        if form.get("cmd") == ["_notify-synch"]:
            body = self.pdt.get(form.get("tx", [""])[0])
            if body is None:
                return httpx.Response(200, text="FAIL\nError: 4003\n")
            return httpx.Response(200, content=b"SUCCESS\n" + body.replace(b"&", b"\n"))
        return httpx.Response(400, text="unexpected request")


def install_transport(handler: Callable[[httpx.Request], httpx.Response]) -> None:
    """Route the library's outbound HTTP to handler (reset with http.set_client(None))."""
    http.set_client(httpx.Client(transport=httpx.MockTransport(handler), timeout=5.0))
