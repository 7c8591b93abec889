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
