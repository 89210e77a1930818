"""Billing-period arithmetic. PURE: dates in, dates out; no ORM, no clock.

Periods are half-open ranges [start, end): the end of one period is the start
of the next, so consecutive periods touch with no gap and no overlap.

Month arithmetic keeps the anchor day. History depends on this function: a
change here changes every future invoice date, so it is covered by tests for
anchors 28-31 across leap years (tests/core/test_periods.py).
"""

from __future__ import annotations

import calendar
import datetime as dt

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}


def add_months(day: dt.date, months: int, anchor_day: int) -> dt.date:
    """The date ``months`` after ``day``'s month, on ``anchor_day`` or the
    month's last day when it is shorter (Jan 31 -> Feb 28 -> Mar 31)."""
    if not 1 <= anchor_day <= 31:
        raise ValueError("anchor_day must be 1..31")
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(anchor_day, last))


def period_end(start: dt.date, cycle: str, anchor_day: int) -> dt.date:
    """Exclusive end of the period that starts on ``start``."""
    try:
        months = CYCLE_MONTHS[cycle]
    except KeyError:
        raise ValueError(f"cycle {cycle!r} has no recurring period") from None
    return add_months(start, months, anchor_day)


def inclusive_end(end_exclusive: dt.date) -> dt.date:
    """The last day in a half-open period, for display (12/01 – 12/31)."""
    return end_exclusive - dt.timedelta(days=1)


def on_anchor(day: dt.date, anchor_day: int) -> bool:
    return day == add_months(day, 0, anchor_day)


def next_anchor_after(day: dt.date, anchor_day: int) -> dt.date:
    candidate = add_months(day, 0, anchor_day)
    return candidate if candidate > day else add_months(day, 1, anchor_day)
