"""JSON's ``\\ud876`` escape, alone, parses into a str that is no text: no encoder takes
it, and PostgreSQL refuses it (the gateway fuzz test found a notification that then
could not be saved, leaving it stranded). Every JSON body billing reads is refused as
malformed at the door, however it is signed, and what reached the server stays logged.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from billing.exceptions import MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, storable
from billing.protocols import eway, liqpay, mollie, pay_pal_checkout, quickpay, stripe
from billing.protocols.base import Inbound, limited
from tests.helpers import settings_fixture, token_renderer

LONE = "\\ud876"  # as it stands in the JSON text: six ASCII characters
STRIPE_SETTINGS = {"SECRET_KEY": "sk_test_lone000000000000", "WEBHOOK_SECRET": "whsec_lone000"}


def stripe_event(reference: str) -> bytes:
    return (
        '{"id":"evt_1","object":"event","type":"checkout.session.completed","livemode":false,'
        '"data":{"object":{"id":"cs_test_1","object":"checkout.session","amount_total":1000,'
        f'"currency":"eur","client_reference_id":"{reference}",'
        f'"metadata":{{"reference":"{reference}"}},"payment_intent":"pi_1",'
        '"payment_status":"paid","status":"complete"}}}'
    ).encode("ascii")


def liqpay_data(reference: str) -> bytes:
    data = (
        f'{{"public_key":"i0","amount":10,"currency":"UAH","order_id":"{reference}",'
        '"status":"success"}'
    )
    encoded = base64.b64encode(data.encode()).decode()
    return urlencode({"data": encoded, "signature": "x"}).encode()


JSON = "application/json"
# Each gateway's JSON body, with ``reference`` in one of its strings as JSON text.
READERS: dict[str, Callable[[str], dict[str, str]]] = {
    "stripe event": lambda ref: stripe.read(Inbound(stripe_event(ref), JSON)),
    "stripe session": lambda ref: stripe.read_session(
        f'{{"id":"cs_1","object":"checkout.session","client_reference_id":"{ref}"}}'.encode()
    ),
    "mollie payment": lambda ref: mollie.read_payment(
        f'{{"resource":"payment","id":"tr_1","description":"{ref}"}}'.encode()
    ),
    "paypal checkout webhook": lambda ref: pay_pal_checkout.read(
        Inbound(f'{{"id":"WH-1","event_type":"X","resource":{{"id":"{ref}"}}}}'.encode(), JSON)
    ),
    "eway result": lambda ref: eway.read(
        Inbound(
            f'{{"AccessCode":"A1","InvoiceReference":"{ref}"}}'.encode(),
            JSON,
            "FETCH",
            kind="fetch",
        )
    ),
    "quickpay callback": lambda ref: quickpay.read(
        Inbound(
            f'{{"id":1,"order_id":"{ref}","accepted":true,"currency":"DKK","merchant_id":1}}'.encode(),
            JSON,
        )
    ),
    "liqpay data": lambda ref: liqpay.read(
        Inbound(liqpay_data(ref), "application/x-www-form-urlencoded")
    ),
}


@pytest.mark.parametrize("body", sorted(READERS))
def test_every_json_reader_refuses_a_lone_surrogate(body: str) -> None:
    read = READERS[body]
    assert "ORDER-1" in read("ORDER-1").values()  # the body is otherwise one it reads
    with pytest.raises(MalformedNotification):
        read(f"ORDER-1{LONE}")


def test_the_same_bodies_with_a_whole_pair_are_read() -> None:
    """A surrogate pair is an astral character, real text: read as such."""
    fields = stripe.read(Inbound(stripe_event("ORDER-\\ud83d\\ude00"), JSON))
    assert fields["data.object.client_reference_id"] == "ORDER-\U0001f600"


def test_limited_refuses_what_the_ledger_cannot_store() -> None:
    with pytest.raises(MalformedNotification, match="not text"):
        limited("ORDER-\ud876", "reference")
    assert limited("ORDER-\U0001f600", "reference") == "ORDER-\U0001f600"


def test_storable_writes_nul_and_lone_surrogates_out() -> None:
    assert storable("a\x00b\ud876c") == "a\\x00b\\ud876c"
    assert storable("ORDER-\U0001f600") == "ORDER-\U0001f600"


shop = settings_fixture("stripe", STRIPE_SETTINGS)


@pytest.mark.django_db
def test_a_signed_event_with_a_lone_surrogate_is_refused_and_logged(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Signed with the shop's own webhook secret, so only the body's text is wrong."""
    token_renderer("stripe", "EUR")()
    body = stripe_event(f"ORDER-1{LONE}")
    t = str(int(time.time()))
    v1 = hmac.new(b"whsec_lone000", t.encode() + b"." + body, hashlib.sha256).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/billing/stripe/notify/",
            body,
            content_type=JSON,
            headers={"Stripe-Signature": f"t={t},v1={v1}"},
        )
    assert response.status_code == 400 and b"malformed" in response.content
    log = NotificationLog.objects.get()
    assert bytes(log.body) == body and log.outcome == Outcome.REJECTED
    assert Payment.objects.get().status == PaymentStatus.PENDING
    json.loads(bytes(log.body))  # what reached the server is kept as it came
