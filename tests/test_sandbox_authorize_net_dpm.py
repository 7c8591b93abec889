"""The Authorize.Net SIM stand-in: fingerprint checks, hosted form, relay response.

The stand-in is written from Authorize.Net's guides; these tests put it face to face
with the shop's integration (billing.protocols.authorize_net_dpm), through a real server
at the end, where the customer is shown the shop's relay reply at the stand-in's URL.
"""

import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing.protocols import authorize_net_dpm as protocol
from billing.sandbox.gateways.authorize_net_dpm import fingerprint, sha2_hash
from billing.sandbox.gateways.authorize_net_dpm import stand_in as anet
from billing.sandbox.gateways.base import FormRejected
from billing.sandbox.models import Checkout, SentNotification
from tests.sandbox_helpers import (
    Customer,
    StandInFlows,
    assert_refused,
    order_form,
    sandbox_settings,
)

SERVICE = "/sandbox/authorize_net_dpm/gateway/transact.dll"
# A made-up Signature Key (`openssl rand -hex 64`).
KEY = (
    "6EA3CBE8269CAADC601A9F857EA7AC9192A03390A2C88FF8441ECF4F9F146A0E"
    "D39F4F0D0273AF2985DAA34807A3CA760D2F292B4D0EC7D1DAE2332898FC2B51"
)
ACCOUNT = {"LOGIN_ID": "demo-login", "SIGNATURE_KEY": KEY, "CURRENCY": "EUR"}


@pytest.fixture
def sandbox(settings: Any) -> Any:
    return sandbox_settings(settings, "authorize_net_dpm", ACCOUNT)


def shop_form(**extra: Any) -> dict[str, str]:
    """The fields billing's Authorize.Net integration renders for an order."""
    return order_form("authorize_net_dpm", host="shop.test", **extra)


def refingerprint(fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "x_fp_hash": fingerprint(fields, bytes.fromhex(KEY))}


def test_fingerprint_and_relay_hash_known_answers() -> None:
    # printf '%s' 'ShopLogin42^123456^1767225600^10.00^USD' | openssl dgst -sha512 -mac HMAC -macopt hexkey:<KEY>  # noqa: E501
    fields = {"x_login": "ShopLogin42", "x_fp_sequence": "123456", "x_fp_timestamp": "1767225600"}
    fields.update({"x_amount": "10.00", "x_currency_code": "USD"})
    assert fingerprint(fields, bytes.fromhex(KEY)) == (
        "d0865795427f79a6be6063c961bf185af0e112e24ca8baf1728fb5054f1fc74e"
        "20761f17d824f520bdb71dfe2237f94abd3e89608f79b505b7e0693dd58faab1"
    )
    # printf '%s' '^60123456789^false^1^ABC123^M^2^Y^CC^XXXX1111^10.00^^Zoë^Müller^1 Main St^Bellevue^WA^98004^US^^^buyer@example.com^^^^^^^^^ORDER-1^' | iconv -f UTF-8 -t ISO-8859-1 | openssl dgst -sha512 -mac HMAC -macopt hexkey:<KEY>  # noqa: E501
    values = {
        "x_trans_id": "60123456789",
        "x_test_request": "false",
        "x_response_code": "1",
        "x_auth_code": "ABC123",
        "x_cvv2_resp_code": "M",
        "x_cavv_response": "2",
        "x_avs_code": "Y",
        "x_method": "CC",
        "x_account_number": "XXXX1111",
        "x_amount": "10.00",
        "x_first_name": "Zoë",
        "x_last_name": "Müller",
        "x_address": "1 Main St",
        "x_city": "Bellevue",
        "x_state": "WA",
        "x_zip": "98004",
        "x_country": "US",
        "x_email": "buyer@example.com",
        "x_invoice_num": "ORDER-1",
        "x_description": "not hashed",
    }
    assert sha2_hash(values, bytes.fromhex(KEY)) == (
        "01AA7746A4BDEE34C3CB6BE33651B3EC5541E49F0C10BADE044220A076CB4936"
        "5E95D63C378E3514656CF1287324A4BE8F63A261FECE22F4E9C029E68BCF5F3A"
    )


@pytest.mark.django_db
def test_card_data_posted_by_dpm_is_not_kept(sandbox: Any) -> None:
    form = shop_form(x_show_form=None)
    card = {"x_card_num": "4111111111111111", "x_exp_date": "12/30", "x_card_code": "123"}
    client = Client()
    response = client.post(SERVICE, {**form, **card})
    assert response.status_code == 303
    stored = Checkout.objects.get().fields
    assert not set(card) & set(stored)
    assert "Direct Post Method" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"x_fp_hash": "0" * 128}, "(99) This transaction cannot be accepted."),
        ({"x_amount": "1.00"}, "(99) This transaction cannot be accepted."),  # after signing
        ({"x_fp_hash": ""}, "(103) This transaction cannot be accepted."),
        ({"x_login": "someone-else"}, "(13) The merchant login ID or password is invalid"),
    ],
    ids=["wrong", "tampered-amount", "missing", "login"],
)
def test_bad_fingerprint_gets_authorize_net_error_page(
    sandbox: Any, change: dict[str, str], code: str
) -> None:
    response = Client().post(SERVICE, {**shop_form(), **change})
    assert_refused(response, "The following errors have occurred.", code, secrets=(KEY,))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x_fp_timestamp": str(int(time.time()) - 16 * 60)}, "(97)"),
        ({"x_amount": "10,00"}, "(5) A valid amount is required."),
        ({"x_currency_code": "USD"}, "(39) The supplied currency code"),
        ({"x_relay_url": "ftp://shop.test/"}, "(14) The referrer, relay response"),
        ({"x_invoice_num": ""}, "x_invoice_num is missing"),
        ({"x_type": "CREDIT"}, "takes AUTH_CAPTURE and AUTH_ONLY"),
    ],
)
def test_bad_form_is_refused(sandbox: Any, change: dict[str, str], message: str) -> None:
    assert_refused(Client().post(SERVICE, refingerprint({**shop_form(), **change})), message)


def test_without_the_shops_settings_it_cannot_sign(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {}
    with pytest.raises(FormRejected, match="does not know this Authorize.Net account"):
        anet.notification({"x_amount": "1.00", "x_invoice_num": "R"}, status="paid")


# -- what the shop makes of the relay response -----------------------------------------------


@pytest.mark.django_db
def test_relay_response_verifies_with_the_shops_protocol(sandbox: Any) -> None:
    form = shop_form(x_first_name="Zoë", merchant_note="kept")
    message = anet.notification(form, status="paid")
    fields = protocol.parse_relay(message.body)
    key = protocol.signature_key(KEY)
    assert protocol.verify_relay(fields, key)
    notification = protocol.to_notification(fields, integration="authorize_net_dpm", currency="EUR")
    assert (notification.reference, notification.amount) == ("ORDER-1", Decimal("10.00"))
    assert notification.status == "paid" and notification.test
    # Test requests come back as Authorize.Net answers them: transaction 0, auth 000000.
    assert fields["x_trans_id"] == "0" and fields["x_auth_code"] == "000000"
    assert fields["x_first_name"] == "Zoë" and fields["merchant_note"] == "kept"
    tampered = protocol.parse_relay(anet.tamper(message).body)
    assert tampered["x_amount"] == "0.01" and not protocol.verify_relay(tampered, key)
    declined = protocol.parse_relay(anet.notification(form, status="failed").body)
    assert declined["x_response_code"] == "2" and protocol.verify_relay(declined, key)


@pytest.mark.django_db
def test_the_cli_hashes_the_relay_response_itself(sandbox: Any) -> None:
    response = Client().post(
        "/sandbox/authorize_net_dpm/issue/",
        {"reference": "R-9", "amount": "5", "currency": "EUR", "receiver": "demo-login"},
    )
    assert response.status_code == 400 and not SentNotification.objects.exists()
    form = anet.form_for(
        reference="R-9", amount=Decimal("5"), currency="EUR", receiver="demo-login"
    )
    fields = protocol.parse_relay(anet.notification(form, status="paid").body)
    assert protocol.verify_relay(fields, protocol.signature_key(KEY))
    assert (fields["x_invoice_num"], fields["x_amount"]) == ("R-9", "5.00")


# -- the hosted page and the flows every stand-in shares (StandInFlows), as this one runs them


class TestAuthorizeNetFlows(StandInFlows):
    slug = "authorize_net_dpm"
    service_path = SERVICE
    page_shows = (
        "10.00 EUR",
        "demo-login",
        "ORDER-1",
        "Mug",
        "http://shop.test/billing/authorize_net_dpm/notify/",
    )
    secrets = (KEY,)
    tampered = b"x_amount=0.01"
    shop_form = staticmethod(shop_form)

    def test_shop_that_does_not_answer_200_gets_authorize_nets_own_page(
        self, live: Customer, sandbox: Any
    ) -> None:
        form = shop_form(x_relay_url=f"{sandbox.BILLING_SITE_URL}/billing/nowhere/notify/")
        reply = live.pay("approve", form=form)
        assert "An error occurred while reporting this transaction to the merchant" in reply.text
        assert "HTTP 404" in reply.text
