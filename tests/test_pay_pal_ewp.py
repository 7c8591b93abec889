"""PayPal Encrypted Website Payments: sign with the shop's key, encrypt to PayPal's certificate.

Every certificate and key here is generated per test session with ``cryptography`` and
lives in memory or pytest's tmp_path; none is committed. Known answers come from the
``openssl`` command line, outside the code under test:

    openssl smime -decrypt -binary -inform PEM -in button.pem \\
        -recip paypal_cert.pem -inkey paypal_key.pem -out signed.der
    openssl smime -verify -noverify -binary -inform DER -in signed.der \\
        -signer signer.pem -out content.txt
"""

import datetime
import html
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from django.template import Context, Template
from django.test import RequestFactory

from billing import get_integration
from billing.exceptions import BillingError, InvalidData
from billing.models import Payment, PaymentStatus
from billing.protocols import pay_pal_ewp
from billing.protocols.pay_pal_ewp import button_plaintext, encrypt_button
from tests.helpers import signed_ref

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


@dataclass(frozen=True)
class Party:
    cert_pem: str
    key_pem: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


def make_party(common_name: str) -> Party:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return Party(cert_pem=cert_pem, key_pem=key_pem, cert=cert, key=key)


@pytest.fixture(scope="module")
def shop() -> Party:
    return make_party("shop.test EWP")


@pytest.fixture(scope="module")
def paypal() -> Party:
    return make_party("paypal test EWP")


@pytest.fixture(scope="module")
def intruder() -> Party:
    return make_party("not the shop")


FIELDS = {
    "cmd": "_xclick",
    "business": "shop@example.com",
    "invoice": "ORDER-1",
    "amount": "10.00",
    "currency_code": "EUR",
    "item_name": "Café crème mug – 1€",
    "item_number": "",
    "charset": "utf-8",
}
# Written by hand, not by the code under test: cert_id first, the empty item_number left out.
EXPECTED_LINES = (
    "cert_id=CERT-123\n"
    "cmd=_xclick\n"
    "business=shop@example.com\n"
    "invoice=ORDER-1\n"
    "amount=10.00\n"
    "currency_code=EUR\n"
    "item_name=Café crème mug – 1€\n"
    "charset=utf-8"
).encode()
EXPECTED = {
    "cert_id": "CERT-123",
    **{k: v for k, v in FIELDS.items() if v},
}


def encrypt(shop: Party, paypal: Party, fields: dict[str, str] = FIELDS, **kw: Any) -> str:
    return encrypt_button(
        fields,
        cert_id=kw.pop("cert_id", "CERT-123"),
        signer_cert_pem=kw.pop("signer_cert_pem", shop.cert_pem),
        signer_key_pem=kw.pop("signer_key_pem", shop.key_pem),
        paypal_cert_pem=kw.pop("paypal_cert_pem", paypal.cert_pem),
    )


@dataclass(frozen=True)
class Opened:
    """A button as openssl read it: the signed DER, the content, the signer, openssl's words."""

    signed: Path
    content: bytes
    signer: x509.Certificate
    verify_stderr: bytes


def open_button(blob: str | bytes, paypal: Party, folder: Path) -> Opened:
    """Decrypt with PayPal's key, then verify the signature: openssl, outside the code."""
    button = write(folder / "button.pem", blob)
    paypal_cert = write(folder / "paypal_cert.pem", paypal.cert_pem)
    paypal_key = write(folder / "paypal_key.pem", paypal.key_pem)
    signed, content, signer = folder / "signed.der", folder / "content", folder / "signer.pem"
    decrypted = openssl(
        "smime", "-decrypt", "-binary", "-inform", "PEM", "-in", button,
        "-recip", paypal_cert, "-inkey", paypal_key, "-out", signed,
    )  # fmt: skip
    assert decrypted.returncode == 0, decrypted.stderr
    verified = openssl(
        "smime", "-verify", "-noverify", "-binary", "-inform", "DER", "-in", signed,
        "-signer", signer, "-out", content,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    return Opened(
        signed=signed,
        content=content.read_bytes(),
        signer=x509.load_pem_x509_certificate(signer.read_bytes()),
        verify_stderr=verified.stderr,
    )


def decrypt(blob: str | bytes, paypal: Party, signer: Party | None = None) -> dict[str, str]:
    """Read a button as PayPal would, with the openssl command line (outside the code)."""
    with tempfile.TemporaryDirectory() as folder:
        opened = open_button(blob, paypal, Path(folder))
    if signer is not None:
        assert opened.signer == signer.cert
    lines = opened.content.decode("utf-8").split("\n")
    return dict(line.split("=", 1) for line in lines)


def sign(shop: Party, content: bytes) -> bytes:
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(shop.cert, shop.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def ewp_settings(
    shop: Party, paypal: Party, private_key: str | None = None
) -> dict[str, dict[str, Any]]:
    """MERCHANT_SETTINGS for PayPal with encrypted buttons: the shop's certificate and
    key (or ``private_key``), PayPal's certificate."""
    return {
        "pay_pal": {
            "RECEIVER_EMAIL": "shop@example.com",
            "EWP": {
                "CERT_ID": "CERT-123",
                "CERT": shop.cert_pem,
                "PRIVATE_KEY": shop.key_pem if private_key is None else private_key,
                "PAYPAL_CERT": paypal.cert_pem,
            },
        }
    }


def openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run(
        [OPENSSL, *map(str, args)], input=stdin, capture_output=True, check=False, timeout=30
    )


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# -- the format ----------------------------------------------------------------------------------


def test_plaintext_is_name_value_lines_cert_id_first() -> None:
    assert button_plaintext(FIELDS, cert_id="CERT-123") == EXPECTED_LINES


def test_plaintext_declares_utf8_when_no_charset_is_given() -> None:
    plain = button_plaintext({"cmd": "_xclick", "item_name": "Zoë"}, cert_id="C")
    assert plain == "cert_id=C\ncmd=_xclick\nitem_name=Zoë\ncharset=utf-8".encode()


def test_plaintext_uses_the_declared_charset() -> None:
    plain = button_plaintext({"item_name": "Zoë", "charset": "windows-1252"}, cert_id="C")
    assert plain == b"cert_id=C\nitem_name=Zo\xeb\ncharset=windows-1252"
    with pytest.raises(InvalidData, match="item_name"):
        button_plaintext({"item_name": "€ and ☕", "charset": "latin-1"}, cert_id="C")


@pytest.mark.parametrize(
    "fields",
    [
        {"item_name": "Mug\namount=0.01"},
        {"item_name": "Mug\ramount=0.01"},
        {"amount\nx": "1"},
        {"a=b": "1"},
        {"": "1"},
    ],
)
def test_line_breaks_cannot_smuggle_variables(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidData):
        button_plaintext(fields, cert_id="C")


@pytest.mark.parametrize("cert_id", ["", "A\nB", "A=B"])
def test_cert_id_must_be_one_plain_line(cert_id: str) -> None:
    with pytest.raises(InvalidData, match="CERT_ID"):
        button_plaintext({"cmd": "_xclick"}, cert_id=cert_id)


def test_configured_cert_id_wins_over_a_field() -> None:
    plain = button_plaintext({"cert_id": "FORGED", "cmd": "_xclick"}, cert_id="REAL")
    assert plain == b"cert_id=REAL\ncmd=_xclick\ncharset=utf-8"


# -- round trip ---------------------------------------------------------------------------------


@needs_openssl
def test_round_trip(shop: Party, paypal: Party) -> None:
    blob = encrypt(shop, paypal)
    assert blob.startswith("-----BEGIN PKCS7-----\n")
    assert blob.endswith("\n-----END PKCS7-----")
    assert decrypt(blob, paypal, signer=shop) == EXPECTED
    assert decrypt(blob, paypal) == EXPECTED  # trusting the embedded certificate


def test_each_button_is_freshly_encrypted(shop: Party, paypal: Party) -> None:
    assert encrypt(shop, paypal) != encrypt(shop, paypal)


# -- known answers from openssl ------------------------------------------------------------------


@needs_openssl
def test_openssl_decrypts_and_verifies_the_button(
    shop: Party, paypal: Party, tmp_path: Path
) -> None:
    opened = open_button(encrypt(shop, paypal), paypal, tmp_path)
    assert b"Verification successful" in opened.verify_stderr
    # The content was embedded (no -content given) and is exactly the expected lines.
    assert opened.content == EXPECTED_LINES
    assert opened.signer == shop.cert

    button = tmp_path / "button.pem"
    printed = openssl("cms", "-cmsout", "-print", "-inform", "PEM", "-in", button)
    assert printed.returncode == 0, printed.stderr
    assert b"pkcs7-envelopedData" in printed.stdout
    assert b"aes-128-cbc" in printed.stdout
    signed_printed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", opened.signed)
    assert b"pkcs7-signedData" in signed_printed.stdout
    assert b"sha256" in signed_printed.stdout


@needs_openssl
def test_openssl_detects_a_tampered_signature(shop: Party, paypal: Party, tmp_path: Path) -> None:
    """The openssl check above is not vacuous: it fails on a changed signature byte."""
    signed = bytearray(sign(shop, EXPECTED_LINES))
    signed[-1] ^= 0x01  # the last element of signed-data is the signature
    path = write(tmp_path / "signed.der", bytes(signed))
    verified = openssl("smime", "-verify", "-noverify", "-binary", "-inform", "DER", "-in", path)
    assert verified.returncode != 0


# -- configuration errors never show key material -------------------------------------------------


def test_a_file_name_instead_of_pem_is_explained(shop: Party, paypal: Party) -> None:
    with pytest.raises(InvalidData, match="PEM text") as caught:
        encrypt(shop, paypal, signer_key_pem="/etc/shop/secret-key-path.pem")
    assert "secret-key-path" not in str(caught.value)


def test_a_key_that_does_not_match_the_certificate_is_refused(
    shop: Party, paypal: Party, intruder: Party
) -> None:
    with pytest.raises(InvalidData, match="does not belong") as caught:
        encrypt(shop, paypal, signer_key_pem=intruder.key_pem)
    assert intruder.key_pem[40:80] not in str(caught.value)


def test_a_passphrase_protected_key_is_explained(shop: Party, paypal: Party) -> None:
    locked = shop.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    with pytest.raises(InvalidData, match="passphrase"):
        encrypt(shop, paypal, signer_key_pem=locked)


def test_a_non_rsa_key_is_refused(shop: Party, paypal: Party) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidData, match="RSA"):
        encrypt(shop, paypal, signer_key_pem=ec_key)


def test_without_cryptography_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in sys.modules if n == "cryptography" or n.startswith("cryptography.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    name = "billing.protocols._pay_pal_ewp_without_cryptography"
    spec = importlib.util.spec_from_file_location(name, pay_pal_ewp.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)  # importing works; using it explains what is missing
    assert module.HAVE_CRYPTOGRAPHY is False
    with pytest.raises(BillingError, match=re.escape("django-billing[ewp]")) as caught:
        module.encrypt_button({}, cert_id="C", signer_cert_pem="", signer_key_pem="",
                              paypal_cert_pem="")  # fmt: skip
    assert isinstance(caught.value, module.EWPUnavailable)


# -- through the integration ---------------------------------------------------------------------

_INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


@needs_openssl
@pytest.mark.django_db
@pytest.mark.usefixtures("no_site_url")
def test_rendered_form_holds_only_the_encrypted_button(
    settings: Any, shop: Party, paypal: Party
) -> None:
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = ewp_settings(shop, paypal)
    integration = get_integration("pay_pal")
    integration.add_fields(
        {"invoice": "ORDER-1", "amount": Decimal("10.00"), "item_name": "Mug", "quantity": "2"}
    )
    request = RequestFactory().get("/checkout/", HTTP_HOST="shop.test")
    page = Template(
        "{% load render_integration from billing_tags %}{% render_integration obj %}"
    ).render(Context({"obj": integration, "request": request}))

    inputs = {html.unescape(k): html.unescape(v) for k, v in _INPUT.findall(page)}
    assert set(inputs) == {"cmd", "encrypted"}
    assert inputs["cmd"] == "_s-xclick"
    assert inputs["encrypted"].startswith("-----BEGIN PKCS7-----")
    assert 'action="https://www.sandbox.paypal.com/cgi-bin/webscr"' in page
    outside_blob = page.replace(inputs["encrypted"], "")
    for plain in ("10.00", "20.00", "ORDER-1", "shop@example.com", "Mug", "CERT-123"):
        assert plain not in outside_blob
    assert "PRIVATE KEY" not in page
    key_body = "".join(shop.key_pem.splitlines()[1:-1])
    assert not any(key_body[i : i + 16] in page for i in range(0, len(key_body) - 16, 16))

    payment = Payment.objects.get(integration="pay_pal", reference="ORDER-1")
    assert (payment.amount, payment.currency) == (Decimal("20.00"), "USD")
    assert payment.status == PaymentStatus.PENDING

    fields = decrypt(inputs["encrypted"], paypal, signer=shop)
    assert fields["cert_id"] == "CERT-123"
    assert fields["cmd"] == "_xclick"
    assert (fields["invoice"], fields["amount"], fields["quantity"]) == ("ORDER-1", "10.00", "2")
    assert fields["business"] == "shop@example.com"
    assert fields["charset"] == "utf-8"
    assert fields["notify_url"] == "http://shop.test/billing/pay_pal/notify/"
    assert fields["return"] == f"http://shop.test/billing/pay_pal/return/?{signed_ref('pay_pal')}"


@pytest.mark.django_db
def test_a_broken_ewp_setting_fails_loudly_without_the_key(
    settings: Any, shop: Party, paypal: Party
) -> None:
    broken_key = shop.key_pem.replace("MII", "XXX", 1)
    settings.MERCHANT_SETTINGS = ewp_settings(shop, paypal, private_key=broken_key)
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "ORDER-2", "amount": "5.00"})
    with pytest.raises(InvalidData) as caught:
        integration.generate_form()
    assert "PRIVATE_KEY" in str(caught.value)
    assert shop.key_pem[40:80] not in str(caught.value)


def test_incomplete_ewp_settings_name_the_missing_keys(settings: Any, shop: Party) -> None:
    from billing.exceptions import IntegrationNotConfigured

    settings.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com", "EWP": {"CERT": shop.cert_pem}}
    }
    with pytest.raises(IntegrationNotConfigured, match="CERT_ID, PRIVATE_KEY, PAYPAL_CERT"):
        get_integration("pay_pal")
