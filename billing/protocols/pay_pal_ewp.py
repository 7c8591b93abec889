"""PayPal Encrypted Website Payments (EWP): buttons signed by the shop, encrypted to PayPal.

Implements the "Encrypted Website Payments" chapter of PayPal's "Website Payments
Standard Integration Guide" (on developer.paypal.com: PayPal Payments Standard,
"Secure your HTML payment buttons" / "Using EWP to Protect Manually Created Payment
Buttons"; archived and marked deprecated by PayPal, page last updated 2026-07):

1. the button's HTML variables and ``cert_id`` (the id PayPal gave the shop's uploaded
   certificate) are written as ``name=value`` lines separated by ``\\n``;
2. those bytes are signed as PKCS#7 signed-data, DER, with the data embedded
   (``openssl smime -sign -nodetach -binary -outform DER``), by the shop's certificate
   and private key (SHA-256, RSA PKCS#1 v1.5, signed attributes, signer certificate
   included);
3. the signed DER is encrypted as PKCS#7 enveloped-data to PayPal's public certificate
   and written as PEM (``-----BEGIN PKCS7-----``);
4. the form posts only ``cmd=_s-xclick`` and ``encrypted=<that PEM>``.

Content encryption is AES-128-CBC: ``cryptography`` builds enveloped-data only with
AES-128/256-CBC. PayPal's own samples use Triple-DES; AES interoperability with PayPal
has not been confirmed against the live service.

The tests check the result with the ``openssl`` command line, as PayPal would read it
(``openssl smime -decrypt`` with PayPal's key, then ``openssl smime -verify``).

Needs the optional ``cryptography`` package: ``pip install django-billing[ewp]``.
Plain Python: no Django import, no settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..exceptions import BillingError, InvalidData

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.serialization import pkcs7
except ImportError:  # the optional extra is not installed
    HAVE_CRYPTOGRAPHY = False
else:
    HAVE_CRYPTOGRAPHY = True


class EWPUnavailable(BillingError):
    """Encrypted buttons need the optional ``cryptography`` package."""


def _require_cryptography() -> None:
    if not HAVE_CRYPTOGRAPHY:
        raise EWPUnavailable(
            "PayPal encrypted buttons (EWP) need the 'cryptography' package: "
            "pip install 'django-billing[ewp]'"
        )


# -- encrypting (the shop's side) ------------------------------------------------------------


def encrypt_button(
    final_fields: Mapping[str, str],
    *,
    cert_id: str,
    signer_cert_pem: str | bytes,
    signer_key_pem: str | bytes,
    paypal_cert_pem: str | bytes,
) -> str:
    """The value of the ``encrypted`` field for these button variables (PEM text).

    Empty values are left out (as PayPal's samples do). Without a ``charset`` variable,
    ``charset=utf-8`` is added so PayPal reads the bytes as they were written. A name or
    value containing a line break is refused: it would smuggle in another variable.
    """
    _require_cryptography()
    plaintext = button_plaintext(final_fields, cert_id=cert_id)
    signer_cert = _load_certificate(signer_cert_pem, "EWP CERT (signer_cert_pem)")
    signer_key = _load_rsa_key(signer_key_pem, "EWP PRIVATE_KEY (signer_key_pem)")
    paypal_cert = _load_certificate(paypal_cert_pem, "EWP PAYPAL_CERT (paypal_cert_pem)")
    if _spki(signer_key.public_key()) != _spki(signer_cert.public_key()):
        raise InvalidData("EWP PRIVATE_KEY does not belong to the certificate in EWP CERT")
    if not isinstance(paypal_cert.public_key(), rsa.RSAPublicKey):
        raise InvalidData("EWP PAYPAL_CERT must hold an RSA public key")
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(plaintext)
        .add_signer(signer_cert, signer_key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    enveloped = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(signed)
        .add_recipient(paypal_cert)
        .set_content_encryption_algorithm(algorithms.AES128)
        .encrypt(serialization.Encoding.PEM, [pkcs7.PKCS7Options.Binary])
    )
    return enveloped.decode("ascii").strip()


def button_plaintext(fields: Mapping[str, str], *, cert_id: str) -> bytes:
    """The ``name=value`` lines that get signed, ``cert_id`` first, in the button's charset."""
    if not cert_id or _has_line_break(cert_id) or "=" in cert_id:
        raise InvalidData("EWP CERT_ID must be the certificate id PayPal shows, one line")
    values: dict[str, str] = {"cert_id": cert_id}
    for name, value in fields.items():
        if name == "cert_id":
            continue  # the configured id wins
        text = str(value)
        if not name or "=" in name or _has_line_break(name):
            raise InvalidData(f"{name!r} cannot be a PayPal variable name in an encrypted button")
        if _has_line_break(text):
            raise InvalidData(f"{name}: line breaks are not allowed in an encrypted button")
        if text != "":
            values[name] = text
    values.setdefault("charset", "utf-8")
    charset = values["charset"]
    try:
        "".encode(charset)
    except (LookupError, ValueError) as exc:
        raise InvalidData(f"charset {charset!r} is not a known encoding") from exc
    lines = []
    for name, text in values.items():
        try:
            lines.append(f"{name}={text}".encode(charset))
        except UnicodeError as exc:
            raise InvalidData(f"{name} cannot be written in charset {charset}") from exc
    return b"\n".join(lines)


def _has_line_break(text: str) -> bool:
    return "\n" in text or "\r" in text


# -- keys and certificates ---------------------------------------------------------------------


def _pem_input(value: str | bytes, what: str) -> bytes:
    """PEM text as bytes. Error messages name the setting, never show its value."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    else:
        raise InvalidData(f"{what} must be PEM text (str or bytes)")
    if b"-----BEGIN " not in data:
        raise InvalidData(f"{what} must be PEM text (-----BEGIN ...), not a file name")
    return data


def _load_certificate(value: str | bytes, what: str) -> x509.Certificate:
    data = _pem_input(value, what)
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise InvalidData(f"{what} is not a PEM X.509 certificate") from None


def _load_rsa_key(value: str | bytes, what: str) -> rsa.RSAPrivateKey:
    data = _pem_input(value, what)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidData(f"{what} is encrypted; give the key without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidData(f"{what} is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidData(f"{what} must be an RSA key, as PayPal requires")
    return key


def _spki(public_key: object) -> bytes:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return b""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
