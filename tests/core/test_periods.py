import calendar
import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isocnet.core.periods import add_months, inclusive_end, period_end

D = dt.date


def walk(start: D, cycle: str, count: int) -> list[D]:
    """Period starts from ``start``, as the billing run will step them."""
    starts = [start]
    for _ in range(count):
        starts.append(period_end(starts[-1], cycle, start.day))
    return starts


def test_monthly_from_the_31st_keeps_the_anchor():
    assert walk(D(2026, 1, 31), "monthly", 5) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
        D(2026, 6, 30),
    ]


def test_leap_year_february():
    assert walk(D(2028, 1, 29), "monthly", 2) == [D(2028, 1, 29), D(2028, 2, 29), D(2028, 3, 29)]
    assert walk(D(2027, 1, 30), "monthly", 2) == [D(2027, 1, 30), D(2027, 2, 28), D(2027, 3, 30)]
    assert walk(D(2028, 1, 31), "monthly", 2) == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [
        (
            "quarterly",
            [D(2026, 11, 30), D(2027, 2, 28), D(2027, 5, 30), D(2027, 8, 30), D(2027, 11, 30)],
        ),
        ("semiannual", [D(2026, 8, 31), D(2027, 2, 28), D(2027, 8, 31), D(2028, 2, 29)]),
        (
            "annual",
            [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 29)],
        ),
    ],
)
def test_longer_cycles(cycle, expected):
    assert walk(expected[0], cycle, len(expected) - 1) == expected


def test_period_display_end_is_the_last_day():
    assert inclusive_end(period_end(D(2026, 12, 1), "monthly", 1)) == D(2026, 12, 31)


def test_one_time_has_no_period():
    with pytest.raises(ValueError):
        period_end(D(2026, 1, 1), "one_time", 1)


@given(
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
    cycle=st.sampled_from(["monthly", "quarterly", "semiannual", "annual"]),
)
def test_periods_touch_never_drift_and_land_on_the_anchor(start, cycle):
    starts = walk(start, cycle, 40)
    for earlier, later in itertools.pairwise(starts):
        assert later > earlier  # no overlap, no empty period
        # on the anchor day, or the month's last day when the month is shorter
        assert later.day == min(start.day, calendar.monthrange(later.year, later.month)[1])
    # never drifts: the n-th start is computed from the anchor, not from its predecessor
    months = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[cycle]
    assert starts[-1] == add_months(start, 40 * months, start.day)
