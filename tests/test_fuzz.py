"""Property-based fuzzing of notify/ and of the form-body parser (hypothesis).

Whatever arrives at notify/ (any bytes, content type, method or size), the view answers
without a server error, stores the request first, and changes no payment: the fake PayPal
answers INVALID to every postback for a body it did not send, and it sends none here.

For every gateway, each protocol's parse, verify and to_notification raise only the
library's errors, and every notify/ view, fed authentic (signed, or confirmed by the fake
PayPal) notifications with hostile values, answers without a 500 and processes them
without an internal error.
"""

import io
import string
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import Max
from django.test import Client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from billing import get_integration
from billing.bodies import form_body
from billing.exceptions import BillingError, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus, Verdict
from billing.pipeline import process
from billing.protocols import authorize_net_dpm, global_payments, ogone_payments, pay_pal, world_pay
from billing.protocols.base import parse_form_body
from billing.sandbox.gateways.authorize_net_dpm import sha2_hash
from billing.sandbox.gateways.global_payments import two_pass_hash
from billing.sandbox.gateways.ogone_payments import sha_sign
from tests.pay_pal_data import COMPLETED_FIELDS

# A body may declare charset=unicode_escape; Python warns about its escapes while decoding.
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")

NOTIFY = "/billing/pay_pal/notify/"
LIMIT = 2048  # BILLING_MAX_NOTIFICATION_BYTES for these tests: an IPN fits, a padded one not

# The fixtures below are function-scoped but set up state meant to be shared by every
# example of a test: settings, one pending payment and the fake PayPal. Each example makes
# its own Client and only looks at the log rows it created, so sharing them is intended.
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text without surrogates: what urlencode and a real client can send.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
NAMES = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)

# Charset names a forger might declare: real ones, Python-only codecs, and nonsense.
CHARSETS = st.one_of(
    st.sampled_from(
        [
            "utf-8",
            "UTF-8",
            "windows-1252",
            "latin-1",
            "utf-16",
            "utf-7",
            "ascii",
            "nope",
            "",
            " utf-8 ",
            "idna",
            "punycode",
            "undefined",
            "unicode_escape",
            "raw_unicode_escape",
            "rot13",
            "base64",
            "hex",
            "zlib",
            "utf-8\x00",
            "x" * 300,
        ]
    ),
    st.text(max_size=12),
)

OTHER_METHODS = st.one_of(
    st.sampled_from(["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "post"]),
    st.text(string.ascii_uppercase, min_size=1, max_size=12),
)
# Mostly POST, so that most examples reach parsing and verification.
METHODS = st.integers(0, 4).flatmap(lambda n: st.just("POST") if n else OTHER_METHODS)

# Header text as a server hands it to Django: latin-1, no control characters.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=windows-1252",
            "application/x-www-form-urlencoded; charset=nope",
            "text/plain; charset=nope",
            "text/plain; charset=utf-8; charset=latin-1",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=xyz",
            "application/json",
            "",
        ]
    ),
    st.builds(
        lambda t, c: f"{t}; charset={c}", st.sampled_from(["text/plain", "x/y"]), CHARSETS
    ).filter(lambda value: "\x00" not in value),
    HEADER_TEXT,
)


def forged_ipn(extra: dict[str, str], charset: str, overrides: dict[str, str]) -> bytes:
    """Shaped like a PayPal IPN for ORDER-1, but never sent by PayPal."""
    values = dict(COMPLETED_FIELDS)
    values.update(overrides)
    values["charset"] = charset
    values.update(extra)
    return urlencode(list(values.items()), encoding="utf-8").encode("ascii")


FORGED = st.builds(
    forged_ipn,
    st.dictionaries(NAMES, TEXT, max_size=4),
    st.one_of(st.sampled_from(["windows-1252", "UTF-8"]), CHARSETS),
    st.fixed_dictionaries(
        {},
        optional={
            "payment_status": st.sampled_from(["Completed", "Pending", "Refunded", "Voided"]),
            "mc_gross": st.sampled_from(["10.00", "0.01", "-10.00", "NaN", "1e999999", ""]),
            "txn_id": TEXT,
            "test_ipn": st.sampled_from(["0", "1", ""]),
        },
    ),
)


def padded_to(body: bytes, size: int) -> bytes:
    """The body made exactly size bytes long with a trailing field (or cut)."""
    padding = size - len(body) - len(b"&pad=")
    if padding < 0:
        return body[:size]
    return body + b"&pad=" + b"a" * padding


FORM_BODIES = st.builds(
    lambda fields: urlencode(fields, encoding="utf-8").encode("ascii"),
    st.dictionaries(NAMES, TEXT, max_size=8),
)
BODIES = st.one_of(
    st.binary(max_size=LIMIT + 64),
    FORM_BODIES,
    FORGED,
    st.builds(padded_to, FORGED, st.integers(LIMIT - 4, LIMIT + 4)),
    st.builds(lambda n: b"a=" + b"b" * (n - 2), st.integers(LIMIT - 4, LIMIT + 4)),
)


@pytest.fixture
def shop(settings: Any, fake_paypal: Any) -> Payment:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    settings.MERCHANT_TEST_MODE = True
    settings.BILLING_MAX_NOTIFICATION_BYTES = LIMIT
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "ORDER-1", "amount": "10.00", "item_name": "Mug"})
    integration.generate_form()
    return Payment.objects.get(integration="pay_pal", reference="ORDER-1")


def newest_pk() -> int:
    return NotificationLog.objects.aggregate(newest=Max("pk"))["newest"] or 0


def assert_nothing_paid(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert (payment.amount, payment.transaction_id) == (Decimal("10.00"), "")
    assert not PaymentEvent.objects.exists()


def assert_rejected(log: NotificationLog) -> None:
    assert log.outcome == Outcome.REJECTED, (log.outcome, log.error)
    assert log.verification != Verdict.VALID
    assert "internal error" not in log.error


FORM = "application/x-www-form-urlencoded"


@pytest.mark.django_db
@FUZZ
@given(method=METHODS, content_type=CONTENT_TYPES, body=BODIES)
# What the fuzzer found (each was an HTTP 500): Python codecs that raise UnicodeError or
# ValueError instead of LookupError / UnicodeDecodeError.
@example(method="POST", content_type=FORM, body=b"charset=undefined&a=b")
@example(method="POST", content_type=FORM, body=b"charset=utf-8%00&a=b")
@example(method="POST", content_type=FORM, body=b"charset=idna&a=xn--zz")
@example(method="POST", content_type=FORM, body=b"charset=punycode&a=_")
def test_notify_never_fails_and_logs_every_request(
    shop: Payment, fake_paypal: Any, method: str, content_type: str, body: bytes
) -> None:
    before = newest_pk()
    client = Client(raise_request_exception=False)
    # CONTENT_TYPE given directly: the test client would drop it for an empty body.
    response = client.generic(method, NOTIFY, body, CONTENT_TYPE=content_type)

    assert response.status_code in (200, 400, 405, 413), response.content
    event(f"HTTP {response.status_code}")  # see: pytest --hypothesis-show-statistics
    (log,) = NotificationLog.objects.filter(pk__gt=before)
    method = method.upper()
    assert log.method == method[:8]
    # GET and HEAD carry no content (RFC 9110); every other method is stored as received.
    stored = b"" if method in ("GET", "HEAD") else body[:LIMIT]
    assert bytes(log.body) == stored
    assert log.truncated == (len(body) > LIMIT)
    assert log.declared_length == len(body)
    assert log.content_type == content_type[:255]
    if method == "POST":
        assert (response.status_code == 413) == (len(body) > LIMIT)
    else:
        assert response.status_code == 405
    if response.status_code == 200:  # accepted for processing: PayPal was asked, said INVALID
        assert fake_paypal.postbacks[-1].content == b"cmd=_notify-validate&" + body
        assert log.verification == Verdict.INVALID
    assert_rejected(log)
    assert_nothing_paid(shop)


# Content-Length as a client may send it; the body may be shorter (the client hung up).
DECLARED = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, LIMIT + 8).map(str),
    st.sampled_from(["", "abc", "1e3", " 12", "+5", "-0", "0x10", "9" * 40, "9" * 5000]),
    HEADER_TEXT,
)


@pytest.mark.django_db
@FUZZ
@given(declared=DECLARED, body=st.one_of(FORGED, st.binary(max_size=LIMIT + 16)))
# Found by the fuzzer: a length beyond the database column's range was a 500, and lost.
@example(declared="9" * 40, body=b"a=b")
@example(declared=str(-(2**64)), body=b"a=b")
def test_any_content_length_is_logged_without_server_error(
    shop: Payment, declared: str, body: bytes
) -> None:
    before = newest_pk()
    client = Client(raise_request_exception=False)
    response = client.generic(
        "POST",
        NOTIFY,
        body,
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=declared,
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert response.status_code in (200, 400, 413), response.content
    (log,) = NotificationLog.objects.filter(pk__gt=before)
    assert body.startswith(bytes(log.body)) and len(log.body) <= LIMIT
    assert log.truncated or response.status_code != 413
    assert_rejected(log)
    assert_nothing_paid(shop)


# -- parse_form_body ---------------------------------------------------------------------------


def _encodable(fields: dict[str, str], charset: str) -> bool:
    try:
        for key, value in fields.items():
            (key + value).encode(charset)
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(NAMES, TEXT, max_size=10))
def test_parse_form_body_round_trips(fields: dict[str, str]) -> None:
    for charset in ("utf-8", "windows-1252"):
        if not _encodable(fields, charset):
            continue
        body = urlencode(fields, encoding=charset).encode("ascii")
        assert parse_form_body(body, charset) == fields
        if charset == "utf-8" and "charset" not in fields:
            assert pay_pal.parse_ipn(body + b"&charset=utf-8") == {**fields, "charset": "utf-8"}


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), charset=CHARSETS)
def test_parse_form_body_returns_a_dict_or_refuses(body: bytes, charset: str) -> None:
    try:
        fields = parse_form_body(body, charset)
    except MalformedNotification:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@settings(max_examples=200, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda cs, rest: b"charset=" + cs + b"&" + rest,
            st.binary(max_size=12),
            st.binary(max_size=60),
        ),  # fmt: skip
        FORGED,
    )
)
def test_parse_ipn_returns_a_dict_or_refuses(body: bytes) -> None:
    try:
        fields = pay_pal.parse_ipn(body)
    except MalformedNotification:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


# -- every gateway: parse + verify + to_notification raise only the library's errors ---------
#
# Each protocol's parser and to_notification see whatever arrives: values no gateway sends
# (exponents, NaN, 5000 digits, negative amounts, NUL, missing fields) must come out as
# MalformedNotification or another BillingError, never decimal.InvalidOperation, ValueError,
# KeyError or an HTTP 500.

WP_PASSWORD = "fuzz-callback-password"
GP_SECRET = "fuzz-shared-secret"
OGONE_OUT = "fuzz-sha-out-passphrase"
ANET_KEY = "AB" * 64
ALL_GATEWAYS = {
    "pay_pal": {"RECEIVER_EMAIL": "shop@example.com"},
    "world_pay": {"INSTALLATION_ID": "1234", "MD5_SECRET": "m", "CALLBACK_PASSWORD": WP_PASSWORD},
    "global_payments": {"MERCHANT_ID": "shop", "ACCOUNT": "internet", "SHARED_SECRET": GP_SECRET},
    "ogone_payments": {
        "PSPID": "MyPSPID",
        "SHA_IN": "fuzz-sha-in",
        "SHA_OUT": OGONE_OUT,
        "HASH_ALGORITHM": "sha256",
    },
    "authorize_net_dpm": {"LOGIN_ID": "login42", "SIGNATURE_KEY": ANET_KEY},
}

# Values no gateway sends, and a few it does.
HOSTILE = st.one_of(
    st.sampled_from(
        [
            "1e999999",
            "1E+2",
            "NaN",
            "sNaN",
            "-Infinity",
            "-10.00",
            "-0",
            "10.00",
            "10",
            "0",
            "9" * 5000,
            "0." + "1" * 40,
            "\u0661\u0660",
            "\uff11\uff10",
            "10,00",
            "1_000",
            " 10.00 ",
            "0x1F",
            "",
            "\x00",
            "Y",
            "9",
            "1",
            "ORDER-1",
            "ORDER-1_1000GBP_0a1b2c3d",
            "ORDER-1_" + "9" * 5000 + "GBP_0a1b2c3d",
            "x" * 300,
        ]
    ),
    TEXT,
)


def shaped(names: list[str]) -> Any:
    """Fields with these names, some missing, each a hostile value."""
    return st.dictionaries(st.sampled_from(names), HOSTILE, max_size=len(names))


PP_NAMES = ["mc_gross", "mc_currency", "payment_status", "txn_id", "invoice", "receiver_email"]
WP_NAMES = ["transStatus", "transId", "cartId", "amount", "currency", "instId", "testMode"]
GP_NAMES = ["ORDER_ID", "RESULT", "AMOUNT", "PASREF", "MERCHANT_ID", "ACCOUNT", "TIMESTAMP"]
OG_NAMES = ["orderID", "amount", "currency", "STATUS", "PAYID", "COMPLUS", "CN"]
AN_NAMES = ["x_response_code", "x_amount", "x_type", "x_trans_id", "x_invoice_num"]


def pay_pal_fields(values: dict[str, str]) -> dict[str, str]:
    return {**dict(COMPLETED_FIELDS), "charset": "UTF-8", **values}


def world_pay_fields(values: dict[str, str]) -> dict[str, str]:
    base = {"transStatus": "Y", "transId": "1", "cartId": "ORDER-1", "amount": "10.00"}
    return {**base, "currency": "GBP", "instId": "1234", **values, "callbackPW": WP_PASSWORD}


def global_payments_fields(values: dict[str, str]) -> dict[str, str]:
    fields = {
        "TIMESTAMP": "20261128120500",
        "MERCHANT_ID": "shop",
        "ACCOUNT": "internet",
        "ORDER_ID": "ORDER-1_1000GBP_0a1b2c3d",
        "RESULT": "00",
        "MESSAGE": "Authorised",
        "PASREF": "1463",
        "AUTHCODE": "12345",
        "AMOUNT": "1000",
        **values,
    }
    hashed = [fields.get(name, "") for name in global_payments.RESPONSE_HASH_FIELDS]
    fields["SHA1HASH"] = two_pass_hash(hashed, GP_SECRET, "sha1")
    return fields


def ogone_fields(values: dict[str, str]) -> dict[str, str]:
    base = {"orderID": "ORDER-1", "amount": "10", "currency": "EUR", "STATUS": "9"}
    fields = {**base, "PAYID": "301", "COMPLUS": "billing:test", **values}
    fields["SHASIGN"] = sha_sign(fields, OGONE_OUT, "sha256")
    return fields


def authorize_net_fields(values: dict[str, str]) -> dict[str, str]:
    base = {"x_response_code": "1", "x_amount": "10.00", "x_type": "auth_capture"}
    fields = {**base, "x_trans_id": "6012", "x_invoice_num": "ORDER-1", **values}
    # Authorize.Net hashes ISO-8859-1; what it cannot encode, it never sends.
    fields = {k: v.encode("iso-8859-1", "replace").decode("iso-8859-1") for k, v in fields.items()}
    fields["x_SHA2_Hash"] = sha2_hash(fields, bytes.fromhex(ANET_KEY))
    return fields


def _pp(body: bytes) -> None:
    pay_pal.to_notification(pay_pal.parse_ipn(body), integration="pay_pal")


def _wp(body: bytes) -> None:
    world_pay.to_notification(world_pay.parse_callback(body), integration="world_pay")


def _gp(body: bytes) -> None:
    fields = global_payments.parse_response(body)
    global_payments.verify_response(fields, secret=GP_SECRET, algorithm="sha1")
    global_payments.to_notification(fields, integration="global_payments", test=True)


def _og(body: bytes) -> None:
    fields = ogone_payments.parse_feedback(body)
    ogone_payments.verify_feedback(fields, sha_out=OGONE_OUT, algorithm="sha256")
    ogone_payments.to_notification(fields, integration="ogone_payments")


def _an(body: bytes) -> None:
    fields = authorize_net_dpm.parse_relay(body)
    authorize_net_dpm.verify_relay(fields, bytes.fromhex(ANET_KEY))
    authorize_net_dpm.to_notification(fields, integration="authorize_net_dpm", currency="USD")


# slug -> (authentic fields for hostile values, field names, parse+verify+to_notification)
GATEWAYS: dict[str, tuple[Any, list[str], Any]] = {
    "pay_pal": (pay_pal_fields, PP_NAMES, _pp),
    "world_pay": (world_pay_fields, WP_NAMES, _wp),
    "global_payments": (global_payments_fields, GP_NAMES, _gp),
    "ogone_payments": (ogone_fields, OG_NAMES, _og),
    "authorize_net_dpm": (authorize_net_fields, AN_NAMES, _an),
}
SLUGS = st.sampled_from(sorted(GATEWAYS))


def encoded(fields: dict[str, str]) -> bytes:
    return urlencode(fields, encoding="utf-8").encode("ascii")


def multipart_body(fields: dict[str, str], boundary: str = "fuzzb") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")


def gateway_bodies(slug: str) -> Any:
    make, names, _ = GATEWAYS[slug]
    return st.one_of(
        st.builds(lambda values: encoded(make(values)), shaped(names)),
        st.builds(lambda values: encoded(values), shaped(names)),  # unsigned, fields missing
        st.binary(max_size=300),
        FORM_BODIES,
    )


@FUZZ
@given(data=st.data(), slug=SLUGS)
@example(data=None, slug="ogone_payments")
def test_every_protocol_raises_only_billing_errors(data: Any, slug: str) -> None:
    check = GATEWAYS[slug][2]
    body = (
        encoded(ogone_fields({"amount": "1e999999"}))
        if data is None
        else data.draw(gateway_bodies(slug))
    )
    try:
        check(body)
    except BillingError:
        pass  # MalformedNotification and friends: the contract


@FUZZ
@given(
    fields=st.dictionaries(NAMES, HOSTILE, max_size=6),
    boundary=st.sampled_from(["b", "x" * 70, "", "a b", "\u00e9"]),
    cut=st.integers(0, 400),
    content_type=st.sampled_from(
        [
            "multipart/form-data; boundary={}",
            "multipart/form-data",
            "Multipart/Form-Data;boundary={}",
        ]
    ),
)
def test_multipart_bodies_parse_or_are_malformed(
    fields: dict[str, str], boundary: str, cut: int, content_type: str
) -> None:
    body = multipart_body(fields, boundary or "b")
    log = NotificationLog(content_type=content_type.format(boundary), body=body[: cut or None])
    try:
        converted = form_body(log)
    except MalformedNotification:
        return
    for check in GATEWAYS.values():
        try:
            check[2](converted)
        except BillingError:
            pass


# -- every gateway's notify view, with authentic notifications of hostile values -----------


@pytest.fixture
def every_gateway(settings: Any, fake_paypal: Any) -> Any:
    settings.MERCHANT_SETTINGS = {slug: dict(account) for slug, account in ALL_GATEWAYS.items()}
    settings.MERCHANT_TEST_MODE = True
    for slug, currency, receiver in [
        ("pay_pal", "USD", "shop@example.com"),
        ("world_pay", "GBP", "1234"),
        ("global_payments", "GBP", "shop:internet"),
        ("ogone_payments", "EUR", "MyPSPID"),
        ("authorize_net_dpm", "USD", "login42"),
    ]:
        Payment.objects.create(
            integration=slug,
            reference="ORDER-1",
            amount=Decimal("10.00"),
            currency=currency,
            receiver=receiver,
            test=True,
        )
    return fake_paypal


@pytest.mark.django_db
@FUZZ
@given(
    slug=SLUGS,
    data=st.data(),
    as_multipart=st.booleans(),
    content_type=st.one_of(st.just(FORM), CONTENT_TYPES),
)
def test_every_notify_view_answers_without_server_error(
    every_gateway: Any, slug: str, data: Any, as_multipart: bool, content_type: str
) -> None:
    make, names, _ = GATEWAYS[slug]
    kind = data.draw(st.sampled_from(["authentic", "any"]))
    if kind == "authentic":
        fields = make(data.draw(shaped(names)))
        body = every_gateway.send(encoded(fields)) if slug == "pay_pal" else encoded(fields)
        if as_multipart:
            body, content_type = multipart_body(fields), "multipart/form-data; boundary=fuzzb"
        else:
            content_type = FORM
    else:
        body = data.draw(st.one_of(gateway_bodies(slug), BODIES))
    before = newest_pk()
    client = Client(raise_request_exception=False)
    response = client.generic("POST", f"/billing/{slug}/notify/", body, CONTENT_TYPE=content_type)
    assert response.status_code in (200, 400, 413), (response.status_code, response.content)
    (log,) = NotificationLog.objects.filter(pk__gt=before)
    if response.status_code == 200:
        process(log.pk)
        log.refresh_from_db()
        assert log.outcome != Outcome.RECEIVED
        assert not log.error.startswith("internal error"), log.error
    if slug == "world_pay":
        assert WP_PASSWORD.encode() not in bytes(log.body)


@settings(max_examples=200, deadline=None)
@given(
    before=st.dictionaries(NAMES, HOSTILE, max_size=4),
    after=st.dictionaries(NAMES, HOSTILE, max_size=4),
    as_multipart=st.booleans(),
    cut=st.integers(0, 2000),
    noise=st.binary(max_size=200),
)
def test_redaction_never_fails_and_never_keeps_the_password(
    before: dict[str, str], after: dict[str, str], as_multipart: bool, cut: int, noise: bytes
) -> None:
    """Whatever else the body holds, wherever it is cut: no callbackPW value survives."""
    key = world_pay.redaction_key(b"fuzz")
    fields = {**before, **after, "callbackPW": WP_PASSWORD}
    body = multipart_body(fields) if as_multipart else encoded(fields)
    glue = b"\r\n" if as_multipart else b"&"  # where a parser starts a new field
    for sample in (body, body[:cut], noise, noise + glue + body):
        redacted = world_pay.redact_password(sample, key)
        assert WP_PASSWORD[:6].encode() not in redacted or WP_PASSWORD[:6].encode() in noise
