"""Small field validators shared by services. Each raises InvalidInput that
names the field and the reason."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from isocnet.core import clock
from isocnet.core.errors import InvalidInput
from isocnet.core.limits import check_amount
from isocnet.core.money import Money, MoneyError, check_tender_currency
from isocnet.core.pan import card_number_in

# Code points no stored text may hold: bidirectional overrides and isolates
# (they reorder what a clerk reads: "Trojan Source"), besides the control,
# surrogate, unassigned and private-use categories checked below.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` may not be stored as text, or None. Checked for every
    free-text field (clean_text), so nothing that breaks storage (a lone
    surrogate), lines (U+2028) or what a reader sees gets in."""
    for ch in value:
        if ch in _LINE_BREAKS and not (multiline and ch == "\n"):
            return "must be a single line" if not multiline else "must not contain that line break"
        category = unicodedata.category(ch)
        if category == "Cs":
            return "is not valid Unicode text (it holds a lone surrogate)"
        if ch == "\ufffd":  # what a decoder puts for bytes that were not text
            return "is not valid text (it holds bytes that are not UTF-8)"
        if category == "Cc" and ch not in ("\t", "\n"):  # "\n": only multi-line, above
            return "must not contain control characters"
        if category in ("Cn", "Co"):
            return f"must not contain unassigned or private-use characters (U+{ord(ch):04X})"
        if ch in _BIDI_CONTROLS:
            return f"must not contain text-direction controls (U+{ord(ch):04X})"
    if card_number_in(value):
        return "must not contain a card number: card numbers are never stored (send a token)"
    return None


def clean_text(
    value, field: str, *, max_length: int, required: bool = True, multiline: bool = True
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput("is required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"must be at most {max_length} characters", field=field)
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise InvalidInput(problem, field=field)
    return value


def clean_line(value, field: str, *, max_length: int, required: bool = True) -> str:
    """Single-line text: no line breaks of any kind (they end up in email
    headers and document lines), U+2028 and U+2029 included."""
    return clean_text(value, field, max_length=max_length, required=required, multiline=False)


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
        return check_tender_currency(value)
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
    return check_amount(money, field)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The window of every date billing takes (docs/api.md, Limits): nothing
# before 2000 (no ISP's history reaches back further) and nothing more than
# ten years ahead — 9999-12-31 and 0001-01-01 are typing errors or probes,
# and a date near the calendar's end overflows the first "+ 30 days".
DATE_EARLIEST = dt.date(2000, 1, 1)
DATE_AHEAD_DAYS = 3660


def clean_date(value, field: str, *, window: bool = True) -> dt.date:
    """A date, written YYYY-MM-DD (ISO 8601's extended form only: Python
    would also read 20261201 and 2026-W49-2), within the window above."""
    if isinstance(value, dt.datetime):
        raise InvalidInput("must be a date, not a date and time", field=field)
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"{value.strip()} is not a day of the calendar", field=field
            ) from None
    else:
        raise InvalidInput("must be a date in the form YYYY-MM-DD", field=field)
    latest = clock.today() + dt.timedelta(days=DATE_AHEAD_DAYS)
    if window and not DATE_EARLIEST <= day <= latest:
        raise InvalidInput(
            f"must be between {DATE_EARLIEST.isoformat()} and {latest.isoformat()}", field=field
        )
    return day


def clean_payment_date(value, field: str, *, not_before: dt.date | None = None) -> dt.date:
    """The day money was received: not in the future, at most
    PAYMENT_BACKDATE_DAYS ago, and not before ``not_before`` (the day the
    customer's account was opened)."""
    from django.conf import settings

    day = clean_date(value, field, window=False)  # the narrower window below
    today = clock.today()
    earliest = today - dt.timedelta(days=settings.PAYMENT_BACKDATE_DAYS)
    if not_before is not None:
        earliest = max(earliest, min(not_before, today))
    if day > today:
        raise InvalidInput("must not be in the future", field=field)
    if day < earliest:
        raise InvalidInput(
            f"must not be before {earliest.isoformat()} (at most {settings.PAYMENT_BACKDATE_DAYS} "
            "days ago, and not before the account was opened)",
            field=field,
        )
    return day


def clean_positive_int(value, field: str, *, maximum: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be a whole number", field=field)
    if not 1 <= value <= maximum:
        raise InvalidInput(f"must be between 1 and {maximum}", field=field)
    return value


def ip_address_problem(value: str, *, public_only: bool = False):
    """(address, None) for an address a service or a connection may use —
    IPv4-mapped IPv6 (``::ffff:10.0.0.5``) read as the IPv4 address it is —
    or (None, why not): loopback, unspecified (0.0.0.0, ::), multicast,
    link-local, broadcast and reserved addresses never; with
    ``public_only`` (an outbound connection) none but global addresses."""
    import ipaddress

    try:
        address = ipaddress.ip_address(value.strip() if isinstance(value, str) else value)
    except ValueError:
        return None, "must be an IPv4 or IPv6 address"
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for test, what in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_multicast", "a multicast address"),
        ("is_link_local", "a link-local address"),
        ("is_reserved", "a reserved or broadcast address"),
    ):
        if getattr(address, test):
            return None, f"{address} is {what}"
    if public_only and not address.is_global:
        return None, f"{address} is a private or internal address"
    return address, None


def clean_ip_address(value, field: str, *, public_only: bool = False) -> str:
    """An IP address as text in its normal form (see ip_address_problem)."""
    address, problem = ip_address_problem(value, public_only=public_only)
    if problem:
        raise InvalidInput(problem, field=field)
    return str(address)


def clean_id(value, field: str, *, required: bool = True) -> int | None:
    """A record's id as a door receives it (a form's text, a JSON number):
    a whole number from 1 up, or None when empty and not required."""
    if value in (None, ""):
        if required:
            raise InvalidInput("is required", field=field)
        return None
    if isinstance(value, bool):
        raise InvalidInput("must be a record's number", field=field)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**63 - 1:
        raise InvalidInput("must be a record's number", field=field)
    return int(text)
