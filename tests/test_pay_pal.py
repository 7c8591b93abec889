"""PayPal Payments Standard: the conformance suite plus PayPal's own behaviour."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from billing import get_integration, http
from billing.exceptions import InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import pay_pal
from billing.protocols.base import Status
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import poster, use_account
from tests.pay_pal_data import ipn_body

NOTIFY = "/billing/pay_pal/notify/"


class TestPayPalConformance(IntegrationConformance):
    slug = "pay_pal"
    merchant_settings = {"RECEIVER_EMAIL": "shop@example.com"}

    @pytest.fixture(autouse=True)
    def _gateway(self, fake_paypal: Any) -> None:
        self.gateway = fake_paypal

    def gateway_notification(self, form: dict[str, str], **change: Any) -> Delivery:
        """The stand-in's IPN, which PayPal's postback (the fake) then knows it sent."""
        delivery = super().gateway_notification(form, **change)
        self.gateway.send(delivery.body)
        return delivery


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
        ("Canceled_Reversal", Status.REINSTATED),  # paid again, but only after a reversal
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


# -- look-alike receivers (finding 5) ---------------------------------------------------------


@pytest.mark.parametrize(
    "receiver",
    [
        "\u017fhop@example.com",  # LATIN SMALL LETTER LONG S: casefolds to "s"
        "\u017fHOP@EXAMPLE.COM",
        "shop@exampl\u0435.com",  # CYRILLIC SMALL LETTER IE: equal under no folding
    ],
    ids=["long-s", "upper-long-s", "cyrillic-e"],
)
def test_look_alike_receiver_is_held(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any, receiver: str
) -> None:
    """An IPN PayPal verifies, for a payment to the attacker's own look-alike account."""
    make_payment()
    body = ipn_body(receiver=receiver, charset="UTF-8")
    post(fake_paypal.send(body), django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "not the shop's account" in payment.review_reason


def test_kelvin_sign_in_receiver_id_is_held(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["RECEIVER_ID"] = "KS8XGHLYDW9T3"
    make_payment()
    other = {"receiver_id": "\u212aS8XGHLYDW9T3"}  # KELVIN SIGN: casefolds to "k"
    body = ipn_body(receiver="attacker@example.net", extra=other, charset="UTF-8")
    post(fake_paypal.send(body), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.REVIEW


def test_receiver_email_in_other_ascii_case_is_the_shop(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(
        fake_paypal.send(ipn_body(receiver="Shop@Example.COM")), django_capture_on_commit_callbacks
    )
    assert Payment.objects.get().status == PaymentStatus.PAID


# -- charsets (findings 10, 16) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "charset", ["utf-7", "UTF-7", "idna", "cp037", "ebcdic-cp-us", "utf-16", "rot13", "hz"]
)
def test_charsets_paypal_does_not_send_are_refused(paypal_settings: Any, charset: str) -> None:
    body = b"charset=" + charset.encode() + b"&invoice=ORDER-1&mc_gross=10.00"
    with pytest.raises(MalformedNotification, match="charset"):
        pay_pal.parse_ipn(body)
    response = Client().post(NOTIFY, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_utf7_cannot_smuggle_markup() -> None:
    """UTF-7 decodes plain ASCII "+ADw-" to "<": a value that looks harmless at the byte
    level becomes markup. PayPal documents UTF-7, but an IPN never needs it."""
    with pytest.raises(MalformedNotification):
        pay_pal.parse_ipn(b"charset=utf-7&item_name=%2BADw-script%2BAD4-")


@pytest.mark.parametrize(
    ("charset", "raw", "text"),
    [
        ("windows-1252", b"%80", "€"),
        ("ISO-8859-1", b"%E9", "é"),
        ("UTF-8", b"%C3%A9", "é"),
        ("Shift_JIS", b"%83%41", "ア"),
        ("KOI8-R", b"%C1", "а"),
        ("x-mac-greek", b"%A1", "Γ"),
        ("", b"%E9", "é"),  # no charset: windows-1252
    ],
)
def test_documented_charsets_decode(charset: str, raw: bytes, text: str) -> None:
    body = b"charset=" + charset.encode() + b"&first_name=" + raw
    assert pay_pal.parse_ipn(body)["first_name"] == text


def test_bytes_invalid_in_the_charset_still_verify_and_pay(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Invalid UTF-8 in a UTF-8 IPN: a 400 would make PayPal resend it forever. It is
    decoded with U+FFFD for display, and the postback verifies the exact bytes."""
    make_payment()
    body = ipn_body(charset="UTF-8").replace(b"first_name=Zo%C3%AB", b"first_name=Zo%C3%28")
    assert b"Zo%C3%28" in body
    response = post(fake_paypal.send(body), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert fake_paypal.postbacks[-1].content == b"cmd=_notify-validate&" + body
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert pay_pal.parse_ipn(body)["first_name"] == "Zo\ufffd("


# -- Canceled_Reversal is a reinstatement, never a payment (finding 10) -------------------


def test_canceled_reversal_does_not_pay_a_pending_payment(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A genuine Canceled_Reversal IPN (e.g. for another, reversed payment, with this
    invoice) must not move a payment that was never paid to paid."""
    make_payment()
    body = ipn_body(status="Canceled_Reversal", transaction_id="OTHER-TX")
    post(fake_paypal.send(body), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_canceled_reversal_reinstates_a_reversed_payment(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(fake_paypal.send(ipn_body()), django_capture_on_commit_callbacks)
    reversal = ipn_body(status="Reversed", transaction_id="REV-1", amount=Decimal("-10.00"))
    post(fake_paypal.send(reversal), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.REVERSED
    reinstated = ipn_body(status="Canceled_Reversal", transaction_id="CR-1")
    post(fake_paypal.send(reinstated), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PAID


# -- PDT: one outbound call per transaction (finding 10) -------------------------------------


def pdt_requests(fake_paypal: Any) -> list[Any]:
    return [r for r in fake_paypal.postbacks if b"cmd=_notify-synch" in r.content]


def test_repeated_returns_ask_paypal_once(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "pdt-identity-token"
    make_payment()
    fake_paypal.pdt["61E67681CH3238416"] = ipn_body()
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            Client().get("/billing/pay_pal/return/?ref=ORDER-1&tx=61E67681CH3238416")
    assert len(pdt_requests(fake_paypal)) == 1
    assert Payment.objects.get().status == PaymentStatus.PAID
    # Fetched once: never again, however long after.
    NotificationLog.objects.update(received_at=timezone.now() - timedelta(days=1))
    Client().get("/billing/pay_pal/return/?ref=ORDER-1&tx=61E67681CH3238416")
    assert len(pdt_requests(fake_paypal)) == 1


def test_unknown_tx_is_asked_again_only_after_a_minute(
    paypal_settings: Any, fake_paypal: Any
) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "pdt-identity-token"
    make_payment()
    for _ in range(20):
        Client().get("/billing/pay_pal/return/?tx=NOTAREALTX0000001")
    assert len(pdt_requests(fake_paypal)) == 1  # PayPal answered FAIL; nothing stored
    NotificationLog.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    Client().get("/billing/pay_pal/return/?tx=NOTAREALTX0000001")
    assert len(pdt_requests(fake_paypal)) == 2
    Client().get("/billing/pay_pal/return/?tx=ANOTHERTX00000002")  # another tx: asked
    assert len(pdt_requests(fake_paypal)) == 3


@pytest.mark.parametrize("tx", ["", "x" * 65, "61E6 7681", "<script>", "61E67681CH3238416\n"])
def test_no_pdt_for_what_is_not_a_transaction_id(
    paypal_settings: Any, fake_paypal: Any, tx: str
) -> None:
    paypal_settings.MERCHANT_SETTINGS["pay_pal"]["PDT_TOKEN"] = "pdt-identity-token"
    Client().get("/billing/pay_pal/return/", {"tx": tx})
    assert pdt_requests(fake_paypal) == []


def test_pdt_skips_lines_that_are_not_name_value(paypal_settings: Any) -> None:
    from billing.testing.fakes import install_transport

    record = ipn_body().replace(b"&", b"\n")
    content = b"SUCCESS\n" + record + b"\n\nsome stray line\n=novalue\n"
    install_transport(lambda request: httpx.Response(200, content=content))
    try:
        body = pay_pal.fetch_pdt(
            "61E67681CH3238416",
            identity_token="t",
            postback_url="https://www.sandbox.paypal.com/cgi-bin/webscr",
            client=http.get_client(),
        )
    finally:
        http.set_client(None)
    assert body == ipn_body()
    assert pay_pal.parse_ipn(body)["invoice"] == "ORDER-1"


# -- the parse contract (finding 7) ----------------------------------------------------------


@pytest.mark.parametrize(
    "amount", ["1e999999", "NaN", "sNaN", "Infinity", "1" * 5000, "10,00", "\u0661\u0660", "1e2"]
)
def test_amounts_paypal_never_sends_are_malformed(amount: str) -> None:
    fields = pay_pal.parse_ipn(ipn_body(extra={"mc_gross": amount}, charset="UTF-8"))
    with pytest.raises(MalformedNotification, match="mc_gross"):
        pay_pal.to_notification(fields, integration="pay_pal")


def test_negative_amounts_are_refunds() -> None:
    fields = pay_pal.parse_ipn(ipn_body(status="Refunded", amount=Decimal("-10.00")))
    assert pay_pal.to_notification(fields, integration="pay_pal").amount == Decimal("-10.00")


def test_paypal_refuses_multipart(
    paypal_settings: Any, fake_paypal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The postback needs the exact urlencoded bytes PayPal sent: multipart is not an IPN."""
    make_payment()
    fields = dict(pay_pal.parse_ipn(fake_paypal.send(ipn_body())))
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(NOTIFY, fields)
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_secret_settings_are_declared() -> None:
    from billing.integrations.pay_pal_integration import PayPalIntegration

    assert {"PDT_TOKEN", "PRIVATE_KEY"} <= set(PayPalIntegration.secret_settings)


def test_pdt_reads_tx_from_a_posted_return(settings: Any, fake_paypal: Any) -> None:
    """rm=2: PayPal may bring the customer back by POST, tx in the body, not the query."""
    settings.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com", "PDT_TOKEN": "id-token"}
    }
    get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "10.00"}).generate_form()
    fake_paypal.pdt["61E67681CH3238416"] = ipn_body()
    Client().post(
        "/billing/pay_pal/return/",
        "tx=61E67681CH3238416&st=Completed",
        content_type="application/x-www-form-urlencoded",
    )
    assert Payment.objects.get().status == PaymentStatus.PAID
