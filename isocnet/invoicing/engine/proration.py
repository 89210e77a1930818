"""Proration of mid-period changes. PURE.

Exact fractions of days, rounded once per amount (HALF_UP, minor unit).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from isocnet.core.money import Money
from isocnet.core.periods import CYCLE_MONTHS, add_months


def unused_part(
    *, billed: Money, period_start: dt.date, period_end: dt.date, today: dt.date
) -> Money:
    """What the customer paid for the days from ``today`` to the end of a
    billed period [period_start, period_end)."""
    days = (period_end - period_start).days
    remaining = (period_end - max(today, period_start)).days
    if remaining <= 0 or days <= 0:
        return Money.zero(billed.currency)
    return Money(billed.amount * Decimal(remaining) / Decimal(days), billed.currency).quantize()


def remainder_charge(
    *,
    unit_price: Money,
    quantity: int,
    period_end: dt.date,
    cycle: str,
    anchor_day: int,
    today: dt.date,
) -> Money:
    """The new price for the days from ``today`` to ``period_end``, as a part
    of the full period that ends on ``period_end``."""
    full_start = add_months(period_end, -CYCLE_MONTHS[cycle], anchor_day)
    full_days = (period_end - full_start).days
    remaining = (period_end - today).days
    if remaining <= 0:
        return Money.zero(unit_price.currency)
    return Money(
        unit_price.amount * quantity * Decimal(remaining) / Decimal(full_days), unit_price.currency
    ).quantize()
