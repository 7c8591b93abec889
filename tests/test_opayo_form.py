"""Opayo Form: the conformance suite, known answers, and the attacks an encrypted return
without a MAC invites.

Known answers, computed outside billing's code:

- GUIDE: the Sage Pay Form 3.00 guide's example crypt (appendix A1.2, password
  ``55a51621a6648525``); the guide prints its first 144 hex digits, and
  ``printf '%s' "$GUIDE_PLAIN" | openssl enc -aes-128-cbc -K $(printf %s 55a51621a6648525
  | xxd -p) -iv <the same> | xxd -p -u`` gives those and the rest.
- RETURN: a real return from Opayo's test server, published in omnipay-sagepay's
  FormGatewayTest (password ``2f52208a25a1facf``); ``openssl enc -d`` with the same key
  and IV decrypts it to RETURN_PLAIN.

The conformance class writes Opayo's returns itself (``crypt_for``, AES straight from
``cryptography``), to put the mode and currency it tests in the echoed VendorTxCode.
"""

import re
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.test import Client

from billing import get_integration
from billing.exceptions import IntegrationNotConfigured, InvalidData, MalformedNotification
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus
from billing.protocols import opayo_form as opayo
from billing.protocols.base import Account, Inbound, Status, Verification
from billing.sandbox.gateways.opayo_form import crypt as stand_in_crypt
from billing.testing.conformance import Delivery, IntegrationConformance
from tests.helpers import outcomes, settings_fixture, signed_ref, use_account

PASSWORD = "shopFormPassw0rd"  # 16 characters, no hex run that the crypt could show
SETTINGS = {"VENDOR": "teashop", "ENCRYPTION_PASSWORD": PASSWORD}

GUIDE_KEY = "55a51621a6648525"
GUIDE_PLAIN = (
    "VendorTxCode=TxCode-1310917599-223087284&Amount=36.95&Currency=GBP"
    "&Description=description&CustomerName=Fname Surname&CustomerEMail=customer@example.com"
    "&BillingSurname=Surname&BillingFirstnames=Fname&BillingAddress1=BillAddress Line 1"
    "&BillingCity=BillCity&BillingPostCode=W1A 1BL&BillingCountry=GB"
    "&BillingPhone=447933000000&DeliveryFirstnames=Fname&DeliverySurname=Surname"
    "&DeliveryAddress1=BillAddress Line 1&DeliveryCity=BillCity&DeliveryPostCode=W1A 1BL"
    "&DeliveryCountry=GB&DeliveryPhone=447933000000&SuccessURL=https://example.com/success"
    "&FailureURL=https://example.com/failure"
)
GUIDE_PRINTED = (  # as the guide prints it
    "@2DCD27338114D4C39A14A855702FBAB2EF40BCAC2D76A3ABC0F660A07E9C1C921C2C755BA9B59C39F882"
    "FBF6DFED114F23141D94E50A01A665B1E31A86C07CA1CD1BB8EF5B6CF2C23D495CD79F9C0F678D61773E7"
    "A1AA30AA5B23D56503FC0B52AC0694A8C3"
)
GUIDE_TAIL = (  # the rest, from openssl
    "41263D2C5FE1BAD93BDB94726761E155E900448F644AF1F67BE1AC77E852B9D90809A44F258EE9478B6D8C"
    "1C4ED58759263E7DBF8871C6592287C0358F36F4EEC326CEDDD440DA2FED8AB35F1B630A5C6FA671E4D78C"
    "C8CACECF9DFDC31D6C5EC8270FB21E297E2C2E14F99A04223EFFD4F00062D440E78A3D2C7140EC8F123D24"
    "7B75E7482AE98858DA34D37EDE6D7C69AA74391F559305CF675ADB3615244A107ABBB6AF26E29A2FFA059B"
    "12688D90FE09E0DE069325BFF3587A695F5DA36E4B809B69CC9A37034F166B63B5A62B986F4DA34E9AC951"
    "6AFDE70642EC7DAD1AEBA93A1F347D6AC7046E967DCBFE7ACFCEE5DAFC0B29F1765032B3060EBE565CBD57"
    "D092075D15CF12725199C6881605B2E0F105698CE3ADD04361CA9D620C187B90E3F9849445B5C3C0FDF176"
    "8BFFD61F97E51316826F4F10E0E3E668F0A9F5ED9CCDA6F2C7CC957F12DB48F9041482E3D035E7A91852C4"
    "04BFA325FED947E71F57B871DFAC6AF4FF29F4513A4A80B2D7ECC9D19D47ED04FA99CDFC881DFA771E1EA4"
    "F3F9B2C5AC673EF3DA2699A309CC8522993A63CB8D45D3CDF09B1DFDC573CD19679B250AD6721450B5042F"
    "201670B464505DCAEF59E2C67ABACC9AE2EEE793CE191FEBF66B8FAF4204EFFB359246B9C99FB52805C463"
    "75FF35140F74707FBC73C7731A28A2C883A"
)
RETURN_KEY = "2f52208a25a1facf"
RETURN_CRYPT = (
    "@5548276239c33e937e4d9d847d0a01f4c05f1b71dd5cd32568b6985a6d6834aca672315cf3eec01bb20d"
    "34cd1ccd7bdd69a9cd89047f7f875103b46efd8f7b97847eea6b6bab5eb8b61da9130a75fffa1c9152b7d3"
    "9f77e534ea870281b8e280ea1fdbd49a8f5a7c67d1f512fe7a030e81ae6bd2beed762ad074edcd5d7eb445"
    "6a6797911ec78e4d16e7d3ac96b919052a764b7ee4940fd6976346608ad8fed1eb6b0b14d84d802c594b3f"
    "d94378a26837df66b328f01cfd144f2e7bc166370bf7a833862173412d2798e8739ee7ef9b0568afab0fc6"
    "9f66af19864480bf3e74fe2fd2043ec90396e40ab62dc9c1f32dee0e309af7561d2286380ebb497105bde2"
    "860d401ccfb4cfcd7047ad32e9408d37f5d0fe9a67bd964d5b138b2546a7d54647467c59384eaa20728cf2"
    "40c460e36db68afdcf0291135f9d5ff58563f14856fd28534a5478ba2579234b247d0d5862c5742495a2ae"
    "18c5ca0d6461d641c5215b07e690280fa3eaf5d392e1d6e2791b181a500964d4bc6c76310e47468ae72edd"
    "dc3c04d83363514c908624747118"
)
RETURN_PLAIN = (
    "VendorTxCode=phpne-demo-56260425&VPSTxId={B7792365-F7F9-6E20-ACD1-390C5CEBDDAF}"
    "&Status=OK&StatusDetail=0000 : The Authorisation was Successful.&TxAuthNo=19052426"
    "&AVSCV2=SECURITY CODE MATCH ONLY&AddressResult=NOTMATCHED&PostCodeResult=NOTMATCHED"
    "&CV2Result=MATCHED&GiftAid=0&3DSecureStatus=NOTCHECKED&CardType=VISA&Last4Digits=0006"
    "&DeclineCode=00&ExpiryDate=1218&Amount=99.99&BankAuthCode=999777"
)
STATUSES = {"paid": "OK", "failed": "NOTAUTHED", "cancelled": "ABORT"}


def _cipher(password: str) -> Cipher[Any]:
    key = password.encode()
    return Cipher(algorithms.AES(key), modes.CBC(key))


def crypt_for(plaintext: str, password: str = PASSWORD) -> str:
    """Opayo's encryption, written here: AES-128-CBC, key = IV = password, PKCS#7."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = _cipher(password).encryptor()
    return "@" + (encryptor.update(data) + encryptor.finalize()).hex().upper()


def plain_of(crypt: str, password: str = PASSWORD) -> str:
    decryptor = _cipher(password).decryptor()
    data = decryptor.update(bytes.fromhex(crypt[1:])) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode()


def return_plain(code: str, status: str = "OK", amount: str = "10.00", tx: str = "") -> str:
    vps = tx or "{6A3F0C1E-0B7D-4E57-9A71-2C0F5D7E8B11}"
    return (
        f"VendorTxCode={code}&VPSTxId={vps}&Status={status}&StatusDetail=0000 : Done."
        f"&TxAuthNo=19052426&AVSCV2=ALL MATCH&GiftAid=0&3DSecureStatus=OK&CardType=VISA"
        f"&Last4Digits=0006&DeclineCode=00&ExpiryDate=1230&Amount={amount}"
    )


def vendor_tx_code(form: dict[str, str]) -> str:
    return dict(p.partition("=")[::2] for p in plain_of(form["Crypt"]).split("&"))["VendorTxCode"]


def remarked(code: str, *, currency: str | None = None, test: bool | None = None) -> str:
    """The VendorTxCode of another attempt of the same order, in that currency or mode."""
    ref, mode, cur, nonce = re.fullmatch(r"(.*)\{([TL])([A-Z]{3})(\w{6})\}", code).groups()  # type: ignore[union-attr]
    mode = mode if test is None else ("T" if test else "L")
    return f"{ref}{{{mode}{currency or cur}{nonce}}}"


class TestOpayoFormConformance(IntegrationConformance):
    slug = "opayo_form"
    merchant_settings = SETTINGS
    currency = "GBP"

    def gateway_notification(
        self,
        form: dict[str, str],
        *,
        status: str = "paid",
        amount: Decimal | None = None,
        currency: str | None = None,
        receiver: str | None = None,
        test: bool | None = None,
        transaction_id: str = "TX-1",
    ) -> Delivery:
        code = remarked(vendor_tx_code(form), currency=currency, test=test)
        tx = "{" + f"{sum(map(ord, transaction_id)):08X}-0000-4000-8000-000000000001" + "}"
        text = return_plain(code, STATUSES[status], f"{amount or Decimal('10.00'):.2f}", tx)
        password = PASSWORD if receiver is None else "anotherVendorPwd"
        return Delivery(body=b"", method="GET", query=f"crypt={crypt_for(text, password)}")

    def secrets(self) -> list[str]:
        return [PASSWORD]


# -- known answers -------------------------------------------------------------------------


def test_the_guides_example_crypt() -> None:
    expected = GUIDE_PRINTED + GUIDE_TAIL
    assert opayo.encrypt(GUIDE_PLAIN, GUIDE_KEY) == stand_in_crypt(GUIDE_PLAIN, GUIDE_KEY)
    assert opayo.encrypt(GUIDE_PLAIN, GUIDE_KEY) == expected
    assert opayo.decrypt(expected, GUIDE_KEY) == GUIDE_PLAIN.encode()


def test_a_real_test_server_return() -> None:
    account = Account({**SETTINGS, "ENCRYPTION_PASSWORD": RETURN_KEY}, test=True, endpoint=str)
    fields = opayo.read(Inbound(b"", method="GET", query=f"crypt={RETURN_CRYPT}"))
    assert opayo.decrypt(fields["crypt"], RETURN_KEY) == RETURN_PLAIN.encode()
    assert opayo.verify(fields, Inbound(b""), account) is Verification.VALID
    n = opayo.notification(fields, account, "opayo_form")
    assert (n.reference, n.amount, n.status) == (
        "phpne-demo-56260425",
        Decimal("99.99"),
        Status.PAID,
    )
    assert n.transaction_id == "{B7792365-F7F9-6E20-ACD1-390C5CEBDDAF}"
    assert n.currency == "GBP" and n.test  # no billing suffix: the account's currency and mode


# -- the form ---------------------------------------------------------------------------------


shop = settings_fixture("opayo_form", SETTINGS)


def rendered(**extra: Any) -> dict[str, str]:
    integration = get_integration("opayo_form")
    integration.add_order(
        reference="ORDER-1", amount=Decimal("1234.50"), currency="EUR", description="Tea"
    )
    integration.add_fields(extra)
    return integration.generate_form()


@pytest.mark.django_db
def test_the_form_is_four_fields_and_an_encrypted_order(shop: Any) -> None:
    form = rendered(BillingSurname="Müller", item_name="not Opayo's")
    assert list(form) == ["VPSProtocol", "TxType", "Vendor", "Crypt"]
    assert form["VPSProtocol"] == "4.00" and form["TxType"] == "PAYMENT"
    assert form["Vendor"] == "teashop" and PASSWORD not in form["Crypt"]
    text = plain_of(form["Crypt"])
    ref = signed_ref("opayo_form")
    assert re.fullmatch(
        r"VendorTxCode=ORDER-1\{TEUR[0-9A-F]{6}\}&Amount=1234.50&Currency=EUR&Description=Tea"
        r"&BillingSurname=Müller"
        f"&SuccessURL=http://testserver/billing/opayo_form/return/\\?{ref}"
        f"&FailureURL=http://testserver/billing/opayo_form/return/\\?{ref}",
        text,
    )
    assert (Payment.objects.get().amount, Payment.objects.get().currency) == (
        Decimal("1234.50"),
        "EUR",
    )
    assert vendor_tx_code(rendered()) != vendor_tx_code(form)  # unique per attempt


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [{"Description": "Tea & cake"}, {"VendorTxCode": "X" * 29}, {"VendorTxCode": "A{B}"}],
    ids=["ampersand", "long-reference", "braces"],
)
def test_what_the_crypt_cannot_carry_is_refused(shop: Any, extra: dict[str, str]) -> None:
    with pytest.raises(InvalidData):
        rendered(**extra)


@pytest.mark.parametrize("password", ["short", "seventeen chars!!", ""])
def test_a_password_that_is_not_an_aes_128_key_is_refused(settings: Any, password: str) -> None:
    use_account(settings, "opayo_form", {**SETTINGS, "ENCRYPTION_PASSWORD": password})
    with pytest.raises(IntegrationNotConfigured):
        get_integration("opayo_form")


# -- the return is the notification -------------------------------------------------------------


def come_back(crypt: str, reference: str = "ORDER-1") -> Any:
    return Client().get(
        f"/billing/opayo_form/return/?{signed_ref('opayo_form', reference)}&crypt={crypt}"
    )


def code_of_a_form(amount: str = "10.00", currency: str = "GBP") -> str:
    integration = get_integration("opayo_form")
    integration.add_order(reference="ORDER-1", amount=Decimal(amount), currency=currency)
    return vendor_tx_code(integration.generate_form())


@pytest.mark.django_db
def test_the_return_pays_once_and_a_reload_is_a_duplicate(shop: Any) -> None:
    crypt = crypt_for(return_plain(code_of_a_form()))
    assert come_back(crypt).status_code == 200
    come_back(crypt)
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert outcomes(kind="notify") == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert NotificationLog.objects.filter(kind="return").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "state"),
    [("NOTAUTHED", "failed"), ("REJECTED", "failed"), ("ABORT", "cancelled"), ("ERROR", "pending")],
)
def test_statuses(shop: Any, status: str, state: str) -> None:
    come_back(crypt_for(return_plain(code_of_a_form(), status)))
    assert Payment.objects.get().status == state


def flip_amount(crypt: str, old: str, new: str) -> str:
    """CBC's malleability: XOR the block before Amount's bytes (no password needed)."""
    text = plain_of(crypt)
    start = text.index(f"&Amount={old}") + len("&Amount=")
    data = bytearray(bytes.fromhex(crypt[1:]))
    for i, (a, b) in enumerate(zip(old.encode(), new.encode(), strict=True)):
        data[start + i - 16] ^= a ^ b
    return "@" + data.hex().upper()


@pytest.mark.django_db
def test_a_bit_flipped_amount_is_rejected(shop: Any) -> None:
    tampered = flip_amount(crypt_for(return_plain(code_of_a_form())), "10.00", "00.01")
    assert "Amount=00.01" in opayo.decrypt(tampered, PASSWORD).decode("latin-1")  # type: ignore[union-attr]
    come_back(tampered)
    log = NotificationLog.objects.get(kind="notify")
    assert (log.verification, log.outcome) == (Verification.INVALID, Outcome.REJECTED)
    assert log.claimed_reference == "ORDER-1"
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_a_declined_status_flipped_to_ok_is_rejected(shop: Any) -> None:
    declined = crypt_for(return_plain(code_of_a_form(), "NOTAUTHED"))
    text = plain_of(declined)
    start = text.index("&Status=") + len("&Status=")
    data = bytearray(bytes.fromhex(declined[1:]))
    for i, (a, b) in enumerate(zip(b"NOTAUTHED", b"OK&X=1234", strict=True)):
        data[start + i - 16] ^= a ^ b
    come_back("@" + data.hex().upper())
    assert outcomes(kind="notify") == [Outcome.REJECTED]
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_spliced_blocks_are_rejected(shop: Any) -> None:
    """The head of this attempt's return joined to the tail of another's (which took
    99.00): the block at the seam decrypts to noise."""
    cheap = crypt_for(return_plain(code_of_a_form(), amount="10.00"))
    dear = crypt_for(return_plain(code_of_a_form(), amount="99.00"))
    for seam in (len(cheap) - 32, 1 + 32 * 4):
        come_back(cheap[:seam] + dear[seam:])
    assert outcomes(kind="notify") == [Outcome.REJECTED, Outcome.REJECTED]
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize(
    "crypt",
    [
        crypt_for(return_plain("ORDER-1"), "wrongPassword123"),  # another key
        crypt_for(return_plain("ORDER-1"))[:-32],  # a block dropped
        "@" + "00" * 64,  # noise
        "not-hex",
    ],
    ids=["wrong-password", "truncated", "noise", "not-hex"],
)
def test_what_the_password_did_not_encrypt_is_rejected(shop: Any, crypt: str) -> None:
    code_of_a_form()
    assert come_back(crypt).status_code == 200  # the customer still sees the order page
    assert outcomes(kind="notify") == [Outcome.REJECTED]
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_an_authentic_return_for_another_attempt_is_held(shop: Any) -> None:
    """Same reference, asked again for another amount and currency: the old attempt's
    return still says its own, so it is held, never paid."""
    old = code_of_a_form("5.00", "EUR")
    code_of_a_form("10.00", "GBP")
    come_back(crypt_for(return_plain(old, amount="5.00")))
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "currency 'EUR' instead of GBP" in payment.review_reason


@pytest.mark.django_db
def test_a_sandbox_return_on_a_live_shop_is_not_paid(shop: Any) -> None:
    shop.MERCHANT_TEST_MODE = False
    code = code_of_a_form()
    assert "{L" in code
    come_back(crypt_for(return_plain(remarked(code, test=True))))
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW
    assert "a test notification reached a live shop" in payment.review_reason


def test_amounts_with_thousands_commas() -> None:
    assert opayo.returned_amount("1,231.47") == Decimal("1231.47")
    for bad in ("1,23.00", "1e3", "-1.00", ",100"):
        with pytest.raises(MalformedNotification):
            opayo.returned_amount(bad)


@pytest.mark.parametrize("body", [b"crypt=", b"crypt=ABCDEF", b"crypt=@ABC", b"other=1"])
def test_a_request_without_a_crypt_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedNotification):
        opayo.read(Inbound(body))
