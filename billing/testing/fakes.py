"""Stand-ins for a gateway's server-to-server side in tests.

PayPal confirms each notification when the shop posts it back (``cmd=_notify-validate``):
``FakePayPal`` answers those postbacks, VERIFIED only for bodies it was told it sent, so a
test needs no network. Use it as a context manager: it routes billing's outbound HTTP to
itself on entry and gives the shop's own client back on exit::

    with FakePayPal() as paypal:
        paypal.send(body)        # "PayPal sent these bytes"
        ...                      # post body to notify/: the postback answers VERIFIED
"""

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs

import httpx

from .. import http

# The fakes currently entered, innermost last: billing.testing.notify vouches through them.
_active: list["FakePayPal"] = []


class FakePayPal:
    """Answers IPN postbacks as PayPal would: VERIFIED only for bodies it really sent.

    ``with FakePayPal() as paypal:`` installs it as billing's HTTP transport and restores
    the previous client afterwards (the fakes may be nested). ``paypal.postbacks`` lists
    the requests it answered; ``paypal.unreachable = True`` makes it fail to connect, as
    PayPal down would (the notification is then retried, never accepted).
    """

    slug = "pay_pal"

    def __init__(self) -> None:
        self.sent: set[bytes] = set()
        self.postbacks: list[httpx.Request] = []
        self.pdt: dict[str, bytes] = {}
        self.unreachable = False
        self._lock = threading.Lock()
        self._saved: list[tuple[httpx.Client | None, httpx.Client]] = []

    def send(self, body: bytes, transaction_id: str = "") -> bytes:
        """Record that PayPal sent ``body`` (and, with a transaction id, PDT's answer)."""
        with self._lock:
            self.sent.add(body)
            if transaction_id:
                self.pdt[transaction_id] = body
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

    # -- as a context manager ------------------------------------------------------------

    @property
    def installed(self) -> bool:
        """Whether billing's outbound HTTP comes here now (entered, and not overridden
        by another client since)."""
        return bool(self._saved) and http._client is self._saved[-1][1]

    def install(self) -> None:
        """Route billing's outbound HTTP here, remembering the client it replaces."""
        previous = http._client
        client = _transport_client(self.handler)
        self._saved.append((previous, client))
        http.set_client(client)
        _active.append(self)

    def uninstall(self) -> None:
        """Give back the client ``install`` replaced (the shop's, or an outer fake's)."""
        previous, client = self._saved.pop()
        for i in range(len(_active) - 1, -1, -1):  # the innermost entry of this fake
            if _active[i] is self:
                del _active[i]
                break
        http.set_client(previous)
        client.close()

    def __enter__(self) -> Self:
        self.install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.uninstall()


# The fakes of gateways that verify by postback, by integration slug.
POSTBACK_FAKES: dict[str, type[FakePayPal]] = {"pay_pal": FakePayPal}


def active_fake(slug: str) -> FakePayPal | None:
    """The innermost entered fake for this gateway, if any."""
    for fake in reversed(_active):
        if fake.slug == slug:
            return fake
    return None


def _transport_client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), timeout=5.0)


def install_transport(handler: Callable[[httpx.Request], httpx.Response]) -> None:
    """Route the library's outbound HTTP to handler (reset with http.set_client(None))."""
    http.set_client(_transport_client(handler))
