"""Robokassa: the conformance suite, known answers, and the attacks on its two passwords.

Known answers, computed outside our code with ``printf '%s' '<base>' | md5sum``:
- form ``demo:11.00:42:password_1:Shp_item=2``;
- form with the per-payment addresses ``demo:11.00:42:https://shop.example/result:
  https://shop.example/ok:GET:https://shop.example/fail:GET:password_1:Shp_a=1:Shp_b=2``;
- ResultURL ``11.000000:42:password_2:Shp_item=2``, and the same base with
  ``password_1``, which is what a notification signed with the wrong password carries.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from billing.exceptions import InvalidData, MalformedNotification
from billing.models import Outcome, PaymentStatus
from billing.protocols import robokassa
from billing.protocols.base import Account, Inbound, Verification
from billing.registry import get_integration
from billing.sandbox.gateways import robokassa as stand_in_module
from billing.testing.conformance import IntegrationConformance
from tests.helpers import form_renderer, outcomes, payment_of, poster, settings_fixture

LOGIN, PASSWORD1, PASSWORD2 = "demoshop", "robokassa-password-1", "robokassa-password-2"
SETTINGS = {"MERCHANT_LOGIN": LOGIN, "PASSWORD1": PASSWORD1, "PASSWORD2": PASSWORD2}
FORM = {"MerchantLogin": "demo", "OutSum": "11.00", "InvId": "42", "Shp_item": "2"}
FORM_SIGNATURE = "acf1dd0c396c89a26a33a1ae7a655e60"
ADDRESSES = {
    "MerchantLogin": "demo",
    "OutSum": "11.00",
    "InvId": "42",
    "ResultUrl2": "https://shop.example/result",
    "SuccessUrl2": "https://shop.example/ok",
    "SuccessUrl2Method": "GET",
    "FailUrl2": "https://shop.example/fail",
    "FailUrl2Method": "GET",
    "Shp_b": "2",
    "Shp_a": "1",
}
ADDRESSES_SIGNATURE = "43e3a207436a877f5ea9936c311e2767"
RESULT = {"OutSum": "11.000000", "InvId": "42", "Shp_item": "2"}
RESULT_SIGNATURE = "8fa910dbaa5bf2439d9c8361b6f5623e"
WITH_PASSWORD1 = "5ed8f8d502ef66d7f0c1525bd6a451f8"
EXAMPLE = Account(
    {"MERCHANT_LOGIN": "demo", "PASSWORD1": "password_1", "PASSWORD2": "password_2"},
    test=True,
    endpoint=str,
)
post = poster("robokassa")
payment = payment_of("robokassa")


class TestRobokassaConformance(IntegrationConformance):
    slug = "robokassa"
    merchant_settings = SETTINGS
    currency = "RUB"

    def secrets(self) -> list[str]:
        return [PASSWORD1, PASSWORD2]


def test_known_answers_on_both_sides() -> None:
    assert robokassa.form_signature(FORM, "password_1") == FORM_SIGNATURE
    assert stand_in_module.password1_signature(FORM, "password_1") == FORM_SIGNATURE
    assert robokassa.form_signature(ADDRESSES, "password_1") == ADDRESSES_SIGNATURE
    assert stand_in_module.password1_signature(ADDRESSES, "password_1") == ADDRESSES_SIGNATURE
    assert robokassa.result_signature(RESULT, "password_2") == RESULT_SIGNATURE
    assert stand_in_module.password2_signature(RESULT, "password_2") == RESULT_SIGNATURE.upper()
    for signature in (RESULT_SIGNATURE, RESULT_SIGNATURE.upper()):  # either case
        signed = {**RESULT, "SignatureValue": signature}
        assert robokassa.verify(signed, Inbound(b""), EXAMPLE) is Verification.VALID


def test_a_result_signed_with_password1_is_refused() -> None:
    """The customer's SuccessURL carries a Password#1 signature of the same base: it must
    never pass for the ResultURL's Password#2."""
    signed = {**RESULT, "SignatureValue": WITH_PASSWORD1}
    assert robokassa.verify(signed, Inbound(b""), EXAMPLE) is Verification.INVALID


def test_the_reply_is_ok_and_the_invoice() -> None:
    fields = robokassa.read(Inbound(urlencode({**RESULT, "SignatureValue": "x"}).encode()))
    assert robokassa.reply(fields, EXAMPLE).content == b"OK42"
    query = urlencode({**RESULT, "SignatureValue": "x"})
    assert robokassa.read(Inbound(b"", method="GET", query=query))["InvId"] == "42"


# -- the attacks, end to end through notify/ -----------------------------------------------


shop = settings_fixture("robokassa", SETTINGS)
rendered = form_renderer("robokassa", "RUB")


def result(form: dict[str, str], password: str = PASSWORD2, **changes: str) -> bytes:
    """Robokassa's ResultURL for ``form``, changed, then signed with ``password`` (the
    stand-in's signature code, written apart from the protocol's)."""
    sent = {"OutSum": f"{Decimal(form['OutSum']):.6f}", "InvId": form["InvId"]}
    sent.update({k: v for k, v in form.items() if k.startswith("Shp_")}, **changes)
    sent["SignatureValue"] = stand_in_module.password2_signature(sent, password)
    return urlencode(sent).encode()


@pytest.mark.django_db
def test_the_form_is_signed_with_password1_and_shows_no_password(shop: Any) -> None:
    form = rendered()
    assert form["IsTest"] == "1" and form["Shp_billing"] == "test"
    assert form["ResultUrl2"].endswith("/billing/robokassa/notify/")
    assert {PASSWORD1, PASSWORD2}.isdisjoint(form.values())
    assert stand_in_module.stand_in.check_form(form).total == Decimal("10.00")
    account = get_integration("robokassa").account
    with pytest.raises(InvalidData, match="Shp_billing"):
        robokassa.form({"InvId": "1", "OutSum": "1", "shp_Billing": "x"}, account)
    with pytest.raises(InvalidData, match="OutSumCurrency"):
        robokassa.form({"InvId": "1", "OutSum": "1", "OutSumCurrency": "USD"}, account)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [PASSWORD1, "another-shops-password-2", ""],
    ids=["password1-instead-of-password2", "another-password2", "no-password"],
)
def test_a_result_signed_with_the_wrong_password_is_rejected(
    shop: Any, password: str, django_capture_on_commit_callbacks: Any
) -> None:
    post(result(rendered(), password=password), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert outcomes() == [Outcome.REJECTED]


@pytest.mark.django_db
def test_a_result_for_another_invoice_cannot_be_moved_to_this_one(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A 1.00 invoice's signed ResultURL, replayed with the InvId of a 10.00 one."""
    cheap = result(rendered("1001", "1.00"))
    rendered("1002", "10.00")
    post(cheap.replace(b"InvId=1001", b"InvId=1002"), django_capture_on_commit_callbacks)
    assert payment("1002").status == PaymentStatus.PENDING
    assert outcomes() == [Outcome.REJECTED]


@pytest.mark.django_db
def test_a_custom_parameter_cannot_be_added_or_dropped(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = rendered()
    body = result(form)
    post(body.replace(b"Shp_billing=test", b"Shp_billing=live"), django_capture_on_commit_callbacks)
    post(body + b"&Shp_extra=1", django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert outcomes() == [Outcome.REJECTED, Outcome.REJECTED]


@pytest.mark.django_db
def test_a_replayed_result_is_applied_once_and_answered_each_time(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = result(rendered())
    first = post(body, django_capture_on_commit_callbacks)
    second = post(body, django_capture_on_commit_callbacks)
    assert first.content == second.content == b"OKORDER-1"
    assert payment().status == PaymentStatus.PAID and payment().events.count() == 1
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE]


@pytest.mark.django_db
def test_a_test_result_on_a_live_shop_is_held(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    shop.MERCHANT_TEST_MODE = False
    form = rendered()
    assert form["Shp_billing"] == "live" and "IsTest" not in form
    post(result(form, Shp_billing="test"), django_capture_on_commit_callbacks)
    post(result(rendered("ORDER-2"), IsTest="1"), django_capture_on_commit_callbacks)
    assert payment().status == payment("ORDER-2").status == PaymentStatus.REVIEW
    assert outcomes() == [Outcome.HELD, Outcome.HELD]


@pytest.mark.parametrize("amount", ["1e999999", "NaN", "-1", "10.001.1", "١٠"])
def test_odd_amounts_are_malformed(amount: str) -> None:
    fields = {"OutSum": amount, "InvId": "1", "SignatureValue": "x"}
    with pytest.raises(MalformedNotification):
        read = robokassa.read(Inbound(urlencode(fields).encode()))
        robokassa.notification(read, EXAMPLE, "robokassa")


def test_an_invoice_the_reply_cannot_echo_is_malformed() -> None:
    fields = {"OutSum": "1.00", "InvId": "1\r\nX-Injected: 1", "SignatureValue": "x"}
    with pytest.raises(MalformedNotification):
        robokassa.read(Inbound(urlencode(fields).encode()))
