"""How money and dates look on documents and in emails (Babel, CLDR)."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date as babel_format_date
from django.conf import settings

from isocnet.core.money import Money


def money(value: Money) -> str:
    """$1,234.50 — the currency's symbol and digits, in the provider's locale."""
    return value.format(locale=settings.DOCUMENT_LOCALE)


def date(value: dt.date | None) -> str:
    """December 1, 2026 (DOCUMENT_DATE_FORMAT: short, medium, long, full or a
    CLDR pattern such as MM/dd/yyyy)."""
    if value is None:
        return ""
    return babel_format_date(
        value, format=settings.DOCUMENT_DATE_FORMAT, locale=settings.DOCUMENT_LOCALE
    )


def short_date(value: dt.date | None) -> str:
    """12/01/2026, for periods in line descriptions and tables."""
    if value is None:
        return ""
    return babel_format_date(value, format="MM/dd/yyyy", locale=settings.DOCUMENT_LOCALE)


def quantity(value) -> str:
    """1, 2.5 — a quantity without trailing zeros (never 1.0000)."""
    return f"{value.normalize():f}"
