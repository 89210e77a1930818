"""What is due: subscriptions in, draft invoice lines out. PURE: no ORM,
no clock; the caller passes the date.

Rules (issue #3):
- a subscription is billed for each period whose start (its next due date)
  falls on or before ``date + lead_days``; periods missed earlier are caught
  up, one line each;
- billing is in advance: a period's line is due on the period's start;
- a period not starting on the anchor day (a mid-cycle start with a fixed
  billing day) is a stub that ends at the next anchor date and is prorated
  by days: price x days in stub / days in the full period it belongs to,
  computed exactly and rounded once, on the line;
- the setup fee is charged with the first period;
- one-time plans are billed once; their next due date becomes None;
- a service cancelled at period end is billed up to its cancellation date,
  not after; it is then ended (``ends`` in the result).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from isocnet.core.money import Money
from isocnet.core.periods import (
    CYCLE_MONTHS,
    add_months,
    inclusive_end,
    next_anchor_after,
    on_anchor,
)
from isocnet.invoicing.engine.totals import TaxKey

MAX_CATCH_UP_PERIODS = 60


@dataclass(frozen=True)
class SubscriptionState:
    id: int
    plan_name: str
    description: str
    cycle: str  # monthly ... one_time
    unit_price: Money
    quantity: int
    setup_fee: Money
    taxes: tuple[TaxKey, ...]
    start_date: dt.date
    next_due_date: dt.date | None
    anchor_day: int
    status: str  # pending / active (others are not billed)
    cancel_at: dt.date | None = None  # cancellation at period end takes effect on this date


@dataclass(frozen=True)
class DraftLine:
    subscription_id: int | None
    kind: str  # service, setup_fee, charge, proration
    description: str
    quantity: Decimal
    unit_price: Money
    taxes: tuple[TaxKey, ...]
    period_start: dt.date | None = None
    period_end: dt.date | None = None  # exclusive
    due_date: dt.date | None = None
    charge_id: int | None = None


@dataclass
class SubscriptionOutcome:
    subscription_id: int
    lines: list[DraftLine] = field(default_factory=list)
    next_due_date: dt.date | None = None
    ends: bool = False  # cancelled at period end: set status cancelled
    activates: bool = False  # pending whose start has come
    anomaly: str | None = None


def period_for(start: dt.date, cycle: str, anchor_day: int) -> tuple[dt.date, Decimal]:
    """(exclusive end, proration factor) of the period starting on ``start``."""
    months = CYCLE_MONTHS[cycle]
    if on_anchor(start, anchor_day):
        return add_months(start, months, anchor_day), Decimal(1)
    end = next_anchor_after(start, anchor_day)
    full_start = add_months(end, -months, anchor_day)
    return end, Decimal((end - start).days) / Decimal((end - full_start).days)


def _fmt(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def period_suffix(start: dt.date, end: dt.date) -> str:
    """What ``describe`` appends for a billed period [start, end)."""
    return f" ({_fmt(start)} – {_fmt(inclusive_end(end))})"


def describe(
    state: SubscriptionState, start: dt.date | None = None, end: dt.date | None = None
) -> str:
    label = f"{state.plan_name} — {state.description}" if state.description else state.plan_name
    if start is None:
        return label
    return label + period_suffix(start, end)


def due_lines(state: SubscriptionState, *, date: dt.date, lead_days: int) -> SubscriptionOutcome:
    outcome = SubscriptionOutcome(subscription_id=state.id, next_due_date=state.next_due_date)
    if state.status not in ("active", "pending") or state.next_due_date is None:
        return outcome
    horizon = date + dt.timedelta(days=lead_days)
    if state.status == "pending" and state.start_date <= date:
        outcome.activates = True
    current = state.next_due_date
    first = current == state.start_date
    if state.cycle == "one_time":
        if current <= horizon:
            outcome.lines.append(
                DraftLine(
                    state.id,
                    "service",
                    describe(state),
                    Decimal(state.quantity),
                    state.unit_price,
                    state.taxes,
                    due_date=current,
                )
            )
            if state.setup_fee:
                outcome.lines.append(_setup_line(state, current))
            outcome.next_due_date = None
        return outcome
    periods = 0
    while current <= horizon:
        if state.cancel_at is not None and current >= state.cancel_at:
            outcome.ends = True
            break
        end, factor = period_for(current, state.cycle, state.anchor_day)
        if state.cancel_at is not None and end > state.cancel_at:
            # a cancellation inside a period is billed to that date
            end = state.cancel_at
            full_end, _ = period_for(current, state.cycle, state.anchor_day)
            full_start = add_months(full_end, -CYCLE_MONTHS[state.cycle], state.anchor_day)
            factor = Decimal((end - current).days) / Decimal((full_end - full_start).days)
        price = (
            state.unit_price
            if factor == 1
            else Money(state.unit_price.amount * factor, state.unit_price.currency)
        )
        outcome.lines.append(
            DraftLine(
                state.id,
                "service" if factor == 1 else "proration",
                describe(state, current, end),
                Decimal(state.quantity),
                price,
                state.taxes,
                period_start=current,
                period_end=end,
                due_date=current,
            )
        )
        if first and state.setup_fee:
            outcome.lines.append(_setup_line(state, current))
            first = False
        current = end
        periods += 1
        if periods >= MAX_CATCH_UP_PERIODS:
            outcome.anomaly = f"more than {MAX_CATCH_UP_PERIODS} periods to catch up"
            break
    else:
        if state.cancel_at is not None and current >= state.cancel_at:
            outcome.ends = True
    outcome.next_due_date = current
    return outcome


def _setup_line(state: SubscriptionState, due: dt.date) -> DraftLine:
    return DraftLine(
        state.id,
        "setup_fee",
        f"Setup fee — {describe(state)}",
        Decimal(1),
        state.setup_fee,
        state.taxes,
        due_date=due,
    )
