"""What a gateway's API answers is read as carefully as a notification: an answer nested
past the interpreter's limit (or not JSON at all) is "could not ask", retried later,
never an unexpected RecursionError in the middle of a payment."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from billing.exceptions import MalformedNotification, VerificationUnavailable
from billing.protocols import http_api, mollie, pay_pal_checkout
from billing.protocols.base import Account

DEEP = b"[" * 100_000 + b"]" * 100_000


def answering(content: bytes) -> httpx.Client:
    """A client whose every request is answered 200 with ``content``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(handler), timeout=5)


def test_the_deep_answer_is_deep_enough_to_break_plain_json() -> None:
    with pytest.raises(RecursionError):
        httpx.Response(200, content=DEEP).json()


def test_shared_readers_take_a_deep_answer_for_no_json() -> None:
    response = httpx.Response(200, content=DEEP)
    assert http_api.answer_or_none(response) is None
    with pytest.raises(ValueError, match="no json"):
        http_api.answer_object(response, no_json="no json", no_object="x", error=ValueError)
    with pytest.raises(MalformedNotification, match="stored"):
        http_api.load_json(DEEP, "stored")


CALLS: dict[str, Callable[[Account], Any]] = {
    "mollie fetch": lambda account: mollie.fetch_payment("tr_KAT0000001", account),
    "paypal token": lambda account: pay_pal_checkout.access_token(account, renew=True),
}
SETTINGS = {
    "mollie fetch": {"API_KEY": "test_deepanswer000000000000000000"},
    "paypal token": {"CLIENT_ID": "deep-client", "CLIENT_SECRET": "deep-secret"},
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_deep_answer_is_could_not_ask(call: str) -> None:
    account = Account(
        SETTINGS[call], test=True, endpoint=lambda key: "https://api.test", client=answering(DEEP)
    )
    with pytest.raises((VerificationUnavailable, pay_pal_checkout.PayPalApiError)):
        CALLS[call](account)
