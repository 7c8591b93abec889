"""Property-based fuzzing of notify/ and of the form-body parser (hypothesis).

Whatever arrives at notify/ (any bytes, content type, method or size), the view answers
without a server error, stores the request first, and changes no payment: the fake PayPal
answers INVALID to every postback for a body it did not send, and it sends none here.
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
from billing.exceptions import MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus, Verdict
from billing.protocols import pay_pal
from billing.protocols.base import parse_form_body
from tests.paypal_data import COMPLETED_FIELDS

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
