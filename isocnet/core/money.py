"""Exact money: a Decimal amount with an ISO 4217 currency.

Rules (see docs/architecture.md, "Money"):
- never float: constructing Money from a float raises TypeError;
- amounts may carry extra precision while being computed (proration, tax);
  they are rounded ROUND_HALF_UP to the currency's minor unit only at the
  named points, through :meth:`Money.quantize` (a line amount, the tax per
  rate, a document total);
- the database stores integer minor units (:meth:`Money.minor` /
  :meth:`Money.from_minor`), so SQLite never sees a float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

# Largest amount we accept in any money input: 10 billion major units. It keeps
# every stored value far inside a signed 64-bit column, whatever the currency.
MAX_MAJOR_UNITS = Decimal("9999999999.99")

_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$", re.ASCII)


class MoneyError(ValueError):
    """An amount or currency that is not acceptable as money."""


class CurrencyMismatch(MoneyError):
    pass


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def tender_currencies() -> frozenset[str]:
    """ISO 4217 currencies that are legal tender somewhere today (CLDR):
    not XXX (no currency), XTS (testing), metals, fund codes or retired
    currencies, all of which CLDR also lists."""
    import datetime as dt

    from babel import Locale
    from babel.numbers import get_territory_currencies

    today = dt.date.today()
    found: set[str] = set()
    for territory in Locale("en").territories:
        if len(territory) == 2 and territory.isalpha():
            found.update(get_territory_currencies(territory, today, tender=True))
    return frozenset(found)


def check_tender_currency(code: str) -> str:
    """``code`` if it is a currency customers can be billed in (input)."""
    if not isinstance(code, str) or code not in tender_currencies():
        raise MoneyError(
            f"{code!r} is not an ISO 4217 code of a currency in use (e.g. USD, EUR, JPY)"
        )
    return code


def check_currency(code: str) -> str:
    if not isinstance(code, str) or code.upper() != code or code not in known_currencies():
        raise MoneyError(f"{code!r} is not an ISO 4217 currency code (e.g. USD)")
    return code


@cache
def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (USD 2, JPY 0, BHD 3)."""
    return get_currency_precision(check_currency(currency))


@cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_exponent(currency))


def is_float(value) -> bool:
    """True for a float (or bool): the inputs money refuses."""
    return isinstance(value, float | bool)


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError("money never comes from float or bool; pass a Decimal, int or str")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise MoneyError(f"{value!r} is not a number") from exc
    else:
        raise TypeError(f"cannot make money from {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError("amount must be a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _to_decimal(self.amount))
        check_currency(self.currency)

    # -- construction -----------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError("minor units are an int")
        return cls(Decimal(minor).scaleb(-minor_exponent(currency)), currency)

    @classmethod
    def parse(cls, text: str, currency: str, *, allow_negative: bool = False) -> Money:
        """Parse user input ("49.95") strictly.

        Accepts only plain ASCII decimals with at most the currency's minor
        digits: no exponent, NaN, Infinity, thousands separators, Unicode
        digits or sub-cent precision. Raises MoneyError with the reason.
        """
        if not isinstance(text, str):
            raise MoneyError('amount must be a string such as "49.95"')
        text = text.strip()
        if not _PLAIN_DECIMAL.match(text):
            raise MoneyError(f'{text!r} is not a plain decimal amount such as "49.95"')
        value = Decimal(text)
        exponent = minor_exponent(currency)
        if -value.as_tuple().exponent > exponent:
            raise MoneyError(f"{currency} amounts have at most {exponent} decimal places")
        if value < 0 and not allow_negative:
            raise MoneyError("amount must not be negative")
        if abs(value) > MAX_MAJOR_UNITS:
            raise MoneyError(f"amount must not exceed {MAX_MAJOR_UNITS}")
        return cls(value, currency).quantize()

    # -- rounding and storage --------------------------------------------
    def quantize(self) -> Money:
        """Round HALF_UP to the currency's minor unit (a named rounding point)."""
        return Money(
            self.amount.quantize(_quantum(self.currency), rounding=ROUND_HALF_UP), self.currency
        )

    @property
    def is_exact(self) -> bool:
        return self.amount == self.amount.quantize(_quantum(self.currency), rounding=ROUND_HALF_UP)

    def minor(self) -> int:
        """Integer minor units for storage. Refuses to round silently."""
        if not self.is_exact:
            raise MoneyError(f"{self.amount} {self.currency} is not rounded to the minor unit")
        return int(self.amount.scaleb(minor_exponent(self.currency)))

    # -- arithmetic -------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply money by money")
        return Money(self.amount * _to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    # -- presentation -----------------------------------------------------
    def as_string(self) -> str:
        """The API form: plain decimal string with the minor digits ("49.95")."""
        return str(self.quantize().amount)

    def format(self, locale: str = "en_US") -> str:
        """Human form for documents and screens ("$49.95")."""
        return _formatted(str(self.amount), self.currency, locale)

    def __str__(self) -> str:
        return f"{self.as_string()} {self.currency}"


@lru_cache(maxsize=8192)
def _formatted(amount: str, currency: str, locale: str) -> str:
    # Babel parses the locale and the CLDR pattern on every call (~70 µs); a
    # billing run formats the same few prices thousands of times. Keyed by the
    # amount's text: Decimal("-0.00") == Decimal("0.00"), but they print apart.
    return format_currency(Decimal(amount), currency, locale=locale)
