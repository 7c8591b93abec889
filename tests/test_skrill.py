"""Skrill: the conformance suite, known answers, attacks, and the sandbox face to face.

Known answers, computed outside this code with md5sum:
- ``printf '%s' 'skrill-secret-word' | md5sum`` is ``97204d2e...dd06``, upper-cased
  ``SECRET_MD5``;
- ``printf '%s' '12345678ORDER-1<SECRET_MD5>10.00EUR2' | md5sum | tr a-f A-F`` is
  ``PAID_SIGNATURE`` (merchant_id, transaction_id, the secret's MD5, mb_amount,
  mb_currency, status), and the same with status ``-2`` is ``FAILED_SIGNATURE``.
"""

import hashlib
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from django.test import Client

from billing import get_integration
from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import skrill
from billing.protocols.base import Account, Inbound, Status
from billing.sandbox.gateways import skrill as gateway
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import poster, settings_fixture
from tests.sandbox_helpers import StandInFlows, order_form, sandbox_settings

SECRET = "skrill-secret-word"
SETTINGS = {"PAY_TO_EMAIL": "shop@example.com", "MERCHANT_ID": "12345678", "SECRET_WORD": SECRET}
# A Skrill test merchant account: its own e-mail, merchant id and secret word.
TEST_ACCOUNT = {"merchant_id": "87654321", "secret": "test-account-secret"}
SECRET_MD5 = "97204D2EF745BA10278817217655DD06"
PAID_SIGNATURE = "19C55A4C1FF498CD47C85611659FBC9E"
FAILED_SIGNATURE = "66C4DC0AED4C93C6FF2103459F1162D0"
post = poster("skrill")


def status_body(
    *, secret: str = SECRET, merchant_id: str = "12345678", status: str = "2", **extra: str
) -> bytes:
    """A status response written by hand (hashlib), not by billing or the sandbox."""
    fields = {
        "pay_to_email": "shop@example.com",
        "merchant_id": merchant_id,
        "transaction_id": "ORDER-1",
        "mb_transaction_id": "2670459581",
        "mb_amount": "10.00",
        "mb_currency": "EUR",
        "status": status,
        **extra,
    }

    def upper_md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest().upper()

    signed = fields["merchant_id"] + fields["transaction_id"] + upper_md5(secret)
    signed += fields["mb_amount"] + fields["mb_currency"] + fields["status"]
    fields.setdefault("md5sig", upper_md5(signed))
    return urlencode({**fields, "amount": "10.00", "currency": "EUR"}).encode()


class TestSkrillConformance(IntegrationConformance):
    slug = "skrill"
    merchant_settings = SETTINGS
    currency, other_currency = "EUR", "USD"

    def gateway_notification(
        self, form: dict[str, str], *, test: bool | None = None, **change: Any
    ) -> Delivery:
        if test and not get_integration(self.slug).test_mode:
            # Skrill's tests run on test accounts: their own merchant id and secret word.
            return Delivery(body=status_body(**TEST_ACCOUNT))
        return super().gateway_notification(form, test=test, **change)

    def secrets(self) -> list[str]:
        return [SECRET]


def account(test: bool = True) -> Account:
    return Account(SETTINGS, test=test, endpoint=str)


# -- known answers ------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "signature"), [("2", PAID_SIGNATURE), ("-2", FAILED_SIGNATURE)])
def test_known_answers_on_both_sides(status: str, signature: str) -> None:
    body = status_body(status=status)
    fields = skrill.read(Inbound(body))
    assert fields["md5sig"] == signature
    assert skrill.md5sig(fields, SECRET) == gateway.md5sig(fields, SECRET) == signature
    assert gateway.upper_md5(SECRET) == SECRET_MD5
    assert skrill.verify(fields, Inbound(body), account()).value == "valid"
    lower = {**fields, "md5sig": signature.lower()}  # hex, whatever its case
    assert skrill.verify(lower, Inbound(body), account()).value == "valid"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("2", Status.PAID),
        ("0", Status.PENDING),
        ("-1", Status.CANCELLED),
        ("-2", Status.FAILED),
        ("-3", Status.REVERSED),
        ("1", Status.UNKNOWN),
    ],
)
def test_status_mapping(status: str, state: Status) -> None:
    fields = skrill.read(Inbound(status_body(status=status)))
    n = skrill.notification(fields, account(), "skrill")
    assert n.status is state and n.gateway_status == status
    assert (n.reference, n.transaction_id, n.amount, n.currency, n.receiver) == (
        "ORDER-1",
        "2670459581",
        Decimal("10.00"),
        "EUR",
        "12345678",
    )


@pytest.mark.parametrize("amount", ["1e9", "NaN", "10,00", "ten"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    fields = skrill.read(Inbound(status_body(mb_amount=amount)))
    with pytest.raises(MalformedNotification):
        skrill.notification(fields, account(), "skrill")


# -- the form -----------------------------------------------------------------------------


shop = settings_fixture("skrill", SETTINGS)


@pytest.mark.django_db
def test_form_names_the_account_and_holds_no_secret(shop: Any) -> None:
    form = order_form("skrill")
    assert form["pay_to_email"] == "shop@example.com"
    assert (form["transaction_id"], form["amount"], form["currency"]) == ("ORDER-1", "10.00", "EUR")
    assert form["detail1_text"] == "Mug" and form["status_url"].endswith("/skrill/notify/")
    assert SECRET not in "".join(form.values()) and "md5sig" not in form
    assert Payment.objects.get().receiver == "12345678"  # the signed merchant_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"amount": 10.0}, "never float"),
        ({"currency": "XYZ"}, "ISO 4217"),
        ({"amount": "1.001"}, "decimals"),
    ],
)
def test_forms_skrill_would_not_take_are_refused(shop: Any, extra: Any, error: str) -> None:
    integration = get_integration("skrill")
    integration.add_fields(
        {"transaction_id": "ORDER-1", "amount": "10.00", "currency": "EUR", **extra}
    )
    with pytest.raises(InvalidData, match=error):
        integration.generate_form()


# -- attacks through notify/ --------------------------------------------------------------


def verdict() -> tuple[str, str, str]:
    log = NotificationLog.objects.get()
    return log.verification, log.outcome, Payment.objects.get().status


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        status_body(secret="guessed-secret"),  # wrong secret word
        status_body(md5sig="0" * 32),  # forged
        status_body().replace(b"mb_amount=10.00", b"mb_amount=0.01"),  # tampered amount
        status_body().replace(b"mb_currency=EUR", b"mb_currency=TRY"),  # tampered currency
        status_body(status="-2").replace(b"status=-2", b"status=2"),  # failed made paid
        status_body(**TEST_ACCOUNT),  # a test account's, on this account
    ],
    ids=["wrong-secret", "forged", "tampered", "currency", "status", "test-account"],
)
def test_attacks_are_rejected(
    body: bytes, shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order_form("skrill", amount="10.00")
    post(body, django_capture_on_commit_callbacks)
    assert verdict() == (Verdict.INVALID, Outcome.REJECTED, PaymentStatus.PENDING)


@pytest.mark.django_db
def test_unsigned_amount_is_not_what_binds(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # amount/currency are not signed: changed, the signed mb_amount still says 10.00 EUR.
    order_form("skrill", amount="10.00")
    body = status_body().replace(b"&amount=10.00", b"&amount=0.01")
    post(body, django_capture_on_commit_callbacks)
    assert verdict() == (Verdict.VALID, Outcome.APPLIED, PaymentStatus.PAID)
    assert Payment.objects.get().amount == Decimal("10.00")


@pytest.mark.django_db
def test_authentic_other_currency_is_held(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Asked in USD, credited in the account's EUR: nobody checked the conversion.
    order_form("skrill", amount="10.00", currency="USD")
    post(status_body(), django_capture_on_commit_callbacks)
    assert verdict() == (Verdict.VALID, Outcome.HELD, PaymentStatus.REVIEW)


@pytest.mark.django_db
def test_replayed_status_after_a_chargeback_changes_nothing(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order_form("skrill", amount="10.00")
    paid, chargeback = status_body(), status_body(status="-3")
    for body in (paid, chargeback, paid):
        post(body, django_capture_on_commit_callbacks)
    outcomes = list(NotificationLog.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DUPLICATE]
    assert Payment.objects.get().status == PaymentStatus.REVERSED


# -- the sandbox, face to face --------------------------------------------------------------

SANDBOX_PATH = "/sandbox/skrill/"


sandbox = settings_fixture("skrill", SETTINGS, sandbox_settings)


def shop_form(**extra: Any) -> dict[str, str]:
    return order_form("skrill", amount="10.00", host="shop.test", **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"pay_to_email": "attacker@example.net"}, "pay_to_email is not"),
        ({"currency": "XAF"}, "is not accepted"),
        ({"amount": "10"}, "is not a EUR amount"),
        ({"transaction_id": ""}, "transaction_id is required"),
    ],
)
def test_sandbox_checks_the_form_as_skrill(sandbox: Any, change: Any, problem: str) -> None:
    response = Client().post(SANDBOX_PATH, {**shop_form(), **change})
    assert response.status_code == 400 and problem in response.content.decode()
    assert SECRET not in response.content.decode()


class TestSkrillFlows(StandInFlows):
    slug = "skrill"
    service_path = SANDBOX_PATH
    page_shows = ("10.00 EUR", "shop@example.com", "ORDER-1", "Mug")
    secrets = (SECRET,)
    tampered = b"mb_amount=0.01"
    shop_form = staticmethod(shop_form)

    def check_approved(self, reply: httpx.Response) -> None:
        log = NotificationLog.objects.get()
        assert b"md5sig=" in bytes(log.body) and log.verification == Verdict.VALID
