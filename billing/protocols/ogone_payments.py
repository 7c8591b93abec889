"""Worldline e-Commerce (formerly Ogone / Ingenico ePayments): hosted payment page.

Implements the legacy Worldline e-Commerce platform's "Hosted Payment Page" (e-Commerce)
integration guide, support.legacy.worldline-solutions.com (the former
payment-services.ingenico.com "e-Commerce" guide, revision of 6 September 2018):

- section 5.1 "SHA-IN signature": every parameter sent with a non-empty value, names
  upper-cased, sorted alphabetically (numbered names such as ``ITEMID10`` in natural
  order), each written ``NAME=value`` followed by the SHA-IN passphrase; hashed with
  SHA-1, SHA-256 or SHA-512 as set for the account; upper-case hex. The guide's worked
  example (passphrase ``Mysecretsig1875!?``) is a known-answer vector in the tests.
  "Alphabetically" is the order of the guide's SHA lists, which the guide says to follow
  when sorting algorithms disagree: ``_`` before letters (``OR_ORDERID``, ``ORDERID``;
  ``REF_CUSTOMERID``, ``REFER``; ``SCO_CATEGORY``, ``SCORING``), as Ingenico's PHP SDK
  (ogone-sdk-php, ``AllParametersShaComposer``) sorts with the Unicode root collation.
- section 7 "Transaction feedback": the redirection and the server-to-server
  "post-sale" request (GET or POST, as set in the back office) carry the out-parameters
  and ``SHASIGN``, computed the same way with the SHA-OUT passphrase over the
  parameters of the "List of parameters to be included in SHA-OUT calculation" only.
  Names arrive in mixed case (``orderID``, ``amount``); the amount is in major units
  without trailing zeros (``15``, ``7.5``); the feedback is UTF-8, or ISO-8859-1 when
  the account is set so.
- the ``STATUS`` codes of the "Possible statuses" appendix.

Test and live endpoints are those of the guide (``ogone.test.v-psp.com`` and
``secure.ogone.com``, still current on Worldline's legacy platform, checked 2026-11).
"""

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from ..exceptions import InvalidData, MalformedNotification
from ..money import exponent, from_minor_units, parse_minor_units
from .base import (
    Account,
    Inbound,
    Notification,
    PaymentTerms,
    Status,
    Verification,
    empty_reply,
    limited,
    parse_amount,
    parse_utf8_or_latin1,
    refuse_floats,
    verdict,
)

SPEC = "Worldline e-Commerce Hosted Payment Page integration guide, revision of 2018-09-06"

LIVE_SERVICE_URL = "https://secure.ogone.com/ncol/prod/orderstandard_utf8.asp"
TEST_SERVICE_URL = "https://ogone.test.v-psp.com/ncol/test/orderstandard_utf8.asp"

HASH_ALGORITHMS = ("sha1", "sha256", "sha512")

# "List of parameters to be included in SHA-OUT calculation" (CH_AUTHENTICATION_INFO, the
# 3-D Secure result, as in the list of Ingenico's ogone-sdk-php). A parameter not listed
# here is not covered by SHASIGN and is never read by this module.
SHA_OUT_PARAMETERS = frozenset(
    """
    AAVADDRESS AAVCHECK AAVMAIL AAVNAME AAVPHONE AAVZIP ACCEPTANCE ALIAS AMOUNT BIC BIN
    BRAND CARDNO CCCTY CH_AUTHENTICATION_INFO CN COLLECTOR_BIC COLLECTOR_IBAN COMPLUS
    CREATION_STATUS CREDITDEBIT CURRENCY CVCCHECK DCC_COMMPERCENTAGE DCC_CONVAMOUNT
    DCC_CONVCCY DCC_EXCHRATE DCC_EXCHRATESOURCE DCC_EXCHRATETS DCC_INDICATOR
    DCC_MARGINPERCENTAGE DCC_VALIDHOURS DEVICEID DIGESTCARDNO ECI ED EMAIL ENCCARDNO
    FXAMOUNT FXCURRENCY IP IPCTY MANDATEID MOBILEMODE NBREMAILUSAGE NBRIPUSAGE
    NBRIPUSAGE_ALLTX NBRUSAGE NCERROR ORDERID PAYID PAYIDSUB PAYLIBIDREQUEST PAYLIBTRANSID
    PAYMENT_REFERENCE PM SCO_CATEGORY SCORING SEQUENCETYPE SIGNDATE STATUS SUBBRAND
    SUBSCRIPTION_ID TICKET TRXDATE VC WALLET
    """.split()
)

# COMPLUS is sent under SHA-IN and returned under SHA-OUT: the integration puts the
# shop's mode there, so a notification states (signed) whether a test-mode form was paid.
TEST_MARKER = "billing:test"
LIVE_MARKER = "billing:live"

# STATUS -> state. 5 (authorised) is not money received: with an authorisation-only
# operation the payment stays pending until the capture reports 9. Uncertain results
# (52, 92) stay pending until Worldline reports the final status.
STATUS_MAP: Mapping[str, Status] = {
    "9": Status.PAID,
    "5": Status.PENDING,
    "4": Status.PENDING,
    "40": Status.PENDING,
    "41": Status.PENDING,
    "46": Status.PENDING,
    "50": Status.PENDING,
    "51": Status.PENDING,
    "52": Status.PENDING,
    "55": Status.PENDING,
    "91": Status.PENDING,
    "92": Status.PENDING,
    "0": Status.FAILED,
    "2": Status.FAILED,
    "93": Status.FAILED,
    "1": Status.CANCELLED,
    "6": Status.CANCELLED,
    "64": Status.CANCELLED,
    "7": Status.REFUNDED,
    "8": Status.REFUNDED,
    "85": Status.REFUNDED,
}

# One token per character, except that a run of ASCII digits is one number.
_TOKENS = re.compile(r"[0-9]+|.", re.DOTALL)


def normalize_algorithm(name: str) -> str:
    """``SHA-256``, ``sha256`` -> ``sha256``; InvalidData for anything else."""
    algorithm = str(name).strip().lower().replace("-", "")
    if algorithm not in HASH_ALGORITHMS:
        raise InvalidData(f"hash algorithm must be one of {', '.join(HASH_ALGORITHMS)}")
    return algorithm


def sort_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """The SHA lists' order: ``_`` (any non-alphanumeric) before digits before letters,
    character by character, runs of digits compared as numbers (``ITEMID9``, ``ITEMID10``).

    By code point ``_`` (0x5F) would come after the letters: ``SCORING`` before
    ``SCO_CATEGORY``, which Worldline's digest does not do.
    """
    key = []
    for token in _TOKENS.findall(name):
        if token[0] in "0123456789":
            key.append((1, int(token), ""))
        elif token.isalpha():
            key.append((2, 0, token))
        else:
            key.append((0, 0, token))
    return tuple(key)


def signing_string(params: Mapping[str, str], passphrase: str) -> str:
    """``NAME=value<passphrase>`` for every non-empty parameter, in SHA order."""
    items = [(name.upper(), value) for name, value in params.items() if value != ""]
    items.sort(key=lambda item: sort_key(item[0]))
    return "".join(f"{name}={value}{passphrase}" for name, value in items)


def sha_sign(
    params: Mapping[str, str], passphrase: str, algorithm: str, encoding: str = "utf-8"
) -> str:
    """The SHASIGN of these parameters (SHASIGN itself excluded): upper-case hex."""
    signed = {k: v for k, v in params.items() if k.upper() != "SHASIGN"}
    data = signing_string(signed, passphrase).encode(encoding)
    return hashlib.new(normalize_algorithm(algorithm), data).hexdigest().upper()


def upper_names(fields: Mapping[str, object]) -> dict[str, object]:
    """Parameter names are case-insensitive at Worldline: upper-case them, refuse doubles."""
    final: dict[str, object] = {}
    for name, value in fields.items():
        upper = str(name).upper()
        if upper in final:
            raise InvalidData(f"{upper} is given twice (names are case-insensitive)")
        final[upper] = value
    return final


def build_fields(
    fields: Mapping[str, object],
    *,
    pspid: str,
    sha_in: str,
    algorithm: str,
    test: bool,
) -> dict[str, str]:
    """The final form: the shop's parameters, the account, the mode marker and SHASIGN."""
    given = upper_names(fields)
    refuse_floats(given, "amounts are minor units, never float")
    if given.get("COMPLUS") not in (None, ""):
        raise InvalidData(
            "COMPLUS is used by the integration to bind the notification to the shop's "
            "mode; pass your own data in PARAMPLUS"
        )
    given.pop("SHASIGN", None)
    if not str(given.get("ORDERID") or ""):
        raise InvalidData("Worldline needs an ORDERID (the shop's order reference)")
    if given.get("AMOUNT") in (None, ""):
        raise InvalidData("Worldline needs an AMOUNT in minor units")
    currency = str(given.get("CURRENCY") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidData("Worldline needs a CURRENCY (ISO 4217 code)")
    final = {k: str(v) for k, v in given.items() if v is not None and str(v) != ""}
    final["AMOUNT"] = str(parse_minor_units(given["AMOUNT"]))
    final["CURRENCY"] = currency
    final["PSPID"] = pspid
    final["COMPLUS"] = TEST_MARKER if test else LIVE_MARKER
    final["SHASIGN"] = sha_sign(final, sha_in, algorithm)
    return final


def expected_amount(fields: Mapping[str, str]) -> Decimal:
    """The amount the form asks for, in major units (Decimal)."""
    return from_minor_units(fields["AMOUNT"], fields["CURRENCY"])


def parse_feedback(data: bytes) -> dict[str, str]:
    """Decode a feedback (post-sale body or query string). Names keep their case.

    A name given twice in different case (``amount`` and ``AMOUNT``) is refused: what
    is verified and what is read must be the same value.
    """
    if not data.strip():
        raise MalformedNotification("empty feedback")
    fields = parse_utf8_or_latin1(data)
    seen: set[str] = set()
    for name in fields:
        upper = name.upper()
        if upper in seen:
            raise MalformedNotification(f"{upper} is given twice")
        seen.add(upper)
    return fields


def _signed_fields(fields: Mapping[str, str], extra: Iterable[str]) -> dict[str, str]:
    names = SHA_OUT_PARAMETERS | {name.upper() for name in extra}
    return {name.upper(): value for name, value in fields.items() if name.upper() in names}


def _received_sign(fields: Mapping[str, str]) -> str:
    for name, value in fields.items():
        if name.upper() == "SHASIGN":
            return value.strip().upper()
    return ""


def verify_feedback(
    fields: Mapping[str, str],
    *,
    sha_out: str,
    algorithm: str,
    extra_parameters: Iterable[str] = (),
) -> bool:
    """Whether SHASIGN is the SHA-OUT signature of the listed out-parameters.

    The digest is checked over the UTF-8 bytes and, for text outside ASCII, over the
    ISO-8859-1 bytes too (the account's hashing charset); both need the passphrase.
    """
    received = _received_sign(fields)
    if not received:
        return False
    signed = _signed_fields(fields, extra_parameters)
    text = signing_string(signed, sha_out)
    encodings = ["utf-8"]
    if not text.isascii():
        try:
            text.encode("iso-8859-1")
            encodings.append("iso-8859-1")
        except UnicodeEncodeError:
            pass
    valid = False
    for encoding in encodings:
        digest = hashlib.new(normalize_algorithm(algorithm), text.encode(encoding))
        expected = digest.hexdigest().upper().encode("ascii")
        valid |= hmac.compare_digest(expected, received.encode("utf-8"))
    return valid


def _amount(text: str, currency: str) -> Decimal | None:
    amount = parse_amount(text, "AMOUNT")  # never negative: refunds report STATUS 8
    if amount is None:
        return None
    places = Decimal(1).scaleb(-exponent(currency)) if currency else None
    # Worldline drops trailing zeros (15, 7.5); give the currency's places back when exact.
    if places is not None and amount == amount.quantize(places):
        return amount.quantize(places)
    return amount


def to_notification(fields: Mapping[str, str], *, integration: str) -> Notification:
    """A verified feedback in the library's vocabulary; only SHA-OUT-covered values are read.

    The feedback does not name the merchant account (PSPID is not an out-parameter):
    ``receiver`` is empty and the account is proven by the SHA-OUT passphrase alone.
    """
    signed = _signed_fields(fields, ())
    currency = signed.get("CURRENCY", "").upper()
    gateway_status = limited(signed.get("STATUS", ""), "STATUS", 16)
    return Notification(
        integration=integration,
        reference=limited(signed.get("ORDERID", ""), "ORDERID"),
        transaction_id=limited(signed.get("PAYID", ""), "PAYID"),
        amount=_amount(signed.get("AMOUNT", ""), currency),
        currency=currency,
        status=STATUS_MAP.get(gateway_status, Status.UNKNOWN),
        gateway_status=gateway_status,
        test=signed.get("COMPLUS", "") == TEST_MARKER,
        raw=dict(fields),
        receiver="",
    )


# -- the GatewayProtocol verbs ----------------------------------------------------------


def form(fields: Mapping[str, object], account: Account) -> dict[str, str]:
    return build_fields(
        fields,
        pspid=account["PSPID"],
        sha_in=account["SHA_IN"],
        algorithm=normalize_algorithm(account["HASH_ALGORITHM"]),
        test=account.test,
    )


def terms(form: Mapping[str, str], account: Account) -> PaymentTerms:
    return PaymentTerms(
        reference=form["ORDERID"],
        amount=expected_amount(form),
        currency=form["CURRENCY"],
        receiver=account["PSPID"],
    )


def read(inbound: Inbound) -> dict[str, str]:
    """The post-sale request by POST, or by GET on the query string."""
    if inbound.method == "GET":
        return parse_feedback(inbound.query.encode("utf-8"))
    return parse_feedback(inbound.body)


def verify(fields: Mapping[str, str], inbound: Inbound, account: Account) -> Verification:
    valid = verify_feedback(
        fields,
        sha_out=account["SHA_OUT"],
        algorithm=normalize_algorithm(account["HASH_ALGORITHM"]),
        extra_parameters=account.settings.get("EXTRA_SHA_OUT_PARAMETERS", ()),
    )
    return verdict(valid)


def notification(fields: Mapping[str, str], account: Account, integration: str) -> Notification:
    return to_notification(fields, integration=integration)


reply = empty_reply
