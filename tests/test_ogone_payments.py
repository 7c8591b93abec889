"""Worldline e-Commerce (Ogone): the conformance suite, known-answer vectors and attacks.

The gateway side below (a feedback as Worldline sends it) is written from the e-Commerce
guide and signed with the sandbox's Worldline signature (billing.sandbox, also written
from the guide), not with billing.protocols.ogone_payments; the vectors come from the
guide and from the openssl CLI, with the command next to each.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.test import Client, RequestFactory

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured, InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus
from billing.protocols import ogone_payments as ogone
from billing.protocols.base import Status
from billing.sandbox.gateways.ogone_payments import sha_sign as worldline_sign
from billing.signals import transaction_was_successful
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import outcomes, payment_of, signed_ref, use_account

PSPID = "MyPSPID"
SHA_IN = "In-passphrase-4e1c9b7d"
SHA_OUT = "OutPassphrase-2026!"
SETTINGS = {"PSPID": PSPID, "SHA_IN": SHA_IN, "SHA_OUT": SHA_OUT, "HASH_ALGORITHM": "sha256"}
NOTIFY = "/billing/ogone_payments/notify/"

# -- Worldline's side, from the guide (signed as the sandbox signs, not with billing's code) --


def major_units(minor: int, exponent: int = 2) -> str:
    """Worldline's feedback amount: major units, no trailing zeros (1500 -> 15, 750 -> 7.5)."""
    return format((Decimal(minor).scaleb(-exponent)).normalize(), "f")


def feedback_pairs(
    form: dict[str, str],
    *,
    status: str = "9",
    amount: str | None = None,
    currency: str | None = None,
    payid: str = "3014567890",
    complus: str | None = None,
    passphrase: str = SHA_OUT,
    algorithm: str = "sha256",
) -> list[tuple[str, str]]:
    """A post-sale feedback for this form, in Worldline's order and letter case."""
    pairs = [
        ("orderID", form["ORDERID"]),
        ("currency", currency or form["CURRENCY"]),
        ("amount", amount if amount is not None else major_units(int(form["AMOUNT"]))),
        ("PM", "CreditCard"),
        ("ACCEPTANCE", "test123"),
        ("STATUS", status),
        ("CARDNO", "XXXXXXXXXXXX1111"),
        ("ED", "0128"),
        ("CN", "Zoë Müller"),
        ("TRXDATE", "11/02/26"),
        ("PAYID", payid),
        ("PAYIDSUB", "0"),
        ("NCERROR", "0" if status in ("9", "5", "51") else "30001001"),
        ("BRAND", "VISA"),
        ("IPCTY", "BE"),
        ("CCCTY", "US"),
        ("ECI", "7"),
        ("CVCCheck", "NO"),
        ("AAVCheck", "NO"),
        ("VC", "NO"),
        ("IP", "192.0.2.1"),
        ("COMPLUS", complus if complus is not None else form.get("COMPLUS", "")),
    ]
    pairs.append(("SHASIGN", worldline_sign(dict(pairs), passphrase, algorithm)))
    return pairs


def as_delivery(pairs: list[tuple[str, str]], method: str) -> Delivery:
    encoded = urlencode(pairs)
    if method == "GET":
        return Delivery(body=b"", method="GET", query=encoded)
    return Delivery(body=encoded.encode("ascii"))


class OgoneConformance(IntegrationConformance):
    slug = "ogone_payments"
    merchant_settings = SETTINGS

    def gateway_notification(
        self, form: dict[str, str], *, test: bool | None = None, **change: Any
    ) -> Delivery:
        """Worldline's feedback says nothing of test mode; the shop's own COMPLUS marker
        does, and comes back as sent: a test feedback is the one for a test-mode form."""
        if test:
            form = {**form, "COMPLUS": "billing:test"}
        return super().gateway_notification(form, test=test, **change)

    def secrets(self) -> list[str]:
        return [SHA_IN, SHA_OUT]


class TestOgoneConformanceGet(OgoneConformance):
    """Post-sale feedback set to GET in Worldline's back office."""

    merchant_settings = {**SETTINGS, "SANDBOX_POST_SALE_METHOD": "GET"}


class TestOgoneConformancePost(OgoneConformance):
    """Post-sale feedback set to POST."""

    merchant_settings = {**SETTINGS, "SANDBOX_POST_SALE_METHOD": "POST"}


# -- known-answer vectors ---------------------------------------------------------------------

GUIDE_PARAMS = {
    "AMOUNT": "1500",
    "CURRENCY": "EUR",
    "LANGUAGE": "en_US",
    "ORDERID": "1234",
    "PSPID": "MyPSPID",
}


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        # The e-Commerce guide's worked example (section 5.1, passphrase Mysecretsig1875!?);
        # the same values from:
        #   printf '%s' 'AMOUNT=1500Mysecretsig1875!?CURRENCY=EURMysecretsig1875!?LANGUAGE=en_USMysecretsig1875!?ORDERID=1234Mysecretsig1875!?PSPID=MyPSPIDMysecretsig1875!?' | openssl dgst -sha1  # noqa: E501
        ("sha1", "F4CC376CD7A834D997B91598FA747825A238BE0A"),
        # ... | openssl dgst -sha256
        ("sha256", "E019359BAA3456AE5A986B6AABD22CF1B3E09438739E97F17A7F61DF5A11B30F"),
        # ... | openssl dgst -sha512 (the guide prints its first 32 digits: D1CFE8833A29...)
        (
            "sha512",
            "D1CFE8833A297D0922E908B2B44934B09EE966EF1584DC0D696304E07BB58BA7"
            "1973C2383C831D878D8A243BB7D7DFFFBE53CEE21955CDFEF44FE82E551F859D",
        ),
    ],
)
def test_sha_in_guide_example(algorithm: str, digest: str) -> None:
    assert ogone.sha_sign(GUIDE_PARAMS, "Mysecretsig1875!?", algorithm) == digest
    # Names are upper-cased, empty values and SHASIGN left out, input order irrelevant.
    shuffled = {"pspid": "MyPSPID", "orderID": "1234", "language": "en_US", "OWNERZIP": ""}
    shuffled.update({"currency": "EUR", "amount": "1500", "SHASIGN": "X"})
    assert ogone.sha_sign(shuffled, "Mysecretsig1875!?", algorithm) == digest


def test_form_known_answer() -> None:
    # printf '%s' 'AMOUNT=1500Mysecretsig1875!?COMPLUS=billing:testMysecretsig1875!?CURRENCY=EURMysecretsig1875!?LANGUAGE=en_USMysecretsig1875!?ORDERID=1234Mysecretsig1875!?PSPID=MyPSPIDMysecretsig1875!?' | openssl dgst -sha512  # noqa: E501
    expected = (
        "50FE0D77921AEF47787432129DEC29B0E312486188BFFAD1FD1FE9C9DD0D9227"
        "FCFD5BB90F53AC4294756D498E8AC57687F2AE7DB161DFCBE767F652BD5E6CF5"
    )
    form = ogone.build_fields(
        {"orderID": "1234", "AMOUNT": 1500, "currency": "eur", "LANGUAGE": "en_US"},
        pspid="MyPSPID",
        sha_in="Mysecretsig1875!?",
        algorithm="SHA-512",
        test=True,
    )
    assert form == {
        "ORDERID": "1234",
        "AMOUNT": "1500",
        "CURRENCY": "EUR",
        "LANGUAGE": "en_US",
        "PSPID": "MyPSPID",
        "COMPLUS": "billing:test",
        "SHASIGN": expected,
    }


def test_numbered_parameters_sort_naturally() -> None:
    # "ITEM 11 is placed after ITEM 10 in a natural sort order" (guide, 5.1.1):
    # printf '%s' 'ITEMID1=MugMysecretsig1875!?ITEMID2=TeaMysecretsig1875!?ITEMID10=SpoonMysecretsig1875!?' | openssl dgst -sha256  # noqa: E501
    params = {"ITEMID10": "Spoon", "ITEMID2": "Tea", "ITEMID1": "Mug"}
    assert ogone.sha_sign(params, "Mysecretsig1875!?", "sha256") == (
        "E636CC6A63B3768D9EAAA8497DAEEE905EB1476B933AB3B2F1269A00B22B589F"
    )
    names = ["SUBSCRIPTION_ID", "SUB_AM", "ITEMID10", "ITEMID9", "ITEMATTRIBUTES1", "CN", "COM"]
    assert sorted(names, key=ogone.sort_key) == [
        "CN",
        "COM",
        "ITEMATTRIBUTES1",
        "ITEMID9",
        "ITEMID10",
        "SUB_AM",  # "_" before letters, as in the guide's SHA-IN list
        "SUBSCRIPTION_ID",
    ]


# A post-sale feedback as Worldline sends it (mixed-case names, amount in major units
# without trailing zeros), SHA-256 with the SHA-OUT passphrase "OutPassphrase-2026!" over
# the out-parameters only (upper-cased, sorted):
#   O='OutPassphrase-2026!'; printf '%s' "AAVCHECK=NO${O}ACCEPTANCE=test123${O}AMOUNT=15${O}BRAND=VISA${O}CARDNO=XXXXXXXXXXXX1111${O}CCCTY=US${O}CN=Zöe Müller${O}COMPLUS=billing:test${O}CURRENCY=EUR${O}CVCCHECK=NO${O}ECI=7${O}ED=0128${O}IP=192.0.2.1${O}IPCTY=BE${O}NCERROR=0${O}ORDERID=ORDER-1${O}PAYID=3014567890${O}PAYIDSUB=0${O}PM=CreditCard${O}STATUS=9${O}TRXDATE=11/02/26${O}VC=NO${O}" | openssl dgst -sha256  # noqa: E501
# (UTF-8 terminal). The ISO-8859-1 variant pipes the same string through
# `iconv -f UTF-8 -t ISO-8859-1` before openssl.
FEEDBACK_UTF8_SIGN = "55C1C12EC997161524F07061DA3FC2A0049672726CC8DEAEDD0A5FC093044D90"
FEEDBACK_LATIN1_SIGN = "9CAB8548D4DF2F994701E009EA683BBE06858327D8196D48BE0B6E0493F1DFEB"
FEEDBACK = (
    "orderID=ORDER-1&currency=EUR&amount=15&PM=CreditCard&ACCEPTANCE=test123&STATUS=9"
    "&CARDNO=XXXXXXXXXXXX1111&ED=0128&CN={cn}&TRXDATE=11%2F02%2F26&PAYID=3014567890"
    "&PAYIDSUB=0&NCERROR=0&BRAND=VISA&IPCTY=BE&CCCTY=US&ECI=7&CVCCheck=NO&AAVCheck=NO"
    "&VC=NO&IP=192.0.2.1&COMPLUS=billing%3Atest&PARAMPLUS=unsigned%3Dyes&SHASIGN={sign}"
)


def test_sha_out_known_answer_utf8() -> None:
    body = FEEDBACK.format(cn="Z%C3%B6e+M%C3%BCller", sign=FEEDBACK_UTF8_SIGN).encode()
    fields = ogone.parse_feedback(body)
    assert fields["CN"] == "Zöe Müller"
    assert ogone.verify_feedback(fields, sha_out="OutPassphrase-2026!", algorithm="sha256")
    assert not ogone.verify_feedback(fields, sha_out="OutPassphrase-2026?", algorithm="sha256")
    assert not ogone.verify_feedback(fields, sha_out="OutPassphrase-2026!", algorithm="sha512")
    n = ogone.to_notification(fields, integration="ogone_payments")
    assert (n.reference, n.transaction_id, n.currency) == ("ORDER-1", "3014567890", "EUR")
    assert n.amount == Decimal("15.00") and str(n.amount) == "15.00"
    assert n.status is Status.PAID and n.gateway_status == "9"
    assert n.test is True and n.receiver == ""


def test_sha_out_known_answer_iso_8859_1() -> None:
    # An account set to ISO-8859-1: the feedback's bytes and its hash are in that charset.
    body = FEEDBACK.format(cn="Z%F6e+M%FCller", sign=FEEDBACK_LATIN1_SIGN).encode()
    fields = ogone.parse_feedback(body)
    assert fields["CN"] == "Zöe Müller"
    assert ogone.verify_feedback(fields, sha_out="OutPassphrase-2026!", algorithm="sha256")


def test_unsigned_parameters_are_not_read() -> None:
    body = FEEDBACK.format(cn="Z%C3%B6e+M%C3%BCller", sign=FEEDBACK_UTF8_SIGN)
    # PARAMPLUS and anything else off the SHA-OUT list changes nothing, and is never read.
    extra = body.replace("PARAMPLUS=unsigned%3Dyes", "PARAMPLUS=x&PSPID=attacker&ref=ORDER-9")
    fields = ogone.parse_feedback(extra.encode())
    assert ogone.verify_feedback(fields, sha_out="OutPassphrase-2026!", algorithm="sha256")
    assert ogone.to_notification(fields, integration="ogone_payments").reference == "ORDER-1"


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("9", Status.PAID),
        ("5", Status.PENDING),  # authorised is not money received
        ("51", Status.PENDING),
        ("91", Status.PENDING),
        ("52", Status.PENDING),
        ("1", Status.CANCELLED),
        ("2", Status.FAILED),
        ("0", Status.FAILED),
        ("93", Status.FAILED),
        ("8", Status.REFUNDED),
        ("57", Status.UNKNOWN),
    ],
)
def test_status_mapping(code: str, state: Status) -> None:
    fields = {"ORDERID": "O", "PAYID": "1", "STATUS": code, "AMOUNT": "1", "CURRENCY": "EUR"}
    assert ogone.to_notification(fields, integration="ogone_payments").status is state


def test_amount_keeps_currency_places() -> None:
    fields = {"ORDERID": "O", "PAYID": "1", "STATUS": "9", "CURRENCY": "EUR"}
    assert str(ogone.to_notification({**fields, "AMOUNT": "7.5"}, integration="x").amount) == (
        "7.50"
    )
    jpy = {**fields, "CURRENCY": "JPY", "AMOUNT": "1500"}
    assert str(ogone.to_notification(jpy, integration="x").amount) == "1500"


# -- the integration -------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def ogone_settings(settings: Any) -> Any:
    return use_account(settings, "ogone_payments", SETTINGS)


def make_form(reference: str = "ORDER-1", amount: Any = "1000", **extra: Any) -> dict[str, str]:
    integration = get_integration("ogone_payments")
    integration.add_fields({"ORDERID": reference, "AMOUNT": amount, "CURRENCY": "EUR", **extra})
    return integration.generate_form(RequestFactory().get("/checkout/", HTTP_HOST="shop.test"))


def deliver(delivery: Delivery, capture: Any) -> Any:
    with capture(execute=True):
        if delivery.method == "GET":
            return Client().get(f"{NOTIFY}?{delivery.query}")
        return Client().post(NOTIFY, delivery.body, content_type=delivery.content_type)


payment = payment_of("ogone_payments")


def test_form_is_signed_with_sha_in(ogone_settings: Any) -> None:
    form = make_form(CN="Zoë", LANGUAGE="fr_BE")
    signed = {k: v for k, v in form.items() if k != "SHASIGN"}
    assert form["SHASIGN"] == worldline_sign(signed, SHA_IN, "sha256")
    assert form["PSPID"] == PSPID and form["COMPLUS"] == "billing:test"
    query = signed_ref("ogone_payments")
    assert form["ACCEPTURL"].endswith(f"/billing/ogone_payments/return/?{query}")
    assert form["DECLINEURL"] == form["EXCEPTIONURL"] == form["ACCEPTURL"]
    assert form["CANCELURL"].endswith(f"/billing/ogone_payments/cancel/?{query}")
    assert SHA_IN not in form.values() and SHA_OUT not in form.values()
    assert payment().amount == Decimal("10.00") and payment().receiver == PSPID


def test_live_mode_marks_the_form_live(ogone_settings: Any) -> None:
    ogone_settings.MERCHANT_TEST_MODE = False
    assert make_form()["COMPLUS"] == "billing:live"
    assert get_integration("ogone_payments").service_url == ogone.LIVE_SERVICE_URL
    ogone_settings.MERCHANT_TEST_MODE = True
    assert get_integration("ogone_payments").service_url == ogone.TEST_SERVICE_URL
    ogone_settings.MERCHANT_SETTINGS["ogone_payments"]["SERVICE_URL"] = "https://psp.test/pay"
    assert get_integration("ogone_payments").service_url == "https://psp.test/pay"


def test_amount_is_minor_units(ogone_settings: Any) -> None:
    form = make_form(amount=1500)
    assert form["AMOUNT"] == "1500" and payment().amount == Decimal("15.00")
    integration = get_integration("ogone_payments")
    integration.add_fields({"ORDERID": "JPY-1", "AMOUNT": "1500", "CURRENCY": "JPY"})
    integration.generate_form()
    assert payment("JPY-1").amount == Decimal("1500")


@pytest.mark.parametrize(
    "amount", [Decimal("15.00"), "15.00", 15.0, "0", "-100", True, "１５"], ids=repr
)
def test_amount_must_be_whole_minor_units(ogone_settings: Any, amount: Any) -> None:
    with pytest.raises(InvalidData, match="AMOUNT"):
        make_form(amount=amount)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"COMPLUS": "mine"}, "COMPLUS"),
        ({"orderid": "ORDER-2"}, "twice"),
        ({"CURRENCY": ""}, "CURRENCY"),
    ],
)
def test_form_refuses(ogone_settings: Any, extra: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        make_form(**extra)


def test_names_are_case_insensitive(ogone_settings: Any) -> None:
    integration = get_integration("ogone_payments")
    integration.add_fields({"orderID": "ORDER-7", "amount": "990", "Currency": "usd"})
    form = integration.generate_form()
    assert form["ORDERID"] == "ORDER-7" and form["CURRENCY"] == "USD"
    assert payment("ORDER-7").amount == Decimal("9.90")


@pytest.mark.parametrize("algorithm", ["md5", "sha384", ""])
def test_hash_algorithm_is_checked(ogone_settings: Any, algorithm: str) -> None:
    ogone_settings.MERCHANT_SETTINGS["ogone_payments"]["HASH_ALGORITHM"] = algorithm
    with pytest.raises(IntegrationNotConfigured, match="HASH_ALGORITHM"):
        get_integration("ogone_payments")


def test_missing_settings_are_named(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"ogone_payments": {"PSPID": PSPID}}
    with pytest.raises(IntegrationNotConfigured) as error:
        get_integration("ogone_payments")
    assert "SHA_IN" in str(error.value) and "SHA_OUT" in str(error.value)


@pytest.mark.parametrize("algorithm", ["sha1", "sha512"])
def test_each_algorithm_round_trips(
    ogone_settings: Any, algorithm: str, django_capture_on_commit_callbacks: Any
) -> None:
    ogone_settings.MERCHANT_SETTINGS["ogone_payments"]["HASH_ALGORITHM"] = algorithm.upper()
    form = make_form()
    assert form["SHASIGN"] == worldline_sign(
        {k: v for k, v in form.items() if k != "SHASIGN"}, SHA_IN, algorithm
    )
    pairs = feedback_pairs(form, algorithm=algorithm)
    deliver(as_delivery(pairs, "POST"), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PAID


def test_authorised_then_captured(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fired: list[Any] = []
    transaction_was_successful.connect(lambda **kw: fired.append(kw), weak=False, dispatch_uid="o")
    try:
        form = make_form(OPERATION="RES")
        deliver(
            as_delivery(feedback_pairs(form, status="5"), "GET"), django_capture_on_commit_callbacks
        )
        assert payment().status == PaymentStatus.PENDING and fired == []
        deliver(
            as_delivery(feedback_pairs(form, status="9"), "GET"), django_capture_on_commit_callbacks
        )
        assert payment().status == PaymentStatus.PAID and len(fired) == 1
        deliver(
            as_delivery(feedback_pairs(form, status="8"), "GET"), django_capture_on_commit_callbacks
        )
        assert payment().status == PaymentStatus.REFUNDED and len(fired) == 1
    finally:
        transaction_was_successful.disconnect(dispatch_uid="o")


def test_redirect_back_with_feedback_marks_paid(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    pairs = feedback_pairs(form)
    # Worldline appends the feedback to ACCEPTURL (which already has ?ref=).
    url = f"{form['ACCEPTURL']}&{urlencode(pairs)}"
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().get(url)
    assert response.status_code == 200
    assert payment().status == PaymentStatus.PAID
    assert SHA_OUT.encode() not in response.content
    # The post-sale request for the same event is then a duplicate.
    deliver(as_delivery(pairs, "POST"), django_capture_on_commit_callbacks)
    outcomes = dict(NotificationLog.objects.values_list("kind", "outcome"))
    assert outcomes["feedback"] == Outcome.APPLIED and outcomes["notify"] == Outcome.DUPLICATE


def test_redirect_back_with_bad_signature_changes_nothing(ogone_settings: Any) -> None:
    form = make_form()
    pairs = feedback_pairs(form, passphrase="guessed")
    Client().get(f"{form['ACCEPTURL']}&{urlencode(pairs)}")
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get(kind="feedback").outcome == Outcome.REJECTED


def test_plain_return_without_feedback_is_only_a_page(ogone_settings: Any) -> None:
    form = make_form()
    assert Client().get(form["ACCEPTURL"]).status_code == 200
    assert list(NotificationLog.objects.values_list("kind", flat=True)) == ["return"]


# -- attacks -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "passphrase",
    [SHA_IN, "another-account-out-passphrase", ""],
    ids=["signed-with-sha-in", "another-key", "empty-passphrase"],
)
def test_wrong_secret_changes_nothing(
    ogone_settings: Any, method: str, passphrase: str, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    deliver(
        as_delivery(feedback_pairs(form, passphrase=passphrase), method),
        django_capture_on_commit_callbacks,
    )
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_wrong_algorithm_changes_nothing(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    pairs = feedback_pairs(form, algorithm="sha1")
    deliver(as_delivery(pairs, "POST"), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING


def test_missing_signature_changes_nothing(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    pairs = [p for p in feedback_pairs(form) if p[0] != "SHASIGN"]
    deliver(as_delivery(pairs, "GET"), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_swapped_order_changes_nothing(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The authentic feedback of a cheap order, moved to the expensive one."""
    expensive = make_form("ORDER-1", "50000")
    cheap = make_form("ORDER-2", "100")
    pairs = feedback_pairs(cheap)
    swapped = [("orderID", expensive["ORDERID"]) if k == "orderID" else (k, v) for k, v in pairs]
    deliver(as_delivery(swapped, "GET"), django_capture_on_commit_callbacks)
    assert payment("ORDER-1").status == payment("ORDER-2").status == PaymentStatus.PENDING
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_case_variant_duplicate_is_refused(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """An authentic feedback with a second, lower-case STATUS appended is not read twice."""
    form = make_form()
    query = urlencode(feedback_pairs(form, status="2")) + "&status=9"
    response = deliver(
        Delivery(body=b"", method="GET", query=query), django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    assert payment().status == PaymentStatus.PENDING


def test_replayed_feedback_is_applied_once(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fired: list[Any] = []
    transaction_was_successful.connect(lambda **kw: fired.append(kw), weak=False, dispatch_uid="r")
    try:
        form = make_form()
        pairs = feedback_pairs(form)
        for method in ("GET", "POST", "GET"):
            deliver(as_delivery(pairs, method), django_capture_on_commit_callbacks)
    finally:
        transaction_was_successful.disconnect(dispatch_uid="r")
    assert len(fired) == 1
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]


def test_feedback_without_mode_marker_is_held_on_a_test_shop(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    deliver(
        as_delivery(feedback_pairs(form, complus=""), "GET"), django_capture_on_commit_callbacks
    )
    assert payment().status == PaymentStatus.REVIEW


def test_form_made_by_another_account_is_held(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A payment asked of PSPID A, confirmed by the secret of the configured PSPID B."""
    form = make_form()
    Payment.objects.update(receiver="OtherPSPID")
    deliver(as_delivery(feedback_pairs(form), "GET"), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.REVIEW
    assert "not the shop's account" in payment().review_reason


@pytest.mark.parametrize("query", ["", "=x", "novalue"])
def test_bad_get_feedback_is_400(ogone_settings: Any, query: str) -> None:
    response = Client().get(f"{NOTIFY}?{query}" if query else NOTIFY)
    assert response.status_code == 400
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED


def test_parse_reads_the_query_string_for_get(ogone_settings: Any) -> None:
    pairs = [("orderID", "O-1"), ("STATUS", "9")]
    response = Client().get(f"{NOTIFY}?{urlencode(pairs)}")
    assert response.status_code == 200 and response.content == b""
    log = NotificationLog.objects.get()
    integration = get_integration("ogone_payments")
    fields = integration.parse_notification(integration.inbound(log))
    assert dict(parse_qsl(log.query_string)) == fields


def test_add_order_puts_the_terms_in_worldline_fields(ogone_settings: Any) -> None:
    integration = get_integration("ogone_payments")
    integration.add_order(
        reference="ORDER-7", amount=Decimal("12.50"), currency="EUR", description="Enamel mug"
    )
    form = integration.generate_form(RequestFactory().get("/", HTTP_HOST="shop.test"))
    assert (form["ORDERID"], form["AMOUNT"], form["CURRENCY"]) == ("ORDER-7", "1250", "EUR")
    assert form["COM"] == "Enamel mug"
    assert payment("ORDER-7").amount == Decimal("12.50")
    yen = get_integration("ogone_payments").order_fields("J-1", Decimal("1500"), "JPY", "")
    assert yen == {"ORDERID": "J-1", "AMOUNT": 1500, "CURRENCY": "JPY"}
    with pytest.raises(InvalidData, match="minor units"):
        get_integration("ogone_payments").order_fields("R", Decimal("1.005"), "EUR", "")


# -- the SHA order of the guide's lists: "_" before letters (finding 15) --------------------

# A feedback from an account with fraud scoring and 3-D Secure: SCO_CATEGORY, SCORING and
# CH_AUTHENTICATION_INFO are on the SHA-OUT list. The guide's list order puts SCO_CATEGORY
# before SCORING; the digest was computed outside billing, in that order:
#   O='OutPassphrase-2026!'; printf '%s' "ACCEPTANCE=test123${O}AMOUNT=15${O}BRAND=VISA${O}CARDNO=XXXXXXXXXXXX1111${O}CH_AUTHENTICATION_INFO=Y${O}CN=Zoe Muller${O}COMPLUS=billing:test${O}CURRENCY=EUR${O}ED=0128${O}NCERROR=0${O}ORDERID=ORDER-1${O}PAYID=3014567890${O}PM=CreditCard${O}SCO_CATEGORY=G${O}SCORING=12${O}STATUS=9${O}TRXDATE=11/02/26${O}" | openssl dgst -sha256  # noqa: E501
SCORED_SIGN = "F95815C72EE6A873A5362B032A132AC19AFF9696745CDC7417D6E6341988CF6F"
SCORED_FEEDBACK = (
    "orderID=ORDER-1&currency=EUR&amount=15&PM=CreditCard&ACCEPTANCE=test123&STATUS=9"
    "&CARDNO=XXXXXXXXXXXX1111&ED=0128&CN=Zoe+Muller&TRXDATE=11%2F02%2F26&PAYID=3014567890"
    "&NCERROR=0&BRAND=VISA&SCORING=12&SCO_CATEGORY=G&CH_AUTHENTICATION_INFO=Y"
    "&COMPLUS=billing%3Atest&SHASIGN=" + SCORED_SIGN
)
# A form with the SHA-IN list's OR_INVORDERID and REF_CUSTOMERID, which that list puts
# before ORDERID and REFID:
#   P='Mysecretsig1875!?'; printf '%s' "AMOUNT=1500${P}CURRENCY=EUR${P}LANGUAGE=en_US${P}OR_INVORDERID=INV-9${P}ORDERID=1234${P}PSPID=MyPSPID${P}REF_CUSTOMERID=C-42${P}REFID=R-1${P}" | openssl dgst -sha256  # noqa: E501
UNDERSCORE_FORM = {
    "REFID": "R-1",
    "REF_CUSTOMERID": "C-42",
    "ORDERID": "1234",
    "OR_INVORDERID": "INV-9",
    **GUIDE_PARAMS,
}
UNDERSCORE_FORM_SIGN = "D4644B25A4B0491164870EE36814126F163D6DD5ED6466B343F9A89F348AD098"


def test_sha_out_sorts_underscore_before_letters() -> None:
    fields = ogone.parse_feedback(SCORED_FEEDBACK.encode())
    assert ogone.verify_feedback(fields, sha_out=SHA_OUT, algorithm="sha256")
    n = ogone.to_notification(fields, integration="ogone_payments")
    assert (n.status, n.amount) == (Status.PAID, Decimal("15.00"))
    # The stand-in, written from the guide on its own, signs the same way.
    signed = {k: v for k, v in fields.items() if k != "SHASIGN"}
    assert worldline_sign(signed, SHA_OUT, "sha256") == SCORED_SIGN


def test_sha_in_sorts_underscore_before_letters() -> None:
    assert ogone.sha_sign(UNDERSCORE_FORM, "Mysecretsig1875!?", "sha256") == UNDERSCORE_FORM_SIGN
    assert worldline_sign(UNDERSCORE_FORM, "Mysecretsig1875!?", "sha256") == UNDERSCORE_FORM_SIGN
    assert sorted(["SCORING", "SCO_CATEGORY", "ORDERID", "OR_ORDERID"], key=ogone.sort_key) == [
        "OR_ORDERID",
        "ORDERID",
        "SCO_CATEGORY",
        "SCORING",
    ]


def test_form_with_or_and_ref_fields_is_accepted_by_worldline(ogone_settings: Any) -> None:
    from billing.sandbox.gateways.ogone_payments import stand_in

    form = make_form(OR_INVORDERID="INV-9", REF_CUSTOMERID="C-42")
    assert stand_in.check_form(form).reference == "ORDER-1"


def test_scored_feedback_pays(ogone_settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    form = make_form()
    pairs = feedback_pairs(form)[:-1] + [("SCORING", "12"), ("SCO_CATEGORY", "G")]
    pairs.append(("SHASIGN", worldline_sign(dict(pairs), SHA_OUT, "sha256")))
    deliver(as_delivery(pairs, "POST"), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.PAID


# -- the account, compared exactly (finding 5) -----------------------------------------------


@pytest.mark.parametrize(
    ("asked_of", "configured"),
    [("Kiosk", "\u212aiosk"), ("shop", "\u017fhop"), ("MyPSPID", "mypspid")],
    ids=["kelvin-sign", "long-s", "letter-case"],
)
def test_look_alike_pspid_is_another_account(
    ogone_settings: Any,
    django_capture_on_commit_callbacks: Any,
    asked_of: str,
    configured: str,
) -> None:
    """casefold() makes "\u212aiosk" (Kelvin sign) equal "Kiosk", "\u017fhop" (long s) equal
    "shop": a feedback proven by one account must not settle a payment asked of another."""
    ogone_settings.MERCHANT_SETTINGS["ogone_payments"]["PSPID"] = asked_of
    form = make_form()
    ogone_settings.MERCHANT_SETTINGS["ogone_payments"]["PSPID"] = configured
    deliver(as_delivery(feedback_pairs(form), "POST"), django_capture_on_commit_callbacks)
    assert payment().status == PaymentStatus.REVIEW
    assert "not the shop's account" in payment().review_reason


# -- the parse contract (finding 7) ----------------------------------------------------------


@pytest.mark.parametrize(
    "amount", ["1e999999", "NaN", "Infinity", "-15", "1" * 5000, "\u0661\u0665", "1_5", "0x10"]
)
def test_amounts_no_gateway_sends_are_malformed(amount: str) -> None:
    fields = {"ORDERID": "O", "PAYID": "1", "STATUS": "9", "CURRENCY": "EUR", "AMOUNT": amount}
    with pytest.raises(MalformedNotification, match="AMOUNT"):
        ogone.to_notification(fields, integration="ogone_payments")


def test_a_bad_hash_algorithm_is_billing_error_not_value_error() -> None:
    with pytest.raises(InvalidData):
        ogone.normalize_algorithm("md5")


# -- multipart/form-data post-sale requests (finding 18) -------------------------------------


def test_multipart_post_sale_request_pays(
    ogone_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    form = make_form()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(NOTIFY, dict(feedback_pairs(form)))  # multipart by default
    assert response.status_code == 200, response.content
    assert NotificationLog.objects.get().content_type.startswith("multipart/form-data")
    assert payment().status == PaymentStatus.PAID
