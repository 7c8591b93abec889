"""Worldpay Business Gateway: the conformance suite plus Worldpay's own behaviour.

Every notification here is written the way Worldpay's Payment Response Guide describes the
callback (a form POST with transStatus, transId, cartId, amount, currency, instId,
testMode, callbackPW and the echoed MC_* parameters), independently of billing's code.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client, RequestFactory

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured, InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.pipeline import process
from billing.protocols import world_pay
from billing.protocols.base import Status
from billing.sandbox.gateways.base import FormRejected
from billing.sandbox.gateways.world_pay import stand_in as worldpay_stand_in
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import outcomes, poster, signed_ref, use_account

NOTIFY = "/billing/world_pay/notify/"
INSTALLATION = "1234"
MD5_SECRET = "Tw0-Shr3d-MD5"
PASSWORD = "cb-P4ssw0rd"
SETTINGS = {
    "INSTALLATION_ID": INSTALLATION,
    "MD5_SECRET": MD5_SECRET,
    "CALLBACK_PASSWORD": PASSWORD,
}

# The URLs billing puts in a form rendered for a request to shop.test.
CALLBACK_URL = "http://shop.test/billing/world_pay/notify/"
# The return URL's ref is signed with the suite's SECRET_KEY (billing.integration.
# reference_signer, Django's Signer): S1 for ORDER-1, SJ for JP-1.
S1 = "CH3Hz8wcyL2nFWOMTY7HzvRJff15g-dDl06OixAOc3c"
SJ = "iCgHvX2O6UlI_blGadU3EBJB_nhBuqrIE0qZBXxqnjU"
RETURN_URL = f"http://shop.test/billing/world_pay/return/?ref=ORDER-1&sig={S1}"

# Known answers, computed outside the code under test with OpenSSL 3.0
# (N=http://shop.test/billing/world_pay/notify/, R=http://shop.test/billing/world_pay/return/):
#   printf '%s' "Tw0-Shr3d-MD5:10.00:GBP:1234:ORDER-1:$N:$R?ref=ORDER-1&sig=$S1" \
#     | openssl dgst -md5
SIGNATURE_DEFAULT_FIELDS = "5141e4a983f36c66ff6e3e6e910ff3f9"
#   printf '%s' "Tw0-Shr3d-MD5:1234:ORDER-1:10.00:GBP:$N:$R?ref=ORDER-1&sig=$S1" \
#     | openssl dgst -md5
SIGNATURE_CUSTOM_FIELDS = "269fbeda43b47e3fcb215df107401960"
#   printf '%s' "Tw0-Shr3d-MD5:1000:JPY:1234:JP-1:$N:$R?ref=JP-1&sig=$SJ" | openssl dgst -md5
SIGNATURE_JPY = "0b8bd15353329929dcd0fb153001f13d"
#   printf '%s' 'Tw0-Shr3d-MD5:10.00:GBP:1234:ORDER-1::' | openssl dgst -md5  (no URL known)
SIGNATURE_NO_URLS = "e2790ee9051ab9e3299a78bfca5533d6"
# The stored digest of callbackPW with the test suite's SECRET_KEY:
#   k=$(printf '%s' 'billing.world_pay.callbackPW' \
#       | openssl dgst -sha256 -hmac 'tests-only-not-secret' | awk '{print $2}')
#   (k = f96d1280d7728b980ace0d848f927108de84f20f26a597de785254cd3221dfab)
#   printf '%s' 'cb-P4ssw0rd' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k
PASSWORD_DIGEST = "0c3aa8790b0330ac574b5b2e297c71b068af8e16df25a3d597b52e3bb8af40c3"
REDACTION_KEY = "f96d1280d7728b980ace0d848f927108de84f20f26a597de785254cd3221dfab"


def callback(
    *,
    cart_id: str = "ORDER-1",
    amount: str = "10.00",
    currency: str = "GBP",
    status: str = "Y",
    trans_id: str = "3026456789",
    inst_id: str = INSTALLATION,
    test_mode: str = "100",
    password: str | None = PASSWORD,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A Payment Response body, field for field as Worldpay posts it."""
    fields = {
        "transStatus": status,
        "transId": trans_id if status == "Y" else "",
        "transTime": "1795000000000",
        "instId": inst_id,
        "cartId": cart_id,
        "desc": "Mug & co",
        "amount": amount,
        "currency": currency,
        "authAmount": amount,
        "authCurrency": currency,
        "authAmountString": f"&#163;{amount}",
        "rawAuthCode": "A",
        "authMode": "A",
        "testMode": test_mode,
        "cardType": "Visa",
        "countryMatch": "Y",
        "AVS": "2222",
        "name": "Zoë Müller",
        "email": "zoe@example.net",
        "MC_callback": "http://shop.test/billing/world_pay/notify/",
        "MC_return": "http://shop.test/billing/world_pay/return/?ref=ORDER-1",
        **(extra or {}),
    }
    if password is not None:
        fields["callbackPW"] = password
    return urlencode(fields).encode("utf-8")


def redacted(body: bytes) -> bytes:
    """The body as billing must store it: the password replaced by its keyed digest."""
    clear = b"callbackPW=" + PASSWORD.encode()
    assert body.count(clear) == 1
    return body.replace(clear, b"callbackPW=hmac-sha256%3A" + PASSWORD_DIGEST.encode())


class TestWorldPayConformance(IntegrationConformance):
    slug = "world_pay"
    merchant_settings = SETTINGS
    currency = "GBP"

    def tamper(self, delivery: Delivery) -> Delivery:
        # The password is the callback's only authentication and travels over TLS from
        # Worldpay to the shop: whoever changes the amount does not know it.
        body = delivery.body.replace(b"&amount=10.00&", b"&amount=0.01&")
        body = body.replace(b"callbackPW=" + PASSWORD.encode(), b"callbackPW=guess")
        assert body != delivery.body
        return Delivery(body=body)

    def stored_body(self, delivery: Delivery) -> bytes:
        return redacted(delivery.body)

    def secrets(self) -> list[str]:
        return [MD5_SECRET, PASSWORD]


# -- Worldpay's own behaviour -------------------------------------------------------------


@pytest.fixture
def wp_settings(settings: Any) -> Any:
    return use_account(settings, "world_pay", SETTINGS)


def shop_request() -> Any:
    return RequestFactory().get("/checkout/", HTTP_HOST="shop.test")


def make_payment(
    reference: str = "ORDER-1", amount: str = "10.00", currency: str = "GBP", **extra: Any
) -> dict[str, str]:
    integration = get_integration("world_pay")
    integration.add_fields({"cartId": reference, "amount": amount, "currency": currency, **extra})
    return integration.generate_form(shop_request())


post = poster("world_pay")


pytestmark = pytest.mark.django_db


def test_signature_known_answers() -> None:
    urls = [CALLBACK_URL, RETURN_URL]
    assert world_pay.signature(MD5_SECRET, ["10.00", "GBP", "1234", "ORDER-1", *urls]) == (
        SIGNATURE_DEFAULT_FIELDS
    )
    assert world_pay.signature(MD5_SECRET, ["1234", "ORDER-1", "10.00", "GBP", *urls]) == (
        SIGNATURE_CUSTOM_FIELDS
    )


@pytest.mark.usefixtures("no_site_url")
def test_form_is_signed_over_default_fields(wp_settings: Any) -> None:
    fields = make_payment(desc="Mug")
    assert fields["instId"] == INSTALLATION
    assert fields["signatureFields"] == "amount:currency:instId:cartId:MC_callback:MC_return"
    assert (fields["MC_callback"], fields["MC_return"]) == (CALLBACK_URL, RETURN_URL)
    assert fields["signature"] == SIGNATURE_DEFAULT_FIELDS
    assert fields["testMode"] == "100"
    assert MD5_SECRET not in fields.values() and PASSWORD not in fields.values()
    assert Payment.objects.get().receiver == INSTALLATION


@pytest.mark.usefixtures("no_site_url")
def test_signature_fields_setting(wp_settings: Any) -> None:
    custom = "instId:cartId:amount:currency:MC_callback:MC_return"
    wp_settings.MERCHANT_SETTINGS["world_pay"]["SIGNATURE_FIELDS"] = custom
    fields = make_payment()
    assert fields["signatureFields"] == custom
    assert fields["signature"] == SIGNATURE_CUSTOM_FIELDS


def test_signature_field_missing_from_form_is_refused(wp_settings: Any) -> None:
    signed = "amount:currency:MC_callback:MC_return:authValidTo"
    wp_settings.MERCHANT_SETTINGS["world_pay"]["SIGNATURE_FIELDS"] = signed
    with pytest.raises(InvalidData, match="authValidTo"):
        make_payment()


# -- the callback URL is signed: the password cannot be sent elsewhere (finding 2) ----------


def test_shopper_cannot_point_the_callback_at_his_server(wp_settings: Any) -> None:
    """With ``<wpdisplay item=MC_callback>`` Worldpay posts the Payment Response, and its
    password, wherever the form says; the form's signature must make that impossible."""
    fields = make_payment()
    worldpay_stand_in.check_form(fields)  # Worldpay takes the shop's form as rendered
    for name in ("MC_callback", "MC_return"):
        changed = dict(fields, **{name: "https://attacker.example/collect"})
        with pytest.raises(FormRejected, match="signature does not match"):
            worldpay_stand_in.check_form(changed)


@pytest.mark.parametrize(
    "signed", ["amount:currency:instId:cartId", "amount:currency:instId:cartId:MC_callback"]
)
def test_signature_fields_without_the_urls_are_refused(wp_settings: Any, signed: str) -> None:
    wp_settings.MERCHANT_SETTINGS["world_pay"]["SIGNATURE_FIELDS"] = signed
    with pytest.raises(IntegrationNotConfigured, match="MC_return"):
        get_integration("world_pay")  # at settings load, so `manage.py check` reports it
    from billing.checks import check_integrations

    assert any(m.id == "billing.E001" and "MC_return" in m.msg for m in check_integrations())
    with pytest.raises(InvalidData, match="MC_return"):
        world_pay.build_fields(
            {
                "cartId": "A-1",
                "amount": "1.00",
                "currency": "GBP",
                "MC_callback": "",
                "MC_return": "",
            },
            installation_id=INSTALLATION,
            md5_secret=MD5_SECRET,
            signature_fields=signed,
            test=True,
        )
    assert not Payment.objects.exists()


def test_urls_given_empty_are_signed_empty(wp_settings: Any) -> None:
    """A shop that relies on the Payment Response URL set in the Merchant Interface may
    send the URLs empty: they are still signed, so the shopper cannot fill them in."""
    integration = get_integration("world_pay")
    integration.add_fields(
        {"cartId": "ORDER-1", "amount": "10.00", "currency": "GBP", "MC_callback": "",
         "MC_return": ""}
    )  # fmt: skip
    fields = integration.generate_form()
    assert (fields["MC_callback"], fields["MC_return"]) == ("", "")
    assert fields["signature"] == SIGNATURE_NO_URLS
    with pytest.raises(FormRejected, match="signature does not match"):
        worldpay_stand_in.check_form(dict(fields, MC_callback="https://attacker.example/"))


@pytest.mark.usefixtures("no_site_url")
def test_amount_is_formatted_per_currency(wp_settings: Any) -> None:
    fields = make_payment(reference="JP-1", amount="1000", currency="jpy")
    assert (fields["amount"], fields["currency"]) == ("1000", "JPY")
    assert fields["signature"] == SIGNATURE_JPY
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency) == (Decimal("1000"), "JPY")
    assert make_payment(reference="GB-2", amount="10")["amount"] == "10.00"


@pytest.mark.parametrize(
    "fields",
    [
        {"cartId": "F-1", "amount": 10.1, "currency": "GBP"},
        {"cartId": "F-1", "amount": "10.005", "currency": "GBP"},
        {"cartId": "F-1", "amount": "0", "currency": "GBP"},
        {"cartId": "F-1", "amount": "ten", "currency": "GBP"},
        {"amount": "10.00", "currency": "GBP"},
        {"cartId": "F-1", "amount": "10.00"},
    ],
    ids=["float", "too-precise", "zero", "not-a-number", "no-cartId", "no-currency"],
)
def test_bad_orders_are_refused(wp_settings: Any, fields: dict[str, Any]) -> None:
    integration = get_integration("world_pay")
    integration.add_fields(fields)
    with pytest.raises(InvalidData):
        integration.generate_form()
    assert not Payment.objects.exists()


def test_live_mode_and_endpoints(wp_settings: Any) -> None:
    integration = get_integration("world_pay")
    assert integration.service_url == "https://secure-test.worldpay.com/wcc/purchase"
    wp_settings.MERCHANT_TEST_MODE = False
    integration = get_integration("world_pay")
    assert integration.service_url == "https://secure.worldpay.com/wcc/purchase"
    assert make_payment(testMode="100")["testMode"] == "0"  # a live shop never asks for test
    wp_settings.MERCHANT_SETTINGS["world_pay"]["SERVICE_URL"] = "https://wp.test/purchase"
    assert get_integration("world_pay").service_url == "https://wp.test/purchase"


@pytest.mark.usefixtures("no_site_url")
def test_callback_urls_point_at_billing(wp_settings: Any) -> None:
    from django.test import RequestFactory

    integration = get_integration("world_pay")
    integration.add_fields({"cartId": "ORDER-1", "amount": "10.00", "currency": "GBP"})
    fields = integration.generate_form(RequestFactory().get("/", HTTP_HOST="shop.test"))
    assert fields["MC_callback"] == "http://shop.test/billing/world_pay/notify/"
    assert fields["MC_return"] == RETURN_URL


def test_stored_body_never_holds_the_password(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    body = callback()
    response = post(body, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    log = NotificationLog.objects.get()
    assert PASSWORD.encode() not in bytes(log.body)
    assert bytes(log.body) == redacted(body)
    assert log.outcome == Outcome.APPLIED
    assert Payment.objects.get().status == PaymentStatus.PAID
    # Re-running the stored request (admin action, management command) still verifies.
    NotificationLog.objects.update(outcome=Outcome.RECEIVED)
    assert process(log.pk) == Outcome.DUPLICATE


def test_redaction_key_and_digest_known_answers() -> None:
    key = world_pay.redaction_key(b"tests-only-not-secret")
    assert key.hex() == REDACTION_KEY
    assert world_pay.password_digest(PASSWORD.encode(), key) == "hmac-sha256:" + PASSWORD_DIGEST


def test_wrong_password_is_rejected(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    response = post(callback(password="cb-P4ssw0rD"), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    log = NotificationLog.objects.get()
    assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    "body",
    [
        callback(password=None),
        callback(password=""),
        # The digest billing stores, sent on the wire: it is digested again.
        callback(password="hmac-sha256:" + PASSWORD_DIGEST),
        # The same behind a percent-encoded name, which decodes to callbackPW.
        callback(password=None) + b"&callback%50W=hmac-sha256%3A" + PASSWORD_DIGEST.encode(),
    ],
    ids=["missing", "empty", "stored-digest", "encoded-name-digest"],
)
def test_no_password_no_payment(
    wp_settings: Any, body: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(body, django_capture_on_commit_callbacks)
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.REJECTED
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_password_behind_an_encoded_name_is_still_redacted(wp_settings: Any) -> None:
    body = callback(password=None) + b"&callback%50W=" + PASSWORD.encode()
    Client().post(NOTIFY, body, content_type="application/x-www-form-urlencoded")
    assert PASSWORD.encode() not in bytes(NotificationLog.objects.get().body)


def test_password_from_another_installation_is_rejected(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A callback made with another shop's (or the old) password changes nothing."""
    make_payment()
    post(callback(password="someone-elses-password"), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_rotated_secret_key_still_verifies_stored_callbacks(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    wp_settings.MERCHANT_SETTINGS["world_pay"]["CALLBACK_PASSWORD"] = "not-yet"
    post(callback(), django_capture_on_commit_callbacks)  # stored, rejected: wrong password
    log = NotificationLog.objects.get()
    assert log.outcome == Outcome.REJECTED
    wp_settings.MERCHANT_SETTINGS["world_pay"]["CALLBACK_PASSWORD"] = PASSWORD
    wp_settings.SECRET_KEY_FALLBACKS = [wp_settings.SECRET_KEY]
    wp_settings.SECRET_KEY = "a-new-secret-key-after-rotation"
    with django_capture_on_commit_callbacks(execute=True):
        assert process(log.pk) == Outcome.APPLIED
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_tampered_amount_with_the_password_is_held(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Only the amount check stands between a leaked password and a cheap order."""
    make_payment()
    post(callback(amount="0.01"), django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "amount 0.01 instead of 10.00" in payment.review_reason


def test_other_installation_is_held(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    post(callback(inst_id="9999"), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.REVIEW


def test_replayed_callback_is_applied_once(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    for _ in range(3):
        post(callback(), django_capture_on_commit_callbacks)
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert Payment.objects.get().events.count() == 1


def test_cancellation_without_transaction_id(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    response = post(callback(status="C"), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    cancel = f'/billing/world_pay/cancel/?{signed_ref("world_pay", html=True)}"'
    assert cancel.encode() in response.content


def test_live_callback_on_live_shop_is_paid(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    wp_settings.MERCHANT_TEST_MODE = False
    make_payment()
    post(callback(test_mode="0"), django_capture_on_commit_callbacks)
    assert Payment.objects.get().status == PaymentStatus.PAID


@pytest.mark.parametrize(
    ("trans_status", "state"),
    [("Y", Status.PAID), ("y", Status.PAID), ("C", Status.CANCELLED), ("N", Status.UNKNOWN)],
)
def test_status_mapping(trans_status: str, state: Status) -> None:
    fields = world_pay.parse_callback(callback(status=trans_status))
    assert world_pay.to_notification(fields, integration="world_pay").status is state


def test_missing_test_mode_is_not_live() -> None:
    fields = world_pay.parse_callback(callback())
    del fields["testMode"]
    assert world_pay.to_notification(fields, integration="world_pay").test is True
    fields["testMode"] = "0"
    assert world_pay.to_notification(fields, integration="world_pay").test is False


def test_notification_fields() -> None:
    n = world_pay.to_notification(world_pay.parse_callback(callback()), integration="world_pay")
    assert (n.reference, n.transaction_id, n.amount, n.currency, n.receiver) == (
        "ORDER-1",
        "3026456789",
        Decimal("10.00"),
        "GBP",
        INSTALLATION,
    )
    assert n.raw["name"] == "Zoë Müller"


def test_latin1_callback_decodes() -> None:
    body = callback(extra={"name": "x"}).replace(b"name=x", b"name=M%FCller")
    assert world_pay.parse_callback(body)["name"] == "Müller"


@pytest.mark.parametrize("body", [b"a=b", b"transStatus=Y", b"   "])
def test_not_a_payment_response(body: bytes) -> None:
    with pytest.raises(MalformedNotification):
        world_pay.parse_callback(body)


def test_shopper_page_sends_the_shopper_back(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    response = post(callback(), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    link = f"http://testserver/billing/world_pay/return/?{signed_ref('world_pay', html=True)}"
    link = link.encode()
    assert b'<meta http-equiv="refresh" content="2;url=' + link + b'">' in response.content
    assert b'<a href="' + link + b'">' in response.content
    for secret in (PASSWORD, MD5_SECRET, PASSWORD_DIGEST):
        assert secret.encode() not in response.content


def test_shopper_page_uses_the_site_url(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    wp_settings.BILLING_SITE_URL = "https://shop.example.com/"
    make_payment()
    response = post(callback(), django_capture_on_commit_callbacks)
    query = signed_ref("world_pay", html=True)
    assert f'href="https://shop.example.com/billing/world_pay/return/?{query}"'.encode() in (
        response.content
    )


def test_forged_callback_cannot_steer_the_shopper(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    body = callback(
        password="guess", extra={"MC_callback": "https://evil.example/billing/world_pay/notify/"}
    )
    response = post(body, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert b"evil.example" not in response.content
    assert b'href="http://testserver/billing/world_pay/return/' in response.content
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.usefixtures("no_site_url")
def test_add_order_puts_the_terms_in_worldpay_fields(wp_settings: Any) -> None:
    integration = get_integration("world_pay")
    integration.add_order(
        reference="ORDER-1", amount=Decimal("10.00"), currency="GBP", description="Mug & co"
    )
    fields = integration.generate_form(shop_request())
    assert (fields["cartId"], fields["amount"], fields["currency"]) == ("ORDER-1", "10.00", "GBP")
    assert fields["desc"] == "Mug & co"
    assert fields["signature"] == SIGNATURE_DEFAULT_FIELDS  # the same order, the same MD5
    japanese = get_integration("world_pay")
    japanese.add_order(reference="JP-1", amount=Decimal("1000"), currency="JPY")
    jpy = japanese.generate_form(shop_request())
    assert (jpy["amount"], jpy["desc"], jpy["signature"]) == ("1000", "JP-1", SIGNATURE_JPY)


# -- the password is never stored, whatever the body's shape (finding 4) -------------------

KEY = bytes.fromhex(REDACTION_KEY)
STORED_DIGEST = b"hmac-sha256:" + PASSWORD_DIGEST.encode()


def multipart(
    pairs: list[tuple[str, str]], boundary: str = "wPbOuNdArY", eol: str = "\r\n"
) -> bytes:
    """A multipart/form-data body, written out by hand as RFC 7578 describes it."""
    parts = [
        f'--{boundary}{eol}Content-Disposition: form-data; name="{name}"{eol}{eol}{value}{eol}'
        for name, value in pairs
    ]
    return ("".join(parts) + f"--{boundary}--{eol}").encode("utf-8")


CALLBACK_PAIRS = [
    ("transStatus", "Y"),
    ("cartId", "ORDER-1"),
    ("amount", "10.00"),
    ("callbackPW", PASSWORD),
    ("name", "Zoë"),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"cartId=1&callbackPW=" + PASSWORD.encode(), b"cartId=1&callbackPW=hmac-sha256%3A"),
        # A query string (Worldpay never sends one, but nothing is stored unredacted).
        (b"callback%50W=" + PASSWORD.encode() + b"&a=b", b"callback%50W=hmac-sha256%3A"),
    ],
    ids=["body", "query-string-encoded-name"],
)
def test_redact_password_in_form_pairs(body: bytes, expected: bytes) -> None:
    redacted = world_pay.redact_password(body, KEY)
    assert PASSWORD.encode() not in redacted and redacted.startswith(expected)
    assert PASSWORD_DIGEST.encode() in redacted


@pytest.mark.parametrize("cut", [3, 8, len(PASSWORD) - 1])
def test_redact_password_in_a_truncated_body(cut: int) -> None:
    """Cut at BILLING_MAX_NOTIFICATION_BYTES inside the password: what is left is digested."""
    body = callback()
    assert body.endswith(b"callbackPW=" + PASSWORD.encode())
    truncated = body[: len(body) - len(PASSWORD) + cut]
    redacted = world_pay.redact_password(truncated, KEY)
    assert PASSWORD[:cut].encode() not in redacted.rpartition(b"callbackPW=")[2]
    assert redacted.rpartition(b"callbackPW=")[2].startswith(b"hmac-sha256%3A")
    assert redacted.rpartition(b"&callbackPW=")[0] == truncated.rpartition(b"&callbackPW=")[0]


@pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_redact_password_in_a_multipart_body(eol: str) -> None:
    body = multipart(CALLBACK_PAIRS, eol=eol)
    redacted = world_pay.redact_password(body, KEY)
    assert PASSWORD.encode() not in redacted
    # Only the password's content changed: every other byte is as received.
    assert redacted == body.replace(PASSWORD.encode(), STORED_DIGEST)


@pytest.mark.parametrize(
    "disposition",
    [
        'form-data; name="callbackPW"',
        "form-data; name=callbackPW",
        'form-data; name=" callbackPW "',
        "form-data; name*=utf-8''callback%50W",
        'form-data; name="other"; name="callbackPW"',
        'FORM-DATA; NAME="callbackPW"',
    ],
)
def test_redact_password_whatever_the_part_header_looks_like(disposition: str) -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="cartId"\r\n\r\nORDER-1\r\n'
        b"--b\r\ncontent-disposition: " + disposition.encode() + b"\r\n"
        b"Content-Type: text/plain\r\n\r\n" + PASSWORD.encode() + b"\r\n--b--\r\n"
    )
    assert PASSWORD.encode() not in world_pay.redact_password(body, KEY)


@pytest.mark.parametrize("cut", [3, 7, len(PASSWORD)])
def test_redact_password_in_a_truncated_multipart_body(cut: int) -> None:
    body = multipart(CALLBACK_PAIRS)
    truncated = body[: body.index(PASSWORD.encode()) + cut]
    redacted = world_pay.redact_password(truncated, KEY)
    assert PASSWORD[:cut].encode() not in redacted
    assert redacted.endswith(world_pay.password_digest(PASSWORD[:cut].encode(), KEY).encode())


@pytest.mark.parametrize("cut", ["after", "inside", "in-the-name"])
def test_a_callback_just_over_the_size_limit_is_stored_without_the_password(
    wp_settings: Any, django_capture_on_commit_callbacks: Any, cut: str
) -> None:
    """A body over BILLING_MAX_NOTIFICATION_BYTES is stored truncated (and answered 413):
    redacted like any other, wherever the cut falls."""
    make_payment()
    genuine = callback()  # callbackPW comes last
    body, limit = {
        "after": (genuine + b"&M_pad=xxxxxxxx", len(genuine) + 3),
        "inside": (genuine, len(genuine) - 4),
        "in-the-name": (genuine, len(genuine) - len(PASSWORD) - 3),
    }[cut]
    wp_settings.BILLING_MAX_NOTIFICATION_BYTES = limit
    response = post(body, django_capture_on_commit_callbacks)
    assert response.status_code == 413
    log = NotificationLog.objects.get()
    assert log.truncated
    stored = bytes(log.body)
    assert PASSWORD[:4].encode() not in stored
    assert stored == world_pay.redact_password(body[:limit], KEY)
    assert Payment.objects.get().status == PaymentStatus.PENDING


# -- multipart/form-data Payment Responses (finding 18) -----------------------------------


def test_multipart_callback_from_the_django_test_client_is_paid(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Django's test client posts multipart/form-data unless told otherwise."""
    make_payment()
    fields = dict(world_pay.parse_callback(callback()))
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(NOTIFY, fields)
    assert response.status_code == 200, response.content
    log = NotificationLog.objects.get()
    assert log.content_type.startswith("multipart/form-data")
    assert PASSWORD.encode() not in bytes(log.body) and STORED_DIGEST in bytes(log.body)
    assert (log.verification, log.outcome) == (Verdict.VALID, Outcome.APPLIED)
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_multipart_callback_with_a_wrong_password_is_rejected(
    wp_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_payment()
    fields = dict(world_pay.parse_callback(callback(password="guess")))
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(NOTIFY, fields)
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED
    assert Payment.objects.get().status == PaymentStatus.PENDING
