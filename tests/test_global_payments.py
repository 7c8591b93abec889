"""Global Payments (Realex) HPP: the conformance suite plus the HPP's own behaviour.

Responses here are written the way Global Payments documents the HPP response (a form
POST to MERCHANT_RESPONSE_URL, hashed over TIMESTAMP.MERCHANT_ID.ORDER_ID.RESULT.MESSAGE.
PASREF.AUTHCODE), hashed as the sandbox's HPP hashes them (billing.sandbox, written from
the same documentation), not with billing's signer.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured, InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.protocols import global_payments
from billing.protocols.base import Status, Verification
from billing.sandbox.gateways.global_payments import two_pass_hash
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import outcomes, poster, signed_ref, use_account

NOTIFY = "/billing/global_payments/notify/"
MERCHANT = "shopmerchant"
ACCOUNT = "internet"
SECRET = "gp-shared-secret"
SANDBOX_SECRET = "gp-sandbox-secret"  # Global Payments issues sandbox credentials apart
SETTINGS = {"MERCHANT_ID": MERCHANT, "ACCOUNT": ACCOUNT, "SHARED_SECRET": SECRET}

# -- known answers ------------------------------------------------------------------------
# Realex's worked example (quoted in globalpayments/java-sdk GenerationUtils), checked with
#   printf '%s' '20120926112654.thestore.ORD453-11.29900.EUR' | openssl dgst -sha1
#     -> b3d51ca21db725f9c7f13f8aca9e0e2ec2f32502
#   printf '%s' 'b3d51ca21db725f9c7f13f8aca9e0e2ec2f32502.mysecret' | openssl dgst -sha1
PUBLISHED_REQUEST_SHA1 = "3c3cac74f2b783598b99af6e43246529346d95d1"
# The same request with SHA-256 (both passes), computed with openssl dgst -sha256 the same way
#   (first pass 47751fcccc396a84c756d0d751fb4f2e1ac76b2bf2ea6d5ea33529b081a829b2)
PUBLISHED_REQUEST_SHA256 = "ae7030ba5a7d627ba250c20a12a37ddcbd4e5307ab4271d1a45d3a8f4aaf6ba4"
# HPP responses from Global Payments' dotnet-sdk tests (GpEcomHppResponseTest.cs, secret
# "secret"), checked with the same two openssl dgst -sha1 passes over
#   '20170725154824.MerchantId.GTI5Yxb0SumL_TkDMCAxQA.00.[ test system ] Authorised.
#    15011597872195765.12345'  and the REFERRAL B one (RESULT 102, empty AUTHCODE).
PUBLISHED_RESPONSE_00 = "843680654f377bfa845387fdbace35acc9d95778"
PUBLISHED_RESPONSE_102 = "1de7ac3d4128719fe1d7a9217b9a1cce02e2b1c9"
# This integration's own request, for a fixed clock and nonce:
#   s=$(printf '%s' '20261128120000.shopmerchant.ORDER-1_1000GBP_0a1b2c3d.1000.GBP' \
#       | openssl dgst -sha1 | awk '{print $2}')    # 6a73aa9b82eb2304dd6ecbe033d3e8ef5b263a26
#   printf '%s' "$s.gp-shared-secret" | openssl dgst -sha1
REQUEST_SHA1 = "3a09b2516504a8c3dc17d9139410cf2830b0cdeb"
#   the same with -sha256 (first pass 6aa91a01b9d0e7e82e4c11eb15dfbb79d4950afee1210c8c...)
REQUEST_SHA256 = "07df74b790b41277e1eedde90b9632f96ec314f8686c2d97cfcc347416b59c04"
# And a response to it:
#   s=$(printf '%s' '20261128120500.shopmerchant.ORDER-1_1000GBP_0a1b2c3d.00.[ test system ]
#       Authorised.14631546336115597.12345' | openssl dgst -sha1 | awk '{print $2}')
#   printf '%s' "$s.gp-shared-secret" | openssl dgst -sha1    (and -sha256 for both passes)
RESPONSE_SHA1 = "ef8477178556f6852bd2a1b5d0cc93b37f128699"
RESPONSE_SHA256 = "7b8d1abc54eb16e50b42336954ef619d8cdd0987dc04518f717ee779c405f280"


def response(
    *,
    order_id: str = "ORDER-1_1000GBP_0a1b2c3d",
    amount: str | None = "1000",
    result: str = "00",
    message: str = "[ test system ] Authorised",
    pasref: str = "14631546336115597",
    authcode: str = "12345",
    merchant_id: str = MERCHANT,
    account: str = ACCOUNT,
    timestamp: str = "20261128120500",
    secret: str = SECRET,
    algorithm: str = "sha1",
    response_url: str = "http://shop.test/billing/global_payments/notify/",
    extra: dict[str, str] | None = None,
) -> bytes:
    """An HPP response body, as the HPP posts it to MERCHANT_RESPONSE_URL."""
    fields = {
        "MERCHANT_ID": merchant_id,
        "ACCOUNT": account,
        "ORDER_ID": order_id,
        "TIMESTAMP": timestamp,
        "RESULT": result,
        "PASREF": pasref,
        "AUTHCODE": authcode,
        "AVSPOSTCODERESULT": "M",
        "AVSADDRESSRESULT": "M",
        "CVNRESULT": "M",
        "BATCHID": "445196",
        "HPP_LANG": "en",
        "MERCHANT_RESPONSE_URL": response_url,
        "MESSAGE": message,
        "AMOUNT": amount,
        **(extra or {}),
    }
    values = [timestamp, merchant_id, order_id, result, message, pasref, authcode]
    fields[{"sha1": "SHA1HASH", "sha256": "SHA256HASH"}[algorithm]] = two_pass_hash(
        values, secret, algorithm
    )
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


class TestGlobalPaymentsConformance(IntegrationConformance):
    slug = "global_payments"
    merchant_settings = SETTINGS
    currency = "GBP"

    def gateway_notification(
        self,
        form: dict[str, str],
        *,
        amount: Decimal | None = None,
        currency: str | None = None,
        test: bool | None = None,
        **change: Any,
    ) -> Delivery:
        """The stand-in's response, where the HPP differs from the suite's assumptions."""
        if amount is not None or currency is not None:
            # The HPP charges what the hashed request said: another amount or currency is the
            # response to another attempt (another request) for the same reference.
            minor = str(int((amount if amount is not None else Decimal("10.00")) * 100))
            currency = currency or form["CURRENCY"]
            order_id = f"{form['ORDER_ID'].rsplit('_', 2)[0]}_{minor}{currency}_ffffffff"
            form = {**form, "ORDER_ID": order_id, "AMOUNT": minor, "CURRENCY": currency}
            hashed = ("TIMESTAMP", "MERCHANT_ID", "ORDER_ID", "AMOUNT", "CURRENCY")
            form["SHA1HASH"] = two_pass_hash([form[name] for name in hashed], SECRET, "sha1")
        if test and not get_integration(self.slug).test_mode:
            # The response has no test flag: the sandbox hashes with its own secret.
            body = response(
                order_id=form["ORDER_ID"],
                amount=form["AMOUNT"],
                secret=SANDBOX_SECRET,
                response_url=form["MERCHANT_RESPONSE_URL"],
            )
            return Delivery(body=body)
        return super().gateway_notification(form, test=test, **change)

    def secrets(self) -> list[str]:
        return [SECRET]


# -- the HPP's own behaviour --------------------------------------------------------------


@pytest.fixture
def gp_settings(settings: Any) -> Any:
    return use_account(settings, "global_payments", SETTINGS)


def make_payment(
    reference: str = "ORDER-1", amount: Any = "1000", currency: str = "GBP", **extra: Any
) -> dict[str, str]:
    integration = get_integration("global_payments")
    integration.add_fields({"ORDER_ID": reference, "AMOUNT": amount, "CURRENCY": currency})
    integration.add_fields(extra)
    return integration.generate_form(RequestFactory().get("/", HTTP_HOST="shop.test"))


post = poster("global_payments")


pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def test_published_request_example() -> None:
    values = ["20120926112654", "thestore", "ORD453-11", "29900", "EUR"]
    assert global_payments.hash_values(values, "mysecret", "sha1") == PUBLISHED_REQUEST_SHA1
    assert global_payments.hash_values(values, "mysecret", "sha256") == PUBLISHED_REQUEST_SHA256


@pytest.mark.parametrize(
    ("result", "message", "pasref", "authcode", "expected"),
    [
        ("00", "[ test system ] Authorised", "15011597872195765", "12345", PUBLISHED_RESPONSE_00),
        ("102", "[ test system ] REFERRAL B", "15017567624469248", "", PUBLISHED_RESPONSE_102),
    ],
)
def test_published_response_examples(
    result: str, message: str, pasref: str, authcode: str, expected: str
) -> None:
    fields = {
        "TIMESTAMP": "20170725154824",
        "MERCHANT_ID": "MerchantId",
        "ORDER_ID": "GTI5Yxb0SumL_TkDMCAxQA",
        "RESULT": result,
        "MESSAGE": message,
        "PASREF": pasref,
        "AUTHCODE": authcode,
        "AMOUNT": "1999",
        "SHA1HASH": expected,
    }
    assert global_payments.verify_response(fields, secret="secret", algorithm="sha1") is (
        Verification.VALID
    )
    assert global_payments.verify_response(fields, secret="Secret", algorithm="sha1") is (
        Verification.INVALID
    )


def test_request_known_answers() -> None:
    order = {"ORDER_ID": "ORDER-1", "AMOUNT": "1000", "CURRENCY": "GBP"}
    common = {"merchant_id": MERCHANT, "account": ACCOUNT, "secret": SECRET, "now": NOW}
    sha1 = global_payments.build_fields(order, algorithm="sha1", nonce="0a1b2c3d", **common)
    assert sha1 == {
        "TIMESTAMP": "20261128120000",
        "MERCHANT_ID": MERCHANT,
        "ACCOUNT": ACCOUNT,
        "ORDER_ID": "ORDER-1_1000GBP_0a1b2c3d",
        "AMOUNT": "1000",
        "CURRENCY": "GBP",
        "AUTO_SETTLE_FLAG": "1",
        "HPP_VERSION": "2",
        "SHA1HASH": REQUEST_SHA1,
    }
    sha256 = global_payments.build_fields(order, algorithm="sha256", nonce="0a1b2c3d", **common)
    assert sha256["SHA256HASH"] == REQUEST_SHA256 and "SHA1HASH" not in sha256


@pytest.mark.parametrize(
    ("algorithm", "expected"), [("sha1", RESPONSE_SHA1), ("sha256", RESPONSE_SHA256)]
)
def test_response_known_answers(algorithm: str, expected: str) -> None:
    fields = global_payments.parse_response(response(algorithm=algorithm))
    assert fields[{"sha1": "SHA1HASH", "sha256": "SHA256HASH"}[algorithm]] == expected
    verdict = global_payments.verify_response(fields, secret=SECRET, algorithm=algorithm)
    assert verdict is Verification.VALID


@pytest.mark.usefixtures("no_site_url")
def test_rendered_form(gp_settings: Any) -> None:
    fields = make_payment(COMMENT1="Mug")
    reference, amount_currency, nonce = fields["ORDER_ID"].rsplit("_", 2)
    assert (reference, amount_currency, len(nonce)) == ("ORDER-1", "1000GBP", 8)
    assert fields["MERCHANT_ID"] == MERCHANT and fields["ACCOUNT"] == ACCOUNT
    assert fields["MERCHANT_RESPONSE_URL"] == "http://shop.test/billing/global_payments/notify/"
    assert (fields["AUTO_SETTLE_FLAG"], fields["HPP_VERSION"]) == ("1", "2")
    assert fields["COMMENT1"] == "Mug"
    assert SECRET not in "".join(fields.values())
    values = [fields[k] for k in ("TIMESTAMP", "MERCHANT_ID", "ORDER_ID", "AMOUNT", "CURRENCY")]
    assert fields["SHA1HASH"] == two_pass_hash(values, SECRET, "sha1")
    payment = Payment.objects.get()
    assert (payment.reference, payment.amount, payment.currency) == (
        "ORDER-1",
        Decimal("10.00"),
        "GBP",
    )
    assert payment.receiver == "shopmerchant:internet"


def test_every_form_is_a_new_attempt(gp_settings: Any) -> None:
    first, second = make_payment(), make_payment()
    assert first["ORDER_ID"] != second["ORDER_ID"]
    assert Payment.objects.count() == 1


def test_sha256_setting(gp_settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    gp_settings.MERCHANT_SETTINGS["global_payments"]["HASH_ALGORITHM"] = "SHA256"
    fields = make_payment()
    assert "SHA1HASH" not in fields
    values = [fields[k] for k in ("TIMESTAMP", "MERCHANT_ID", "ORDER_ID", "AMOUNT", "CURRENCY")]
    assert fields["SHA256HASH"] == two_pass_hash(values, SECRET, "sha256")
    # A SHA-1 response to a SHA-256 shop is not accepted: no downgrade.
    post(response(order_id=fields["ORDER_ID"]), django_capture_on_commit_callbacks)
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED
    body = response(order_id=fields["ORDER_ID"], algorithm="sha256", pasref="P-2")
    post(body, django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_unknown_hash_algorithm_is_a_configuration_error(gp_settings: Any) -> None:
    gp_settings.MERCHANT_SETTINGS["global_payments"]["HASH_ALGORITHM"] = "md5"
    with pytest.raises(IntegrationNotConfigured, match="HASH_ALGORITHM"):
        get_integration("global_payments")
    from billing.checks import check_integrations

    assert [m.id for m in check_integrations()] == ["billing.E001"]


def test_amount_is_minor_units_per_currency(gp_settings: Any) -> None:
    assert make_payment("JP-1", 1000, "JPY")["AMOUNT"] == "1000"
    assert make_payment("BH-1", "10500", "bhd")["CURRENCY"] == "BHD"
    amounts = dict(Payment.objects.values_list("reference", "amount"))
    assert amounts == {"JP-1": Decimal("1000"), "BH-1": Decimal("10.500")}


@pytest.mark.parametrize(
    "fields",
    [
        {"ORDER_ID": "F-1", "AMOUNT": "10.00", "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": Decimal("10.00"), "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": 10.0, "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": True, "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": "0", "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": "-100", "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": "١٠٠", "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": "1000"},
        {"ORDER_ID": "F-1", "AMOUNT": "1000", "CURRENCY": "EURO"},
        {"AMOUNT": "1000", "CURRENCY": "GBP"},
        {"ORDER_ID": "F 1", "AMOUNT": "1000", "CURRENCY": "GBP"},
        {"ORDER_ID": "F.1", "AMOUNT": "1000", "CURRENCY": "GBP"},
        {"ORDER_ID": "F" * 34, "AMOUNT": "1000", "CURRENCY": "GBP"},
        {"ORDER_ID": "F-1", "AMOUNT": "1000", "CURRENCY": "GBP", "AUTO_SETTLE_FLAG": "0"},
        {"ORDER_ID": "F-1", "AMOUNT": "1000", "CURRENCY": "GBP", "PAYER_REF": "p"},
        {"ORDER_ID": "F-1", "AMOUNT": "1000", "CURRENCY": "GBP", "HPP_FRAUDFILTER_MODE": "ON"},
    ],
    ids=[
        "major-units-string",
        "decimal",
        "float",
        "bool",
        "zero",
        "negative",
        "non-ascii-digits",
        "no-amount",
        "no-currency",
        "bad-currency",
        "no-order-id",
        "space-in-order-id",
        "dot-in-order-id",
        "order-id-too-long",
        "delayed-settlement",
        "card-storage",
        "fraud-filter",
    ],
)
def test_bad_orders_are_refused(gp_settings: Any, fields: dict[str, Any]) -> None:
    integration = get_integration("global_payments")
    integration.add_fields(fields)
    with pytest.raises(InvalidData):
        integration.generate_form()
    assert not Payment.objects.exists()


def test_longest_reference_fits(gp_settings: Any) -> None:
    reference = "R" * 33  # 33 + len("_1000GBP_") + len(nonce) == 33 + 9 + 8 == 50
    assert len(make_payment(reference)["ORDER_ID"]) == 50


def test_order_id_round_trip_with_underscores() -> None:
    order_id = global_payments.make_order_id("A_1000GBP_12345678", 1000, "GBP", "0a1b2c3d")
    order = global_payments.parse_order_id(order_id)
    assert order is not None and order.reference == "A_1000GBP_12345678"
    assert global_payments.parse_order_id("ORD453-11") is None


def test_endpoints(gp_settings: Any) -> None:
    assert get_integration("global_payments").service_url == (
        "https://pay.sandbox.realexpayments.com/pay"
    )
    gp_settings.MERCHANT_TEST_MODE = False
    assert get_integration("global_payments").service_url == "https://pay.realexpayments.com/pay"
    gp_settings.MERCHANT_SETTINGS["global_payments"]["SERVICE_URL"] = "https://hpp.test/pay"
    assert get_integration("global_payments").service_url == "https://hpp.test/pay"


# -- attacks --------------------------------------------------------------------------------


def test_swapped_amount_on_a_stale_attempt_is_rejected(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Pay 0.01, raise the order to 100.00, then post the 0.01 response claiming 10000."""
    cheap = make_payment(amount="1")
    make_payment(amount="10000")
    assert Payment.objects.get().amount == Decimal("100.00")
    forged = response(order_id=cheap["ORDER_ID"], amount="10000")  # hash still valid
    post(forged, django_capture_on_commit_callbacks)
    log = NotificationLog.objects.get()
    assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    # The untouched response to the cheap attempt is authentic, but for 0.01: held.
    post(response(order_id=cheap["ORDER_ID"], amount="1"), django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "amount 0.01 instead of 100.00" in payment.review_reason


def test_response_without_amount_takes_it_from_order_id(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fields = make_payment()
    post(response(order_id=fields["ORDER_ID"], amount=None), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PAID


@pytest.mark.parametrize(
    "change",
    [
        {"result": "101"},
        {"message": "[ test system ] DECLINED"},
        {"pasref": "99999999999999999"},
        {"authcode": "00000"},
        {"timestamp": "20261128120501"},
        {"merchant_id": "othermerchant"},
    ],
    ids=["result", "message", "pasref", "authcode", "timestamp", "merchant"],
)
def test_every_hashed_field_is_covered(change: dict[str, str]) -> None:
    original = global_payments.parse_response(response())
    changed = global_payments.parse_response(response(**change))
    changed["SHA1HASH"] = original["SHA1HASH"]
    assert global_payments.verify_response(changed, secret=SECRET, algorithm="sha1") is (
        Verification.INVALID
    )


def test_response_signed_with_another_secret_is_rejected(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fields = make_payment()
    post(
        response(order_id=fields["ORDER_ID"], secret="other-shop-secret"),
        django_capture_on_commit_callbacks,
    )
    log = NotificationLog.objects.get()
    assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_other_sub_account_is_held(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fields = make_payment()
    body = response(order_id=fields["ORDER_ID"], account="internettest")
    post(body, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "internettest" in payment.review_reason


def test_replayed_response_is_applied_once(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = response(order_id=make_payment()["ORDER_ID"])
    for _ in range(3):
        post(body, django_capture_on_commit_callbacks)
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]


def test_authentic_response_for_a_foreign_order_id_is_rejected(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(response(order_id="ORDER-1"), django_capture_on_commit_callbacks)
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED
    assert Payment.objects.get().status == PaymentStatus.PENDING


# -- states, test flag, the page shown to the customer -------------------------------------


@pytest.mark.parametrize(
    ("result", "state"),
    [
        ("00", Status.PAID),
        ("101", Status.FAILED),
        ("102", Status.FAILED),
        ("103", Status.FAILED),
        ("205", Status.FAILED),
        ("301", Status.FAILED),
        ("508", Status.FAILED),
        ("666", Status.FAILED),
        ("0", Status.UNKNOWN),
        ("OK", Status.UNKNOWN),
    ],
)
def test_result_mapping(result: str, state: Status) -> None:
    fields = global_payments.parse_response(response(result=result))
    n = global_payments.to_notification(fields, integration="global_payments", test=True)
    assert n.status is state and n.gateway_status == result


def test_notification_fields() -> None:
    fields = global_payments.parse_response(response())
    n = global_payments.to_notification(fields, integration="global_payments", test=False)
    assert (n.reference, n.transaction_id, n.amount, n.currency, n.receiver, n.test) == (
        "ORDER-1",
        "14631546336115597",
        Decimal("10.00"),
        "GBP",
        "shopmerchant:internet",
        False,
    )


@pytest.mark.parametrize("body", [b"a=b", b"RESULT=00", b"ORDER_ID=x", b"\n"])
def test_not_an_hpp_response(body: bytes) -> None:
    with pytest.raises(MalformedNotification):
        global_payments.parse_response(body)


def test_decline_is_failed_and_reported(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fields = make_payment()
    body = response(order_id=fields["ORDER_ID"], result="101", message="DECLINED", authcode="")
    post(body, django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_shop_in_live_mode_takes_live_responses(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    gp_settings.MERCHANT_TEST_MODE = False
    post(response(order_id=make_payment()["ORDER_ID"]), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_payment_made_in_test_mode_is_held_once_live(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fields = make_payment()
    gp_settings.MERCHANT_TEST_MODE = False
    post(response(order_id=fields["ORDER_ID"]), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.REVIEW


def test_customer_page_sends_the_customer_back(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response_ = post(
        response(order_id=make_payment()["ORDER_ID"]), django_capture_on_commit_callbacks
    )
    assert response_.status_code == 200
    assert response_["Content-Type"] == "text/html; charset=utf-8"
    query = signed_ref("global_payments", html=True)
    link = f"http://testserver/billing/global_payments/return/?{query}".encode()
    assert b'content="2;url=' + link + b'"' in response_.content
    assert b'<a href="' + link + b'">' in response_.content
    assert SECRET.encode() not in response_.content


def test_forged_response_cannot_steer_the_customer(
    gp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = response(
        order_id=make_payment()["ORDER_ID"],
        secret="guess",
        response_url="https://evil.example/billing/global_payments/notify/",
    )
    page = post(body, django_capture_on_commit_callbacks)
    assert page.status_code == 200
    assert b"evil.example" not in page.content
    assert b'href="http://testserver/billing/global_payments/return/' in page.content
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_add_order_converts_to_minor_units(gp_settings: Any) -> None:
    def form(reference: str, amount: str, currency: str, description: str = "") -> dict[str, str]:
        integration = get_integration("global_payments")
        integration.add_order(
            reference=reference, amount=Decimal(amount), currency=currency, description=description
        )
        return integration.generate_form()

    fields = form("ORDER-1", "10.00", "gbp", "Mug")
    assert (fields["AMOUNT"], fields["CURRENCY"], fields["COMMENT1"]) == ("1000", "GBP", "Mug")
    assert fields["ORDER_ID"].startswith("ORDER-1_1000GBP_")
    assert form("JP-1", "1000", "JPY")["AMOUNT"] == "1000"
    assert form("BH-1", "10.5", "BHD")["AMOUNT"] == "10500"
    amounts = dict(Payment.objects.values_list("reference", "amount"))
    assert amounts == {
        "ORDER-1": Decimal("10.00"),
        "JP-1": Decimal("1000"),
        "BH-1": Decimal("10.5"),
    }
    for reference, amount in [("F-1", "10.005"), ("F 1", "10.00"), ("F" * 34, "10.00")]:
        with pytest.raises(InvalidData):  # rounded, a space, no room left in ORDER_ID
            form(reference, amount, "GBP")


# -- the parse contract (finding 7) and multipart responses (finding 18) --------------------


@pytest.mark.parametrize(
    "order_id",
    ["ORDER-1_" + "9" * 5000 + "GBP_0a1b2c3d", "ORDER-1_1e999999GBP_0a1b2c3d", "X" * 5000],
    ids=["huge-amount", "exponent", "too-long"],
)
def test_order_ids_no_form_made_are_malformed(order_id: str) -> None:
    fields = global_payments.parse_response(response(order_id=order_id))
    with pytest.raises(MalformedNotification):
        global_payments.to_notification(fields, integration="global_payments", test=True)


@pytest.mark.parametrize("amount", ["9" * 5000, "1e3", "-1000", "NaN"])
def test_response_amounts_no_hpp_sends_do_not_verify(amount: str) -> None:
    """AMOUNT is not hashed; a value the ORDER_ID does not vouch for is a forgery, and
    never a ValueError (int() of 5000 digits raises one)."""
    fields = global_payments.parse_response(response(amount=amount))
    verdict = global_payments.verify_response(fields, secret=SECRET, algorithm="sha1")
    assert verdict is Verification.INVALID


def test_multipart_response_pays(gp_settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    from urllib.parse import parse_qsl

    from django.test import Client

    form = make_payment()
    body = response(order_id=form["ORDER_ID"], amount=form["AMOUNT"])
    with django_capture_on_commit_callbacks(execute=True):
        reply = Client().post(NOTIFY, dict(parse_qsl(body.decode())))  # multipart
    assert reply.status_code == 200
    assert b"/billing/global_payments/return/?ref=ORDER-1" in reply.content
    assert Payment.objects.get().status == PaymentStatus.PAID
