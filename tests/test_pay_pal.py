"""PayPal Payments Standard: the conformance suite plus PayPal's own behaviour."""

from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client

from billing import get_integration
from billing.exceptions import InvalidData
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import pay_pal
from billing.protocols.base import Status
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import poster, use_account
from tests.paypal_data import STATUS_NAMES, ipn_body

NOTIFY = "/billing/pay_pal/notify/"


class TestPayPalConformance(IntegrationConformance):
    slug = "pay_pal"
    merchant_settings = {"RECEIVER_EMAIL": "shop@example.com"}

    @pytest.fixture(autouse=True)
    def _gateway(self, fake_paypal: Any) -> None:
        self.gateway = fake_paypal

    def order(self, reference: str, amount: Decimal, currency: str) -> dict[str, str]:
        return {
            "invoice": reference,
            "amount": str(amount),
            "currency_code": currency,
            "item_name": "Mug",
        }

    def gateway_notification(
        self,
        form: dict[str, str],
        *,
        status: str = "paid",
        amount: Decimal | None = None,
        currency: str | None = None,
        receiver: str | None = None,
        test: bool | None = None,
        transaction_id: str = "TX-1",
    ) -> Delivery:
        body = ipn_body(
            reference=form["invoice"],
            amount=amount if amount is not None else Decimal(form["amount"]),
            currency=currency or form["currency_code"],
            receiver=receiver or form["business"],
            status=STATUS_NAMES[status],
            transaction_id=transaction_id,
            test=True if test is None else test,
        )
        return Delivery(body=self.gateway.send(body))

    def tamper(self, delivery: Delivery) -> Delivery:
        return Delivery(body=delivery.body.replace(b"mc_gross=10.00", b"mc_gross=0.01"))

    def forge(self, form: dict[str, str]) -> Delivery:
        return Delivery(body=ipn_body(reference=form["invoice"]))  # never sent by PayPal


@pytest.fixture
def paypal_settings(settings: Any) -> Any:
    return use_account(settings, "pay_pal", {"RECEIVER_EMAIL": "shop@example.com"})


def make_payment(reference: str = "ORDER-1", amount: str = "10.00", **extra: str) -> dict[str, str]:
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": reference, "amount": amount, "item_name": "Mug", **extra})
    return integration.generate_form()


post = poster("pay_pal")


pytestmark = pytest.mark.django_db


def test_windows_1252_ipn_verifies_and_decodes(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    body = fake_paypal.send(ipn_body(charset="windows-1252"))
    assert b"%E9" in body  # é as one windows-1252 byte, not UTF-8
    response = post(body, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and response.content == b""
    assert Payment.objects.get().status == PaymentStatus.PAID
    # The exact bytes went back to PayPal, prefixed as documented.
    assert fake_paypal.postbacks[0].content == b"cmd=_notify-validate&" + body
    fields = pay_pal.parse_ipn(body)
    assert fields["item_name"] == "Café crème mug – 1€"
    assert fields["last_name"] == "Müller"


def test_utf8_ipn_decodes(paypal_settings: Any) -> None:
    fields = pay_pal.parse_ipn(ipn_body(charset="UTF-8"))
    assert fields["first_name"] == "Zoë"


def test_postback_endpoint_follows_shop_mode_not_test_ipn(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    paypal_settings.MERCHANT_TEST_MODE = False
    make_payment()
    post(fake_paypal.send(ipn_body(test=True)), django_capture_on_commit_callbacks)
    assert str(fake_paypal.postbacks[0].url) == pay_pal.LIVE_POSTBACK_URL
    assert Payment.objects.get().status == PaymentStatus.REVIEW


def test_postback_url_is_overridable(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["POSTBACK_URL"] = "https://ipn.test/validate"
    make_payment()
    post(fake_paypal.send(ipn_body()), django_capture_on_commit_callbacks)
    assert str(fake_paypal.postbacks[0].url) == "https://ipn.test/validate"


def test_unreachable_paypal_is_retried_never_accepted(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    body = fake_paypal.send(ipn_body())
    fake_paypal.unreachable = True
    response = post(body, django_capture_on_commit_callbacks)
    assert response.status_code == 200  # stored: PayPal need not resend
    log = NotificationLog.objects.get()
    assert (log.verification, log.outcome) == (Verdict.UNKNOWN, Outcome.RETRY)
    assert log.next_attempt_at is not None
    assert Payment.objects.get().status == PaymentStatus.PENDING
    fake_paypal.unreachable = False
    from django.core.management import call_command
    from django.utils import timezone

    NotificationLog.objects.update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("billing_process", "--due", verbosity=0)
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_paypal_answering_garbage_is_unknown(
    paypal_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from billing import http
    from billing.testing.fakes import install_transport

    install_transport(lambda request: httpx.Response(503, text="maintenance"))
    try:
        make_payment()
        post(ipn_body(), django_capture_on_commit_callbacks)
    finally:
        http.set_client(None)
    assert NotificationLog.objects.get().verification == Verdict.UNKNOWN
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    ("gateway_status", "state"),
    [
        ("Completed", Status.PAID),
        ("Pending", Status.PENDING),
        ("Denied", Status.FAILED),
        ("Failed", Status.FAILED),
        ("Expired", Status.FAILED),
        ("Voided", Status.CANCELLED),
        ("Refunded", Status.REFUNDED),
        ("Reversed", Status.REVERSED),
        ("Canceled_Reversal", Status.PAID),
        ("In-Progress", Status.UNKNOWN),
    ],
)
def test_status_mapping(gateway_status: str, state: Status) -> None:
    fields = pay_pal.parse_ipn(ipn_body(status=gateway_status))
    assert pay_pal.to_notification(fields, integration="pay_pal").status is state


def test_only_completed_fires_success(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from billing.signals import transaction_was_successful

    fired: list[Any] = []
    transaction_was_successful.connect(lambda **kw: fired.append(kw), weak=False, dispatch_uid="t")
    try:
        make_payment()
        for status in ("Pending", "Refunded", "Reversed", "Processed"):
            post(
                fake_paypal.send(ipn_body(status=status, transaction_id=status)),
                django_capture_on_commit_callbacks,
            )
        assert fired == []
        post(fake_paypal.send(ipn_body(status="Completed")), django_capture_on_commit_callbacks)
        assert len(fired) == 1 and fired[0]["response"].status is Status.PAID
    finally:
        transaction_was_successful.disconnect(dispatch_uid="t")


def test_refund_after_payment(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(fake_paypal.send(ipn_body()), django_capture_on_commit_callbacks)
    refund = ipn_body(
        status="Refunded",
        transaction_id="REFUND-1",
        amount=Decimal("-10.00"),
        extra={"parent_txn_id": "61E67681CH3238416"},
    )
    post(fake_paypal.send(refund), django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REFUNDED
    assert list(payment.events.values_list("to_status", flat=True)) == ["paid", "refunded"]


def test_cart_upload_total_binds_amount(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    integration = get_integration("pay_pal")
    integration.add_fields(
        {
            "invoice": "CART-1",
            "item_name_1": "Mug",
            "amount_1": "4.50",
            "quantity_1": "2",
            "item_name_2": "Tea",
            "amount_2": "3.00",
            "shipping_2": "1.25",
            "tax_cart": "0.75",
        }
    )
    fields = integration.generate_form()
    assert fields["cmd"] == "_cart" and fields["upload"] == "1"
    assert Payment.objects.get().amount == Decimal("14.00")
    post(
        fake_paypal.send(ipn_body(reference="CART-1", amount=Decimal("14.00"))),
        django_capture_on_commit_callbacks,
    )
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_float_amounts_are_refused(paypal_settings: Any) -> None:
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "F-1", "amount": 10.1})
    with pytest.raises(InvalidData):
        integration.generate_form()


def test_pdt_on_return_marks_paid(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "pdt-identity-token"
    fields = make_payment()
    assert fields["rm"] == "2"
    fake_paypal.pdt["61E67681CH3238416"] = ipn_body()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().get("/billing/pay_pal/return/?ref=ORDER-1&tx=61E67681CH3238416")
    assert response.status_code == 200
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert b"pdt-identity-token" not in response.content
    assert set(NotificationLog.objects.values_list("kind", flat=True)) == {"return", "pdt"}


def test_pdt_fail_changes_nothing(paypal_settings: Any, fake_paypal: Any) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "pdt-identity-token"
    make_payment()
    Client().get("/billing/pay_pal/return/?ref=ORDER-1&tx=FORGED")
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_get_on_notify_is_405_and_logged(paypal_settings: Any) -> None:
    response = Client().get(NOTIFY)
    assert response.status_code == 405
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_unconfigured_integration_is_404_and_logged(paypal_settings: Any) -> None:
    response = Client().post(
        "/billing/world_pay/notify/", b"a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 404
    assert NotificationLog.objects.get().integration == "world_pay"


def test_unknown_charset_is_400(paypal_settings: Any) -> None:
    response = Client().post(
        NOTIFY, b"charset=klingon&a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"charset" in response.content


def test_mismatch_after_payment_is_held_without_unpaying(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(fake_paypal.send(ipn_body()), django_capture_on_commit_callbacks)
    second = ipn_body(transaction_id="OTHER-TXN", amount=Decimal("99.00"))
    post(fake_paypal.send(second), django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PAID
    assert "amount 99.00 instead of 10.00" in payment.review_reason
    assert NotificationLog.objects.order_by("pk").last().outcome == Outcome.HELD


def test_repeated_pending_ipn_hits_the_ledger_key(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Pending may follow pending, so only the ledger's unique key stops the repeat."""
    make_payment()
    body = fake_paypal.send(ipn_body(status="Pending"))
    post(body, django_capture_on_commit_callbacks)
    post(body, django_capture_on_commit_callbacks)
    outcomes = list(NotificationLog.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PENDING
    assert payment.events.count() == 1
    post(fake_paypal.send(ipn_body()), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PAID
