"""Authorize.Net SIM / DPM: the conformance suite, known-answer vectors and attacks.

The gateway side below (the relay response) is written from the SIM guide, and hashed
with the sandbox's x_SHA2_Hash (billing.sandbox, written from the Transaction Hash Upgrade
Guide), not with billing.protocols.authorize_net_dpm; the vectors come from the openssl
CLI, with the command next to each.
"""

import hashlib
import hmac
import html
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client, RequestFactory

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured, InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus
from billing.protocols import authorize_net_dpm as anet
from billing.protocols.base import Status
from billing.sandbox.gateways.authorize_net_dpm import sha2_hash
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import outcomes, payment_of, poster, signed_ref, use_account

LOGIN = "ShopLogin42"
# A Signature Key as the Merchant Interface shows it (from `openssl rand -hex 64`).
KEY = (
    "6EA3CBE8269CAADC601A9F857EA7AC9192A03390A2C88FF8441ECF4F9F146A0E"
    "D39F4F0D0273AF2985DAA34807A3CA760D2F292B4D0EC7D1DAE2332898FC2B51"
)
OTHER_KEY = "0F" * 64
SETTINGS = {"LOGIN_ID": LOGIN, "SIGNATURE_KEY": KEY}
NOTIFY = "/billing/authorize_net_dpm/notify/"


# -- Authorize.Net's side, from its guides (the sandbox's x_SHA2_Hash, not billing's) -----------


def relay_pairs(
    form: dict[str, str],
    *,
    response_code: str = "1",
    amount: str | None = None,
    trans_id: str = "60123456789",
    test_request: str | None = None,
    hex_key: str = KEY,
    transaction_type: str = "auth_capture",
) -> list[tuple[str, str]]:
    """The relay response Authorize.Net posts for this form (merchant fields echoed)."""
    approved = response_code == "1"
    values = {
        "x_response_code": response_code,
        "x_response_reason_code": {"1": "1", "2": "2", "3": "6", "4": "252"}[response_code],
        "x_response_reason_text": "This transaction has been approved."
        if approved
        else "This transaction has been declined.",
        "x_avs_code": "Y",
        "x_auth_code": "ABC123" if approved else "",
        "x_trans_id": trans_id,
        "x_method": "CC",
        "x_card_type": "Visa",
        "x_account_number": "XXXX1111",
        "x_first_name": "Zoë",
        "x_last_name": "Müller",
        "x_company": "",
        "x_address": "1 Main St",
        "x_city": "Bellevue",
        "x_state": "WA",
        "x_zip": "98004",
        "x_country": "US",
        "x_phone": "",
        "x_fax": "",
        "x_email": "buyer@example.com",
        "x_invoice_num": form["x_invoice_num"],
        "x_description": form.get("x_description", ""),
        "x_type": transaction_type,
        "x_cust_id": "",
        "x_amount": amount if amount is not None else form["x_amount"],
        "x_tax": "0.00",
        "x_duty": "0.00",
        "x_freight": "0.00",
        "x_tax_exempt": "FALSE",
        "x_po_num": "",
        "x_MD5_Hash": "",
        "x_cvv2_resp_code": "M" if approved else "",
        "x_cavv_response": "2" if approved else "",
        "x_test_request": test_request
        if test_request is not None
        else ("true" if form.get("x_test_request") == "TRUE" else "false"),
    }
    # Merchant-defined fields (not x_...) come back as they were posted.
    values.update({k: v for k, v in form.items() if not k.startswith("x_")})
    values["x_SHA2_Hash"] = sha2_hash(values, bytes.fromhex(hex_key))
    return list(values.items())


def as_body(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs, encoding="iso-8859-1").encode("ascii")


class TestAuthorizeNetConformance(IntegrationConformance):
    slug = "authorize_net_dpm"
    merchant_settings = SETTINGS

    def gateway_notification(self, form: dict[str, str], **change: Any) -> Delivery:
        """The account charges in its own currency, which the relay response implies: for
        an order in another one, the relay response to the same form without its currency
        (Authorize.Net refuses the currency, with error 39)."""
        if form.get("x_currency_code", "USD") != "USD":
            form = {name: value for name, value in form.items() if name != "x_currency_code"}
        return super().gateway_notification(form, **change)

    def secrets(self) -> list[str]:
        return [KEY, KEY.lower()]


# -- known-answer vectors -----------------------------------------------------------------------


def test_fingerprint_known_answer() -> None:
    # printf '%s' 'ShopLogin42^123456^1767225600^10.00^USD' | openssl dgst -sha512 -mac HMAC -macopt hexkey:6EA3CBE8269CAADC601A9F857EA7AC9192A03390A2C88FF8441ECF4F9F146A0ED39F4F0D0273AF2985DAA34807A3CA760D2F292B4D0EC7D1DAE2332898FC2B51  # noqa: E501
    with_currency = (
        "d0865795427f79a6be6063c961bf185af0e112e24ca8baf1728fb5054f1fc74e"
        "20761f17d824f520bdb71dfe2237f94abd3e89608f79b505b7e0693dd58faab1"
    )
    # The same without a currency: 'ShopLogin42^123456^1767225600^10.00^' (trailing caret).
    without_currency = (
        "3c367d561512bc1452a9294aa93efcbe5eb5e22c6ab7e8391c9461974742e383"
        "d81e8e310d64ec6b8b4fc4ef04c5d130e82515a88e94033cae217b9fecffa478"
    )
    key = anet.signature_key(KEY)
    common = {"login": LOGIN, "sequence": "123456", "timestamp": "1767225600", "amount": "10.00"}
    assert anet.fingerprint(**common, currency="USD", key=key) == with_currency
    assert anet.fingerprint(**common, currency="", key=key) == without_currency
    form = anet.build_fields(
        {"x_invoice_num": "ORDER-1", "x_amount": "10"},
        login=LOGIN,
        key=key,
        test=True,
        account_currency="usd",
        sequence="123456",
        timestamp="1767225600",
    )
    assert form["x_amount"] == "10.00" and form["x_currency_code"] == "USD"
    assert form["x_fp_hash"] == with_currency


# The relay response hash over the 30 values (ISO-8859-1: Zoë and Müller are one byte a letter):
#   printf '%s' '^60123456789^false^1^ABC123^M^2^Y^CC^XXXX1111^10.00^^Zoë^Müller^1 Main St^Bellevue^WA^98004^US^^^buyer@example.com^^^^^^^^^ORDER-1^' | iconv -f UTF-8 -t ISO-8859-1 | openssl dgst -sha512 -mac HMAC -macopt hexkey:6EA3CBE8269CAADC601A9F857EA7AC9192A03390A2C88FF8441ECF4F9F146A0ED39F4F0D0273AF2985DAA34807A3CA760D2F292B4D0EC7D1DAE2332898FC2B51  # noqa: E501
RELAY_HASH = (
    "01AA7746A4BDEE34C3CB6BE33651B3EC5541E49F0C10BADE044220A076CB4936"
    "5E95D63C378E3514656CF1287324A4BE8F63A261FECE22F4E9C029E68BCF5F3A"
)
RELAY_BODY = (
    b"x_response_code=1&x_response_reason_code=1&x_response_reason_text=This+transaction"
    b"+has+been+approved.&x_avs_code=Y&x_auth_code=ABC123&x_trans_id=60123456789"
    b"&x_method=CC&x_card_type=Visa&x_account_number=XXXX1111&x_first_name=Zo%EB"
    b"&x_last_name=M%FCller&x_company=&x_address=1+Main+St&x_city=Bellevue&x_state=WA"
    b"&x_zip=98004&x_country=US&x_phone=&x_fax=&x_email=buyer%40example.com"
    b"&x_invoice_num=ORDER-1&x_description=Mug&x_type=auth_capture&x_cust_id="
    b"&x_ship_to_first_name=&x_ship_to_last_name=&x_ship_to_company=&x_ship_to_address="
    b"&x_ship_to_city=&x_ship_to_state=&x_ship_to_zip=&x_ship_to_country=&x_amount=10.00"
    b"&x_tax=0.00&x_duty=0.00&x_freight=0.00&x_tax_exempt=FALSE&x_po_num=&x_MD5_Hash="
    b"&x_cvv2_resp_code=M&x_cavv_response=2&x_test_request=false&x_SHA2_Hash=" + RELAY_HASH.encode()
)


def test_relay_hash_known_answer() -> None:
    fields = anet.parse_relay(RELAY_BODY)
    assert fields["x_first_name"] == "Zoë" and fields["x_last_name"] == "Müller"
    key = anet.signature_key(KEY)
    assert anet.response_hash(fields, key) == RELAY_HASH
    assert anet.verify_relay(fields, key)
    assert anet.verify_relay({**fields, "x_SHA2_Hash": RELAY_HASH.lower()}, key)
    assert not anet.verify_relay(fields, anet.signature_key(OTHER_KEY))
    n = anet.to_notification(fields, integration="authorize_net_dpm", currency="usd")
    assert (n.reference, n.transaction_id, n.currency) == ("ORDER-1", "60123456789", "USD")
    assert n.amount == Decimal("10.00") and n.status is Status.PAID
    assert n.test is False and n.receiver == ""


@pytest.mark.parametrize(
    "field", ["x_trans_id", "x_test_request", "x_response_code", "x_amount", "x_invoice_num"]
)
def test_every_bound_value_is_covered(field: str) -> None:
    fields = anet.parse_relay(RELAY_BODY)
    changed = {**fields, field: fields[field] + "0"}
    assert not anet.verify_relay(changed, anet.signature_key(KEY))


def test_values_outside_the_hash_do_not_matter() -> None:
    fields = anet.parse_relay(RELAY_BODY)
    changed = {**fields, "x_description": "changed", "x_tax": "9.99"}
    assert anet.verify_relay(changed, anet.signature_key(KEY))


@pytest.mark.parametrize(
    ("code", "transaction_type", "state"),
    [
        ("1", "auth_capture", Status.PAID),
        ("2", "auth_capture", Status.FAILED),
        ("3", "auth_capture", Status.FAILED),
        ("4", "auth_capture", Status.PENDING),  # held for review: not money received
        ("1", "auth_only", Status.PENDING),  # authorised, not captured
        ("9", "auth_capture", Status.UNKNOWN),
        # Only the exact auth_capture the relay response states is a capture (finding 6):
        # x_type is in neither the fingerprint nor the hash.
        ("1", " auth_only", Status.UNKNOWN),
        ("1", "AUTH_ONLY", Status.UNKNOWN),
        ("1", "auth_capture ", Status.UNKNOWN),
        ("1", "AUTH_CAPTURE", Status.UNKNOWN),
        ("1", "prior_auth_capture", Status.UNKNOWN),
        ("1", "credit", Status.UNKNOWN),
        ("1", "", Status.UNKNOWN),
        ("2", "auth_only", Status.FAILED),
    ],
)
def test_status_mapping(code: str, transaction_type: str, state: Status) -> None:
    fields = {"x_response_code": code, "x_type": transaction_type, "x_trans_id": "1"}
    n = anet.to_notification(fields, integration="authorize_net_dpm", currency="USD")
    assert n.status is state and n.gateway_status == code


# -- the integration --------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def anet_settings(settings: Any) -> Any:
    return use_account(settings, "authorize_net_dpm", SETTINGS)


def make_form(reference: str = "ORDER-1", amount: str = "10.00", **extra: Any) -> dict[str, str]:
    integration = get_integration("authorize_net_dpm")
    integration.add_fields({"x_invoice_num": reference, "x_amount": amount, **extra})
    return integration.generate_form(RequestFactory().get("/checkout/", HTTP_HOST="shop.test"))


SLUG = "authorize_net_dpm"
post = poster("authorize_net_dpm")
payment = payment_of("authorize_net_dpm")


@pytest.mark.usefixtures("no_site_url")
def test_form_fields_and_fingerprint(anet_settings: Any) -> None:
    form = make_form(x_description="Mug")
    message = "^".join(
        [LOGIN, form["x_fp_sequence"], form["x_fp_timestamp"], form["x_amount"], "USD"]
    )
    expected = hmac.new(bytes.fromhex(KEY), message.encode(), hashlib.sha512).hexdigest()
    assert form["x_fp_hash"] == expected
    assert form["x_login"] == LOGIN and form["x_version"] == "3.1"
    assert form["x_type"] == "AUTH_CAPTURE" and form["x_show_form"] == "PAYMENT_FORM"
    assert form["x_relay_response"] == "TRUE" and form["x_test_request"] == "TRUE"
    assert form["x_relay_url"] == "http://shop.test/billing/authorize_net_dpm/notify/"
    assert form["x_currency_code"] == "USD"
    assert KEY not in str(form) and KEY.lower() not in str(form)
    assert payment().receiver == LOGIN and payment().amount == Decimal("10.00")


def test_live_mode_sends_no_test_request(anet_settings: Any) -> None:
    anet_settings.MERCHANT_TEST_MODE = False
    form = make_form(x_test_request="TRUE")
    assert "x_test_request" not in form
    assert get_integration("authorize_net_dpm").service_url == anet.LIVE_SERVICE_URL
    anet_settings.MERCHANT_TEST_MODE = True
    assert get_integration("authorize_net_dpm").service_url == anet.TEST_SERVICE_URL
    anet_settings.MERCHANT_SETTINGS["authorize_net_dpm"]["SERVICE_URL"] = "https://gw.test/t"
    assert get_integration("authorize_net_dpm").service_url == "https://gw.test/t"


def test_direct_post_method_leaves_out_the_hosted_form(anet_settings: Any) -> None:
    form = make_form(x_show_form=None)
    assert "x_show_form" not in form and form["x_relay_always"] == "TRUE"


def test_account_currency_setting(anet_settings: Any) -> None:
    anet_settings.MERCHANT_SETTINGS["authorize_net_dpm"]["CURRENCY"] = "cad"
    form = make_form()
    assert form["x_currency_code"] == "CAD" and payment().currency == "CAD"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"x_type": "AUTH_ONLY"}, "AUTH_CAPTURE"),
        ({"x_amount": 10.0}, "float"),
        ({"x_amount": "0"}, "positive"),
        ({"x_amount": "ten"}, "amount"),
        ({"x_currency_code": "US"}, "ISO 4217"),
        ({"x_invoice_num": ""}, "x_invoice_num"),
    ],
)
def test_form_refuses(anet_settings: Any, extra: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        make_form(**extra)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "key",
    [KEY[:-2], KEY + "00", "Z" + KEY[1:], "", "simon says" * 13],
    ids=["short", "long", "not-hex", "empty", "text"],
)
def test_signature_key_is_checked(settings: Any, key: str) -> None:
    settings.MERCHANT_SETTINGS = {"authorize_net_dpm": {"LOGIN_ID": LOGIN, "SIGNATURE_KEY": key}}
    with pytest.raises(IntegrationNotConfigured) as error:
        get_integration("authorize_net_dpm")
    message = str(error.value)
    assert "SIGNATURE_KEY" in message
    assert not key or key not in message


def test_relay_reply_sends_the_customer_back(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    response = post(as_body(relay_pairs(form)), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    back = f"http://testserver/billing/authorize_net_dpm/return/?{signed_ref(SLUG)}"
    assert f'content="0;url={html.escape(back)}"' in page
    assert f'href="{html.escape(back)}"' in page
    assert KEY not in page and KEY.lower() not in page and len(page) < 1024  # a small page
    assert payment().status == PaymentStatus.PAID
    # And the customer lands on the return page.
    assert Client().get(back).status_code == 200


def test_relay_reply_never_follows_urls_in_the_relay(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    form["x_relay_url"] = "https://evil.example/phish"
    form["x_receipt_link_url"] = "https://evil.example/phish"
    response = post(as_body(relay_pairs(form)), django_capture_on_commit_callbacks)
    assert b"evil.example" not in response.content
    back = "http://testserver/billing/authorize_net_dpm/return/?" + signed_ref(SLUG, html=True)
    assert f'href="{back}"'.encode() in response.content


def test_relay_reply_uses_site_url_and_escapes(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    anet_settings.BILLING_SITE_URL = "https://shop.example"
    form = make_form()
    evil = dict(form, x_invoice_num='"><script>alert(1)</script>')
    response = post(as_body(relay_pairs(evil)), django_capture_on_commit_callbacks)
    page = response.content.decode()
    assert "<script>" not in page
    assert re.search(r'href="https://shop\.example/billing/authorize_net_dpm/return/\?ref=', page)


def test_malformed_relay_is_400(anet_settings: Any) -> None:
    response = Client().post(NOTIFY, b"=", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400  # malformed: rejected before any page


def test_held_for_review_stays_pending(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    post(as_body(relay_pairs(form, response_code="4")), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.APPLIED


def test_test_transactions_with_id_zero_stay_apart(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Test-mode transactions all have x_trans_id 0; each payment is still paid once."""
    first, second = make_form("ORDER-1"), make_form("ORDER-2", "5.00")
    for form in (first, second, first):
        post(as_body(relay_pairs(form, trans_id="0")), django_capture_on_commit_callbacks)
    assert payment("ORDER-1").status == payment("ORDER-2").status == PaymentStatus.PAID
    assert outcomes() == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DUPLICATE]


def test_declined_then_approved(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form(x_show_form=None)
    post(
        as_body(relay_pairs(form, response_code="2", trans_id="1")),
        django_capture_on_commit_callbacks,
    )
    assert payment().status == PaymentStatus.FAILED
    post(as_body(relay_pairs(form, trans_id="2")), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PAID


# -- attacks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hex_key",
    [OTHER_KEY, KEY.lower().replace("6ea3", "6ea4")],
    ids=["another-account", "one-digit-off"],
)
def test_wrong_key_changes_nothing(
    anet_settings: Any, hex_key: str, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    post(as_body(relay_pairs(form, hex_key=hex_key)), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_missing_hash_changes_nothing(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    pairs = [(k, v) for k, v in relay_pairs(form) if k != "x_SHA2_Hash"]
    post(as_body(pairs), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_md5_hash_alone_is_not_accepted(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    md5 = hashlib.md5(f"{LOGIN}60123456789{form['x_amount']}".encode()).hexdigest().upper()
    pairs = [(k, md5 if k == "x_MD5_Hash" else v) for k, v in relay_pairs(form)]
    pairs = [(k, v) for k, v in pairs if k != "x_SHA2_Hash"]
    post(as_body(pairs), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING


def test_swapped_invoice_changes_nothing(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The authentic relay of a cheap order, its invoice number changed to the dear one."""
    make_form("ORDER-1", "500.00")
    cheap = make_form("ORDER-2", "1.00")
    body = as_body(relay_pairs(cheap)).replace(b"x_invoice_num=ORDER-2", b"x_invoice_num=ORDER-1")
    post(body, django_capture_on_commit_callbacks)
    assert payment("ORDER-1").status == payment("ORDER-2").status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_cheap_form_posted_under_the_dear_invoice_is_held(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """x_invoice_num is not in the fingerprint: a customer can pay the cheap form under the
    dear order's number and get an authentic relay for it. The amount check holds it."""
    make_form("ORDER-1", "500.00")
    cheap = make_form("ORDER-2", "1.00")
    edited = dict(cheap, x_invoice_num="ORDER-1")
    post(as_body(relay_pairs(edited)), django_capture_on_commit_callbacks)
    assert payment("ORDER-1").status == PaymentStatus.REVIEW
    assert "amount 1.00 instead of 500.00" in payment("ORDER-1").review_reason


def test_form_changed_to_auth_only_is_not_paid(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """x_type is not in the fingerprint either: an authorisation-only approval stays pending."""
    form = make_form()
    relay = relay_pairs(form, transaction_type="auth_only")
    post(as_body(relay), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING


def test_test_request_on_a_live_shop_is_held(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """x_test_request is not in the fingerprint: a customer can add it; the hash covers it."""
    anet_settings.MERCHANT_TEST_MODE = False
    form = make_form()
    post(as_body(relay_pairs(form, test_request="true")), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.REVIEW
    relay = relay_pairs(form, test_request="true")
    body = as_body(relay).replace(b"x_test_request=true", b"x_test_request=false")
    post(body, django_capture_on_commit_callbacks)
    assert NotificationLog.objects.order_by("pk").last().outcome == Outcome.REJECTED


def test_replayed_relay_is_applied_once(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    body = as_body(relay_pairs(form))
    for _ in range(3):
        post(body, django_capture_on_commit_callbacks)
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]


@pytest.mark.usefixtures("no_site_url")
def test_add_order_puts_the_terms_in_authorize_net_fields(anet_settings: Any) -> None:
    integration = get_integration("authorize_net_dpm")
    integration.add_order(
        reference="ORDER-7", amount=Decimal("12.5"), currency="USD", description="Enamel mug"
    )
    form = integration.generate_form(RequestFactory().get("/", HTTP_HOST="shop.test"))
    assert (form["x_invoice_num"], form["x_amount"]) == ("ORDER-7", "12.50")
    assert (form["x_currency_code"], form["x_description"]) == ("USD", "Enamel mug")
    cancel = "http://shop.test/billing/authorize_net_dpm/cancel/?" + signed_ref(SLUG, "ORDER-7")
    assert form["x_cancel_url"] == cancel
    assert payment("ORDER-7").amount == Decimal("12.50")
    fields = integration.order_fields("R-1", Decimal("3.00"), "USD", "")
    assert fields["x_description"] == "R-1"  # something to show on the hosted form


@pytest.mark.parametrize("transaction_type", [" auth_only", "AUTH_ONLY\t", "auth_only ", "x"])
def test_form_changed_to_another_type_is_not_paid(
    anet_settings: Any, django_capture_on_commit_callbacks: Any, transaction_type: str
) -> None:
    """Any x_type but the exact auth_capture is not money received (finding 6)."""
    form = make_form()
    relay = relay_pairs(form, transaction_type=transaction_type)
    post(as_body(relay), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.IGNORED


@pytest.mark.parametrize(
    ("asked_of", "configured"),
    [("Kiosk42", "\u212aiosk42"), ("shop42", "\u017fhop42"), (LOGIN, LOGIN.lower())],
    ids=["kelvin-sign", "long-s", "letter-case"],
)
def test_look_alike_login_is_another_account(
    anet_settings: Any,
    django_capture_on_commit_callbacks: Any,
    asked_of: str,
    configured: str,
) -> None:
    """casefold() made "\u212aiosk42" equal "Kiosk42": the Signature Key proves the
    configured login, which must be the payment's, character for character (finding 5)."""
    anet_settings.MERCHANT_SETTINGS["authorize_net_dpm"]["LOGIN_ID"] = asked_of
    form = make_form()
    anet_settings.MERCHANT_SETTINGS["authorize_net_dpm"]["LOGIN_ID"] = configured
    post(as_body(relay_pairs(form)), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.REVIEW
    assert "not the shop's account" in payment().review_reason


@pytest.mark.parametrize(
    "amount", ["1e999999", "NaN", "-Infinity", "-10.00", "9" * 5000, "10,00", "\uff11\uff10"]
)
def test_amounts_no_gateway_sends_are_malformed(amount: str) -> None:
    fields = {"x_response_code": "1", "x_type": "auth_capture", "x_amount": amount}
    with pytest.raises(MalformedNotification, match="x_amount"):
        anet.to_notification(fields, integration="authorize_net_dpm", currency="USD")


def test_a_bad_signature_key_is_billing_error_not_value_error() -> None:
    with pytest.raises(InvalidData):
        anet.signature_key("not a key")


def test_multipart_relay_response_pays(
    anet_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A relay response posted as multipart/form-data carries the same fields (finding 18)."""
    form = make_form()
    pairs = relay_pairs(form)
    with django_capture_on_commit_callbacks(execute=True):
        # ASCII names only here: the test client writes UTF-8, the relay's is ISO-8859-1.
        data = {k: v.replace("ë", "e").replace("ü", "u") for k, v in pairs}
        data["x_SHA2_Hash"] = sha2_hash(data, bytes.fromhex(KEY))
        response = Client().post(NOTIFY, data)
    assert response.status_code == 200
    assert b"/billing/authorize_net_dpm/return/?ref=ORDER-1" in response.content
    assert payment().status == PaymentStatus.PAID
