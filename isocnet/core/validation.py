"""Small field validators shared by services. Each raises InvalidInput that
names the field and the reason."""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from isocnet.core.errors import InvalidInput
from isocnet.core.money import Money, MoneyError, check_currency


def clean_text(value, field: str, *, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput("is required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"must be at most {max_length} characters", field=field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise InvalidInput("must not contain control characters", field=field)
    return value


def clean_line(value, field: str, *, max_length: int, required: bool = True) -> str:
    """Single-line text: no line breaks (these end up in email headers and
    document lines)."""
    value = clean_text(value, field, max_length=max_length, required=required)
    if "\n" in value or "\r" in value:
        raise InvalidInput("must be a single line", field=field)
    return value


def clean_email(value, field: str) -> str:
    value = clean_line(value, field, max_length=254)
    try:
        validate_email(value)
    except DjangoValidationError:
        raise InvalidInput(f"{value!r} is not a valid email address", field=field) from None
    return value


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from babel import Locale

    # CLDR also names regions that are not countries (ZZ "Unknown Region",
    # EU, UN, the QO/XA/XB pseudo-regions); XK (Kosovo) stays.
    not_countries = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    return frozenset(
        code
        for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in not_countries
    )


def clean_country(value, field: str) -> str:
    value = clean_line(value, field, max_length=2).upper()
    if value not in _countries():
        raise InvalidInput(
            f"{value!r} is not an ISO 3166 two-letter country code (e.g. US)", field=field
        )
    return value


def clean_currency(value, field: str) -> str:
    try:
        return check_currency(value)
    except MoneyError as exc:
        raise InvalidInput(str(exc), field=field) from None


def clean_choice(value, field: str, choices) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise InvalidInput(f"must be one of {', '.join(allowed)}", field=field)
    return value


def clean_money(value, field: str, currency: str, *, allow_zero: bool = True) -> Money:
    """Money from API/CLI input: a string like "49.95", or a Money."""
    if isinstance(value, Money):
        if value.currency != currency:
            raise InvalidInput(f"must be in {currency}, not {value.currency}", field=field)
        money = value
        if not money.is_exact or money.amount < 0:
            raise InvalidInput("must be a non-negative amount in whole minor units", field=field)
    else:
        try:
            money = Money.parse(value, currency)
        except MoneyError as exc:
            raise InvalidInput(str(exc), field=field) from None
    if not allow_zero and not money:
        raise InvalidInput("must be more than zero", field=field)
    return money


def clean_date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidInput("must be a date, not a date and time", field=field)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput("must be a date in the form YYYY-MM-DD", field=field)


def clean_positive_int(value, field: str, *, maximum: int = 1_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be a whole number", field=field)
    if not 1 <= value <= maximum:
        raise InvalidInput(f"must be between 1 and {maximum}", field=field)
    return value
