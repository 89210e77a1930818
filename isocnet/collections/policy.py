"""The collections policy as one table of steps, days relative to the due
date: the reminder, three notices, the late fee, suspension (and, at once
when paid, reactivation), and the card retry schedule.

``current()`` reads it: the row a billing manager saved in the back office,
or, until then, the settings (REMINDER_DAYS_BEFORE_DUE, OVERDUE_NOTICE_DAYS,
SUSPEND_AFTER_DAYS, SUSPENSION_WARNING_DAYS, COLLECTION_RETRY_DAYS,
LATE_FEE_*). ``policy_update`` is the one writer, audited."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction

from isocnet.catalog.models import TaxRate
from isocnet.collections.models import CollectionsPolicy, LateFeeOn, LateFeeRepeat
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_changes
from isocnet.core.errors import InvalidInput
from isocnet.core.money import Money
from isocnet.core.periods import add_months
from isocnet.core.permissions import require


@dataclass(frozen=True)
class Policy:
    reminder_days_before_due: int
    notice_days: tuple[int, int, int]
    suspend_after_days: int
    suspension_warning_days: int
    card_retry_days: tuple[int, ...]
    late_fee_flat: Decimal = Decimal(0)
    late_fee_percent: Decimal = Decimal(0)
    late_fee_min: Decimal = Decimal(0)
    late_fee_max: Decimal = Decimal(0)
    late_fee_cap_percent: Decimal = Decimal(0)
    late_fee_grace_days: int = 10
    late_fee_repeat: str = LateFeeRepeat.ONCE
    late_fee_on: str = LateFeeOn.NEXT_INVOICE
    late_fee_tax_rate_id: int | None = None
    promise_max_days: int = 14
    portal_promises_max: int = 2
    portal_promises_days: int = 90

    @property
    def late_fees(self) -> bool:
        return bool(self.late_fee_flat or self.late_fee_percent)

    @property
    def suspension_days(self) -> int:
        """Days after due that services are suspended: never before the
        final notice has had the warning days."""
        return max(self.suspend_after_days, self.notice_days[-1] + self.suspension_warning_days)

    def suspension_date(self, due_date: dt.date) -> dt.date:
        return due_date + dt.timedelta(days=self.suspension_days)

    def late_fee_date(self, due_date: dt.date, sequence: int = 0) -> dt.date:
        """The day fee number ``sequence`` is charged (monthly: a month apart)."""
        first = due_date + dt.timedelta(days=self.late_fee_grace_days)
        return add_months(first, sequence, first.day)

    def late_fee_amount(self, base: Money) -> Money:
        """The fee on an overdue balance ``base``: flat + percent, raised to
        the minimum, lowered to the maximum, and never above the cap
        percent of the balance (a cap is the law's, so it wins over the
        minimum). Rounded half up to the cent."""
        cur = base.currency
        fee = _money(self.late_fee_flat, cur) + (base * (self.late_fee_percent / 100)).quantize()
        if self.late_fee_min:
            fee = max(fee, _money(self.late_fee_min, cur))
        if self.late_fee_max:
            fee = min(fee, _money(self.late_fee_max, cur))
        if self.late_fee_cap_percent:
            fee = min(fee, (base * (self.late_fee_cap_percent / 100)).quantize())
        return max(fee, Money.zero(cur))

    def steps(self) -> list[tuple[int | str, str]]:
        """The policy as a table: (day relative to due, what happens)."""
        rows: list[tuple[int | str, str]] = []
        if self.reminder_days_before_due:
            rows.append((-self.reminder_days_before_due, "Reminder (check payers)"))
        rows.append((0, "Due; auto debit charges the card"))
        for n in range(1, len(self.card_retry_days) + 1):
            rows.append((sum(self.card_retry_days[:n]), f"Card retry {n} (auto debit declined)"))
        for n, days in enumerate(self.notice_days, start=1):
            rows.append((days, "Final notice" if n == 3 else f"Overdue notice {n}"))
        if self.late_fees:
            what = "Late fee" + (", then monthly" if self.late_fee_repeat == "monthly" else "")
            rows.append((self.late_fee_grace_days, what))
        rows.append((self.suspension_days, "Suspension for non-payment"))
        rows.sort(key=lambda r: r[0])
        rows.append(("—", "Reactivation: at once when nothing is past its suspension date"))
        return rows


def _money(value: Decimal, currency: str) -> Money:
    return Money(Decimal(value), currency).quantize()


def _from_settings() -> Policy:
    return Policy(
        reminder_days_before_due=settings.REMINDER_DAYS_BEFORE_DUE,
        notice_days=tuple(settings.OVERDUE_NOTICE_DAYS),
        suspend_after_days=settings.SUSPEND_AFTER_DAYS,
        suspension_warning_days=settings.SUSPENSION_WARNING_DAYS,
        card_retry_days=tuple(settings.COLLECTION_RETRY_DAYS),
        late_fee_flat=Decimal(settings.LATE_FEE_FLAT),
        late_fee_percent=Decimal(settings.LATE_FEE_PERCENT),
        late_fee_min=Decimal(settings.LATE_FEE_MIN),
        late_fee_max=Decimal(settings.LATE_FEE_MAX),
        late_fee_cap_percent=Decimal(settings.LATE_FEE_CAP_PERCENT),
        late_fee_grace_days=settings.LATE_FEE_GRACE_DAYS,
        late_fee_repeat=settings.LATE_FEE_REPEAT,
        late_fee_on=settings.LATE_FEE_ON,
        late_fee_tax_rate_id=None,
        promise_max_days=settings.PROMISE_MAX_DAYS,
        portal_promises_max=settings.PORTAL_PROMISES_MAX,
        portal_promises_days=settings.PORTAL_PROMISES_DAYS,
    )


def _from_row(row: CollectionsPolicy) -> Policy:
    return Policy(
        reminder_days_before_due=row.reminder_days_before_due,
        notice_days=(row.notice_1_days, row.notice_2_days, row.notice_3_days),
        suspend_after_days=row.suspend_after_days,
        suspension_warning_days=row.suspension_warning_days,
        card_retry_days=tuple(int(x) for x in row.card_retry_days.split(",") if x.strip()),
        late_fee_flat=Decimal(row.late_fee_flat or 0),
        late_fee_percent=Decimal(row.late_fee_percent),
        late_fee_min=Decimal(row.late_fee_min or 0),
        late_fee_max=Decimal(row.late_fee_max or 0),
        late_fee_cap_percent=Decimal(row.late_fee_cap_percent),
        late_fee_grace_days=row.late_fee_grace_days,
        late_fee_repeat=row.late_fee_repeat,
        late_fee_on=row.late_fee_on,
        late_fee_tax_rate_id=row.late_fee_tax_rate_id,
        promise_max_days=row.promise_max_days,
        portal_promises_max=row.portal_promises_max,
        portal_promises_days=row.portal_promises_days,
    )


_pinned: contextvars.ContextVar[Policy | None] = contextvars.ContextVar("policy", default=None)


def current() -> Policy:
    """The policy in force: the saved one, else the settings' (or the one
    pinned for a run's duration)."""
    policy = _pinned.get()
    if policy is not None:
        return policy
    row = CollectionsPolicy.objects.filter(pk=1).first()
    return _from_row(row) if row else _from_settings()


@contextlib.contextmanager
def pinned():
    """Read the policy once for a run's steps (one day's collections, a
    timeline): every ``current()`` inside answers the same."""
    token = _pinned.set(current())
    try:
        yield _pinned.get()
    finally:
        _pinned.reset(token)


# What a billing manager may change, with its type.
_DAYS = (
    "reminder_days_before_due",
    "suspend_after_days",
    "suspension_warning_days",
    "late_fee_grace_days",
    "promise_max_days",
    "portal_promises_max",
    "portal_promises_days",
)
_AMOUNTS = ("late_fee_flat", "late_fee_min", "late_fee_max")
_PERCENTS = ("late_fee_percent", "late_fee_cap_percent")


def policy_clean(changes: dict) -> dict:
    """Check a change of the policy: a clear error naming the field."""
    out = {}
    for name, value in changes.items():
        if name in _DAYS:
            out[name] = _days(value, name)
        elif name == "notice_days":
            days = [_days(v, name) for v in (value or [])]
            if len(days) != 3 or days != sorted(set(days)) or days[0] < 1:
                raise InvalidInput(
                    "must be three increasing numbers of days, e.g. 1, 7, 14", field=name
                )
            out[name] = tuple(days)
        elif name == "card_retry_days":
            days = [_days(v, name) for v in (value or [])]
            if any(d < 1 for d in days) or len(days) > 10:
                raise InvalidInput(
                    "must be at most ten whole numbers of days, each at least 1", field=name
                )
            out[name] = tuple(days)
        elif name in _AMOUNTS:
            out[name] = _amount(value, name)
        elif name in _PERCENTS:
            out[name] = _percent(value, name)
        elif name == "late_fee_repeat":
            if value not in LateFeeRepeat.values:
                raise InvalidInput(f"must be one of {', '.join(LateFeeRepeat.values)}", field=name)
            out[name] = value
        elif name == "late_fee_on":
            if value not in LateFeeOn.values:
                raise InvalidInput(f"must be one of {', '.join(LateFeeOn.values)}", field=name)
            out[name] = value
        elif name == "late_fee_tax_rate_id":
            if value is not None and not TaxRate.objects.filter(pk=value, active=True).exists():
                raise InvalidInput("names no active tax rate", field=name)
            out[name] = value
        else:
            raise InvalidInput("is not a setting of the collections policy", field=name)
    return out


def _days(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
        raise InvalidInput("must be a whole number of days from 0 to 365", field=field)
    return value


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("must be an amount such as 5.00", field=field) from None
    if (
        not amount.is_finite()
        or amount < 0
        or amount > Decimal(settings.AMOUNT_LIMIT)
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidInput("must be an amount such as 5.00 (0 for none)", field=field)
    return amount


def _percent(value, field: str) -> Decimal:
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("must be a percent such as 1.5", field=field) from None
    if (
        not percent.is_finite()
        or not 0 <= percent <= 100
        or percent != percent.quantize(Decimal("0.001"))
    ):
        raise InvalidInput("must be a percent from 0 to 100, e.g. 1.5", field=field)
    return percent


def policy_update(*, actor: Actor, **changes) -> Policy:
    """Change the collections policy (billing managers). Audited with what
    changed; the next daily run follows it."""
    require(actor, "policy.edit")
    clean = policy_clean(changes)
    with transaction.atomic():
        # the saved row locked first, so two managers' changes never overwrite each other
        row = CollectionsPolicy.objects.select_for_update().filter(pk=1).first()
        before = _from_row(row) if row else _from_settings()
        after = dataclasses.replace(before, **clean)
        if after.late_fee_min and after.late_fee_max and after.late_fee_min > after.late_fee_max:
            raise InvalidInput(
                f"the minimum fee ({after.late_fee_min:f}) is above the maximum "
                f"({after.late_fee_max:f})",
                field="late_fee_min" if "late_fee_min" in clean else "late_fee_max",
            )
        if after.portal_promises_days < 1:
            raise InvalidInput("must be at least 1 day", field="portal_promises_days")
        if row is not None and after == before:
            return before  # nothing changed: nothing to write or audit
        row = row or CollectionsPolicy(pk=1)
        _write_row(row, after)
        row.updated_at = clock.now()
        row.updated_by = actor.label
        row.save()
        audit_changes(
            actor=actor,
            action="collections_policy.update",
            obj=row,
            customer_id=None,
            before=_audit_view(before),
            after=_audit_view(after),
        )
    return after


def _write_row(row: CollectionsPolicy, policy: Policy) -> None:
    row.reminder_days_before_due = policy.reminder_days_before_due
    row.notice_1_days, row.notice_2_days, row.notice_3_days = policy.notice_days
    row.suspend_after_days = policy.suspend_after_days
    row.suspension_warning_days = policy.suspension_warning_days
    row.card_retry_days = ",".join(str(d) for d in policy.card_retry_days)
    row.late_fee_flat = f"{policy.late_fee_flat:f}"
    row.late_fee_percent = policy.late_fee_percent
    row.late_fee_min = f"{policy.late_fee_min:f}"
    row.late_fee_max = f"{policy.late_fee_max:f}"
    row.late_fee_cap_percent = policy.late_fee_cap_percent
    row.late_fee_grace_days = policy.late_fee_grace_days
    row.late_fee_repeat = policy.late_fee_repeat
    row.late_fee_on = policy.late_fee_on
    row.late_fee_tax_rate_id = policy.late_fee_tax_rate_id
    row.promise_max_days = policy.promise_max_days
    row.portal_promises_max = policy.portal_promises_max
    row.portal_promises_days = policy.portal_promises_days


def _audit_view(policy: Policy) -> dict:
    return {
        k: (list(v) if isinstance(v, tuple) else (f"{v:f}" if isinstance(v, Decimal) else v))
        for k, v in dataclasses.asdict(policy).items()
    }
