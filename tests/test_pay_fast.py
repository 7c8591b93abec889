"""PayFast: the conformance suite, known answers, attacks, and the sandbox face to face.

Known answers, computed outside this code:
- PayFast's own PHP SDK test (payfast-php-sdk, tests/PaymentIntegrations/NotificationTest.php)
  gives an ITN with no passphrase and its signature ``4078bca2c8987e0e0c4e7230f2f46323``;
  ``printf '%s' 'm_payment_id=000000020&pf_payment_id=1579137&...&merchant_id=10027938'
  | md5sum`` (the whole string is ``SDK_PAIRS`` below) gives the same.
- ``FORM_SIGNATURE`` and ``ITN_SIGNATURE``: ``printf '%s' '<the string in the test>' |
  md5sum``, the strings written out by hand with PHP's urlencode (``~`` as ``%7E``, space
  as ``+``) and PayFast's documented sample passphrase ``jt7NOE43FZPn``.
"""

import hashlib
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from django.test import Client

from billing import get_integration, http
from billing.exceptions import IntegrationNotConfigured, InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import pay_fast
from billing.protocols.base import Account, Inbound, Status
from billing.sandbox.gateways import pay_fast as gateway
from billing.sandbox.models import SentNotification
from billing.testing.conformance import Delivery, IntegrationConformance
from billing.testing.fakes import install_transport
from tests.helpers import poster, settings_fixture
from tests.sandbox_helpers import Customer, StandInFlows, order_form, sandbox_settings

PASSPHRASE = "jt7NOE43FZPn"
SETTINGS = {"MERCHANT_ID": "10000100", "MERCHANT_KEY": "46f0cd694581a", "PASSPHRASE": PASSPHRASE}
PAYFAST_IP = "41.74.179.200"  # inside 41.74.179.192/27

SDK_PAIRS = (
    "m_payment_id=000000020&pf_payment_id=1579137&payment_status=COMPLETE"
    "&item_name=Order+%23000000020&item_description=&amount_gross=15.00&amount_fee=-2.30"
    "&amount_net=12.70&custom_str1=&custom_str2=&custom_str3=&custom_str4=&custom_str5="
    "&custom_int1=&custom_int2=&custom_int3=&custom_int4=&custom_int5=&name_first=Tom"
    "&name_last=Tom&email_address=lindley%2Buser1%40appinlet.com&merchant_id=10027938"
)
SDK_SIGNATURE = "4078bca2c8987e0e0c4e7230f2f46323"
FORM = {
    "merchant_id": "10000100",
    "merchant_key": "46f0cd694581a",
    "return_url": "https://shop.example/return",
    "cancel_url": "https://shop.example/cancel",
    "notify_url": "https://shop.example/notify",
    "m_payment_id": "ORDER-1",
    "amount": "10.00",
    "item_name": 'Tea ~ 2 cups & "more"',
}
FORM_SIGNATURE = "77a1e0c9afdef8c5c41e20f5ea64ac63"
ITN_PAIRS = (
    "m_payment_id=ORDER-1&pf_payment_id=1089250&payment_status=COMPLETE"
    "&item_name=Tea+%7E+2+cups&item_description=&amount_gross=10.00&amount_fee=-0.35"
    "&amount_net=9.65&custom_str1=&custom_str2=&custom_str3=&custom_str4=&custom_str5="
    "&custom_int1=&custom_int2=&custom_int3=&custom_int4=&custom_int5=&name_first="
    "&name_last=&email_address=&merchant_id=10000100"
)
ITN_SIGNATURE = "242a29e72ca6916a972063dea1d9bad1"


class FakePayFast:
    """PayFast's /eng/query/validate for these tests: VALID for the pairs of ITNs it was
    told the sandbox (or live PayFast) sent, each only at its own host."""

    def __init__(self) -> None:
        self.sent: dict[str, set[bytes]] = {
            "sandbox.payfast.co.za": set(),
            "www.payfast.co.za": set(),
        }
        self.asked: list[httpx.Request] = []
        self.answer: httpx.Response | None = None

    def send(self, body: bytes, host: str = "sandbox.payfast.co.za") -> bytes:
        self.sent[host].add(gateway.canonical(body).encode())
        return body

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request)
        if self.answer is not None:
            return self.answer
        known = request.content in self.sent.get(request.url.host, set())
        return httpx.Response(200, text="VALID" if known else "INVALID")


@pytest.fixture
def payfast() -> Any:
    fake = FakePayFast()
    install_transport(fake.handler)
    yield fake
    http.set_client(None)


class TestPayFastConformance(IntegrationConformance):
    slug = "pay_fast"
    merchant_settings = SETTINGS
    currency = "ZAR"

    @pytest.fixture(autouse=True)
    def _payfast(self, payfast: FakePayFast) -> None:
        self.payfast = payfast

    def gateway_notification(self, form: dict[str, str], **change: Any) -> Delivery:
        delivery = super().gateway_notification(form, **change)
        self.payfast.send(delivery.body)  # the sandbox sent it: its validate URL knows it
        return delivery

    def secrets(self) -> list[str]:
        return [PASSPHRASE]


# -- known answers ------------------------------------------------------------------------


def account(test: bool = True, **settings: Any) -> Account:
    return Account({**SETTINGS, **settings}, test=test, endpoint=str)


def test_payfast_sdk_itn_vector_on_both_sides() -> None:
    body = f"{SDK_PAIRS}&signature={SDK_SIGNATURE}".encode()
    assert pay_fast.param_string(body) == SDK_PAIRS
    assert pay_fast.itn_signature(body, "") == SDK_SIGNATURE
    assert gateway.digest(gateway.canonical(body), "") == SDK_SIGNATURE


def test_form_known_answer_on_both_sides() -> None:
    # 'merchant_id=10000100&merchant_key=46f0cd694581a&return_url=https%3A%2F%2Fshop.example
    # %2Freturn&cancel_url=https%3A%2F%2Fshop.example%2Fcancel&notify_url=https%3A%2F%2F
    # shop.example%2Fnotify&m_payment_id=ORDER-1&amount=10.00&item_name=Tea+%7E+2+cups+%26+
    # %22more%22&passphrase=jt7NOE43FZPn' (no line breaks) | md5sum
    assert pay_fast.form_signature(FORM, PASSPHRASE) == FORM_SIGNATURE
    assert gateway.checkout_signature(FORM, PASSPHRASE) == FORM_SIGNATURE
    shop = {k: v for k, v in FORM.items() if not k.startswith("merchant")}
    final = pay_fast.form({**shop, "amount": Decimal("10.00")}, account())
    assert list(final) == [*FORM, "signature"]  # documented order, signature last
    assert final["signature"] == FORM_SIGNATURE


def test_itn_known_answer_on_both_sides() -> None:
    # printf '%s' '<ITN_PAIRS>&passphrase=jt7NOE43FZPn' | md5sum
    body = f"{ITN_PAIRS}&signature={ITN_SIGNATURE}".encode()
    assert pay_fast.itn_signature(body, PASSPHRASE) == ITN_SIGNATURE
    assert gateway.digest(gateway.canonical(body), PASSPHRASE) == ITN_SIGNATURE
    n = pay_fast.notification(pay_fast.read(Inbound(body)), account(), "pay_fast")
    assert (n.reference, n.transaction_id, n.amount, n.currency) == (
        "ORDER-1",
        "1089250",
        Decimal("10.00"),  # amount_gross, not amount_net
        "ZAR",
    )
    assert (n.status, n.receiver, n.test) == (Status.PAID, "10000100", True)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("COMPLETE", Status.PAID),
        ("PENDING", Status.PENDING),
        ("FAILED", Status.FAILED),
        ("CANCELLED", Status.CANCELLED),
        ("complete", Status.UNKNOWN),
    ],
)
def test_status_mapping(status: str, state: Status) -> None:
    body = ITN_PAIRS.replace("COMPLETE", status).encode() + b"&signature=x"
    assert pay_fast.notification(pay_fast.read(Inbound(body)), account(), "p").status is state


@pytest.mark.parametrize("amount", ["1e9", "NaN", "-10.00", "10,00"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    body = ITN_PAIRS.replace("amount_gross=10.00", f"amount_gross={amount}").encode()
    with pytest.raises(MalformedNotification):
        pay_fast.notification(pay_fast.read(Inbound(body + b"&signature=x")), account(), "p")


# -- the form -----------------------------------------------------------------------------


shop = settings_fixture("pay_fast", SETTINGS)


@pytest.mark.django_db
def test_form_has_the_public_merchant_key_never_the_passphrase(shop: Any) -> None:
    form = order_form("pay_fast", currency="ZAR")
    assert form["merchant_key"] == SETTINGS["MERCHANT_KEY"] and form["item_name"] == "Mug"
    assert PASSPHRASE not in "".join(form.values())
    assert Payment.objects.get().currency == "ZAR"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"currency": "EUR"}, "signs no field"),
        ({"amount": 10.0}, "never float"),
        ({"amount": "10.001"}, "more decimals"),
    ],
)
def test_forms_payfast_would_not_take_are_refused(shop: Any, extra: Any, error: str) -> None:
    integration = get_integration("pay_fast")
    integration.add_fields({"m_payment_id": "ORDER-1", "amount": "10.00", **extra})
    with pytest.raises(InvalidData, match=error):
        integration.generate_form()


@pytest.mark.django_db
def test_another_currency_is_refused(shop: Any) -> None:
    with pytest.raises(InvalidData, match="takes ZAR"):
        order_form("pay_fast", currency="EUR")


# -- attacks through notify/ --------------------------------------------------------------


def itn(form: dict[str, str], **change: Any) -> bytes:
    return gateway.stand_in.notification(form, status="paid", **change).body


def resign(pairs: str, passphrase: str) -> bytes:
    """An ITN signed by hand (hashlib, PHP's urlencode), not by billing or the sandbox."""
    text = f"{pairs}&passphrase={quote_plus(passphrase, safe='').replace('~', '%7E')}"
    return f"{pairs}&signature={hashlib.md5(text.encode()).hexdigest()}".encode()


post = poster("pay_fast")


def verdict() -> tuple[str, str, str]:
    log = NotificationLog.objects.get()
    return log.verification, log.outcome, Payment.objects.get().status


@pytest.mark.django_db
def test_authentic_itn_is_confirmed_with_the_same_pairs(
    shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    shop.MERCHANT_SETTINGS["pay_fast"]["VALIDATE_URL"] = "https://sandbox.payfast.co.za/v"
    body = payfast.send(itn(order_form("pay_fast", currency="ZAR")))
    post(body, django_capture_on_commit_callbacks)
    assert verdict() == (Verdict.VALID, Outcome.APPLIED, PaymentStatus.PAID)
    [asked] = payfast.asked
    assert str(asked.url) == "https://sandbox.payfast.co.za/v"
    assert asked.content == body.rpartition(b"&signature=")[0]  # no passphrase, no signature


@pytest.mark.django_db
@pytest.mark.parametrize(
    "attack",
    ["wrong-passphrase", "swapped-amounts", "appended-field", "never-sent", "other-order"],
)
def test_attacks_are_rejected(
    attack: str, shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    form = order_form("pay_fast", currency="ZAR")
    body = itn(form)
    pairs = body.rpartition(b"&signature=")[0].decode()
    if attack == "wrong-passphrase":  # PayFast would confirm these pairs: the MD5 fails
        body = payfast.send(resign(pairs, "not-the-passphrase"))
    elif attack == "swapped-amounts":  # gross and net change places, signature kept
        payfast.send(body)
        body = body.replace(b"amount_gross=10.00", b"amount_gross=9.65").replace(
            b"amount_net=9.65", b"amount_net=10.00"
        )
    elif attack == "appended-field":  # a pair after the signature is not PayFast's
        body = payfast.send(body) + b"&amount_gross=0.01"
    elif attack == "never-sent":  # signed with the passphrase, unknown to PayFast
        body = resign(pairs, PASSPHRASE)
    else:  # an ITN PayFast sent for another order, its reference changed
        payfast.send(body)
        body = body.replace(b"m_payment_id=ORDER-1", b"m_payment_id=ORDER-2")
    post(body, django_capture_on_commit_callbacks)
    assert verdict() == (Verdict.INVALID, Outcome.REJECTED, PaymentStatus.PENDING)
    if attack != "never-sent":
        assert payfast.asked == []  # refused on the signature, before asking PayFast


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer", [httpx.Response(503, text="maintenance"), httpx.Response(200, text="OK")]
)
def test_payfast_unsure_is_retried_never_accepted(
    answer: httpx.Response, shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    payfast.answer = answer
    post(
        payfast.send(itn(order_form("pay_fast", currency="ZAR"))),
        django_capture_on_commit_callbacks,
    )
    assert verdict()[0] == Verdict.UNKNOWN
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.fixture
def live_shop(shop: Any) -> Any:
    shop.MERCHANT_TEST_MODE = False
    return shop


def live_itn() -> bytes:
    form = order_form("pay_fast", currency="ZAR")
    with pytest.MonkeyPatch.context() as patch:  # the sandbox only signs for test shops
        patch.setattr(gateway.stand_in, "account", lambda: dict(SETTINGS))
        return itn(form)


@pytest.mark.django_db
def test_live_itn_from_payfast_is_paid(
    live_shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    body = payfast.send(live_itn(), host="www.payfast.co.za")
    post(body, django_capture_on_commit_callbacks, ip=PAYFAST_IP)
    assert verdict() == (Verdict.VALID, Outcome.APPLIED, PaymentStatus.PAID)
    assert NotificationLog.objects.get().payment.test is False
    assert payfast.asked[0].url.host == "www.payfast.co.za"


@pytest.mark.django_db
def test_sandbox_itn_on_a_live_shop_is_rejected(
    live_shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    # Even from a PayFast address: live PayFast never sent the sandbox's ITN.
    post(payfast.send(live_itn()), django_capture_on_commit_callbacks, ip=PAYFAST_IP)
    assert verdict() == (Verdict.INVALID, Outcome.REJECTED, PaymentStatus.PENDING)


@pytest.mark.django_db
@pytest.mark.parametrize("ip", ["203.0.113.9", "41.74.179.224", "::ffff:198.51.100.1"])
def test_live_itn_from_elsewhere_is_rejected_unasked(
    ip: str, live_shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    body = payfast.send(live_itn(), host="www.payfast.co.za")
    post(body, django_capture_on_commit_callbacks, ip=ip)
    assert verdict() == (Verdict.INVALID, Outcome.REJECTED, PaymentStatus.PENDING)
    assert payfast.asked == []


@pytest.mark.django_db
def test_allowed_ips_replace_the_published_ones(
    live_shop: Any, payfast: FakePayFast, django_capture_on_commit_callbacks: Any
) -> None:
    live_shop.MERCHANT_SETTINGS["pay_fast"]["ALLOWED_IPS"] = "198.51.100.0/24, 192.0.2.7"
    body = payfast.send(live_itn(), host="www.payfast.co.za")
    post(body, django_capture_on_commit_callbacks, ip="::ffff:198.51.100.1")
    assert verdict() == (Verdict.VALID, Outcome.APPLIED, PaymentStatus.PAID)


def test_allowed_ips_are_checked_in_live_mode_only() -> None:
    networks = pay_fast.allowed_networks(None)
    assert pay_fast.sent_by_payfast("144.126.193.139", networks)
    assert not pay_fast.sent_by_payfast("144.126.193.140", networks)
    assert not pay_fast.sent_by_payfast("", networks)
    with pytest.raises(IntegrationNotConfigured):
        pay_fast.allowed_networks(["not an address"])


# -- the sandbox, face to face --------------------------------------------------------------

SANDBOX_PATH = "/sandbox/pay_fast/eng/process"


sandbox = settings_fixture("pay_fast", SETTINGS, sandbox_settings)


def shop_form(**extra: Any) -> dict[str, str]:
    return order_form("pay_fast", currency="ZAR", host="shop.test", **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"signature": "0" * 32}, "signature does not match"),
        ({"amount": "9.00"}, "signature does not match"),
        ({"merchant_key": "guessed"}, "merchant_key is not"),
        ({"amount": "4.00"}, "minimum amount"),
        ({"currency": "USD"}, "Unknown attributes: currency"),
    ],
)
def test_sandbox_checks_the_form_as_payfast(sandbox: Any, change: Any, problem: str) -> None:
    response = Client().post(SANDBOX_PATH, {**shop_form(), **change})
    assert response.status_code == 400 and problem in response.content.decode()
    assert PASSPHRASE not in response.content.decode()


@pytest.mark.django_db
def test_sandbox_validate_answers_only_for_what_it_sent(sandbox: Any) -> None:
    from billing.sandbox import views

    message = gateway.stand_in.notification(shop_form(), status="paid")
    views.record(gateway.stand_in, message, authentic=True)
    pairs = message.body.rpartition(b"&signature=")[0]
    url = "/sandbox/pay_fast/eng/query/validate"
    ask = Client().post
    assert ask(url, pairs, content_type="application/x-www-form-urlencoded").content == b"VALID"
    # PayFast's SDK also posts the signature along: the same answer.
    with_signature = ask(url, message.body, content_type="application/x-www-form-urlencoded")
    assert with_signature.content == b"VALID"
    tampered = pairs.replace(b"amount_gross=10.00", b"amount_gross=0.01")
    assert (
        ask(url, tampered, content_type="application/x-www-form-urlencoded").content == b"INVALID"
    )
    assert SentNotification.objects.count() == 1


class TestPayFastFlows(StandInFlows):
    slug = "pay_fast"
    service_path = SANDBOX_PATH
    page_shows = ("10.00 ZAR", "10000100", "ORDER-1", "Mug")
    secrets = (PASSPHRASE,)
    tampered = b"amount_gross=0.01"
    shop_form = staticmethod(shop_form)

    def check_approved(self, reply: httpx.Response) -> None:
        # The shop asked the sandbox's validate URL, which vouched for the ITN.
        assert NotificationLog.objects.get().verification == Verdict.VALID

    def test_live_customer_sees_no_passphrase(self, live: Customer) -> None:
        assert PASSPHRASE not in live.pay("approve").text
