"""Money as Decimal, formatted per currency exponent; never float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .exceptions import InvalidData

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


# ISO 4217 (list one): the codes a shop can be paid in. Precious metals, the SDR, the
# Arab accounting dinar and the testing and "no currency" codes are left out.
CURRENCIES = frozenset(
    """AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
    MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
    PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
    SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND
    VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)


def currency_code(value: object) -> str:
    """An ISO 4217 code, upper-cased; anything else is refused."""
    code = str(value).strip().upper()
    if code not in CURRENCIES:
        raise InvalidData(f"{value!r} is not an ISO 4217 currency code")
    return code


def within_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """The amount, if the currency can express it: 10.001 EUR is refused, never rounded."""
    if amount.is_finite() and amount != quantize(amount, currency):
        places = exponent(currency)
        raise InvalidData(
            f"{amount} has more decimals than {currency} has ({places}): round it yourself"
        )
    return amount


def exact_amount(amount: Decimal, currency: str) -> Decimal:
    """A positive amount the currency can express, never rounded."""
    if not amount.is_finite() or amount <= 0:
        raise InvalidData(f"{amount} is not an amount a customer can pay")
    return within_minor_unit(amount, currency)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_decimal(value: object) -> Decimal:
    """Parse an amount given as str, int or Decimal. Floats are refused."""
    if isinstance(value, float | bool):
        raise InvalidData("amounts must be Decimal, int or str, never float")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidData(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidData(f"not an amount: {value!r}")
    return amount


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount as the gateway expects it in major units, e.g. '10.00', '1000' for JPY."""
    return f"{quantize(amount, currency):f}"


def to_minor_units(amount: Decimal, currency: str) -> int:
    return int(quantize(amount, currency).scaleb(exponent(currency)))


def exact_minor_units(amount: Decimal, currency: str) -> int:
    """Minor units of an amount the currency can express exactly; refuses to round."""
    if quantize(amount, currency) != amount:
        raise InvalidData(f"{amount} {currency} is not a whole number of minor units")
    return to_minor_units(amount, currency)


def parse_minor_units(value: object, field: str = "AMOUNT") -> int:
    """A positive amount in minor units given as int or digits; a Decimal is refused."""
    text = str(value).strip() if isinstance(value, int | str) else ""
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or int(text) <= 0:
        raise InvalidData(
            f"{field} is a positive whole number of minor units (1500 for 15.00 EUR), "
            f"given as int or digits, not {value!r}; billing.money.to_minor_units converts a "
            "Decimal"
        )
    return int(text)


def from_minor_units(units: int | str, currency: str) -> Decimal:
    return Decimal(int(units)).scaleb(-exponent(currency))
