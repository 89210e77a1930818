"""Reports for billing staff and the accountant. Reads only; every figure
comes from the same ledger the services write (tests cross-check them:
the aging total equals the sum of open balances)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from isocnet.core.money import Money
from isocnet.invoicing.models import OPEN_STATUSES, CreditNote, Invoice, InvoiceLine, InvoiceStatus
from isocnet.ledger.sums import paid_and_credit_applied_by
from isocnet.payments.models import CallStatus, GatewayCall, Payment
from isocnet.subscriptions.models import Subscription, SubscriptionStatus

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
BUCKET_LABELS = {
    "current": "Current",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "Over 90 days",
}


def bucket_of(days_late: int) -> str:
    if days_late <= 0:
        return "current"
    if days_late <= 30:
        return "1-30"
    if days_late <= 60:
        return "31-60"
    if days_late <= 90:
        return "61-90"
    return "90+"


@dataclass
class AgingRow:
    customer_id: int
    account_number: str
    name: str
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


@dataclass
class Aging:
    as_of: dt.date
    currency: str
    rows: list[AgingRow]
    totals: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def money(self, minor: int) -> Money:
        return Money.from_minor(minor, self.currency)


def aging(as_of: dt.date, currency: str | None = None) -> Aging:
    """Open invoice balances today, by how long past due on ``as_of``."""
    currency = currency or settings.CURRENCY
    rows: dict[int, AgingRow] = {}
    totals = dict.fromkeys(BUCKETS, 0)
    invoices = (
        Invoice.objects.filter(status__in=OPEN_STATUSES, currency=currency, balance_minor__gt=0)
        .values_list(
            "customer_id", "customer__account_number", "customer__name", "due_date", "balance_minor"
        )
        .order_by("customer__account_number")
        .iterator(chunk_size=2000)
    )
    for customer_id, account, name, due, balance in invoices:
        row = rows.get(customer_id)
        if row is None:
            row = rows[customer_id] = AgingRow(customer_id, account, name)
        bucket = bucket_of((as_of - due).days)
        row.buckets[bucket] += balance
        totals[bucket] += balance
    return Aging(as_of=as_of, currency=currency, rows=list(rows.values()), totals=totals)


@dataclass
class RevenueRow:
    month: dt.date
    plan: str
    amount_minor: int


def revenue_by_month_and_plan(start: dt.date, end: dt.date) -> list[RevenueRow]:
    """What was invoiced (before tax) per month of issue and plan; one-time
    charges and adjustments on their own line. Void invoices excluded."""
    lines = (
        InvoiceLine.objects.filter(invoice__issue_date__gte=start, invoice__issue_date__lte=end)
        .exclude(invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .annotate(month=TruncMonth("invoice__issue_date"))
        .values("month", "subscription__plan__name", "kind")
        .annotate(amount=Sum("amount_minor"))
        .order_by("month", "subscription__plan__name", "kind")
    )
    merged: dict[tuple, int] = defaultdict(int)
    for row in lines:
        plan = row["subscription__plan__name"] or {
            "charge": "One-time charges",
            "adjustment": "Adjustments and opening balances",
        }.get(row["kind"], "Other")
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        merged[(month, plan)] += row["amount"]
    return [RevenueRow(m, p, a) for (m, p), a in sorted(merged.items())]


def revenue_by_month(start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    totals: dict[dt.date, int] = defaultdict(int)
    for row in revenue_by_month_and_plan(start, end):
        totals[row.month] += row.amount_minor
    return sorted(totals.items())


@dataclass
class PaymentDay:
    day: dt.date
    method: str
    count: int
    amount_minor: int


def payments_by_method_and_day(start: dt.date, end: dt.date) -> list[PaymentDay]:
    rows = (
        Payment.objects.filter(received_on__gte=start, received_on__lte=end)
        .values("received_on", "method")
        .annotate(n=Count("id"), amount=Sum("amount_minor"))
        .order_by("received_on", "method")
    )
    return [PaymentDay(r["received_on"], r["method"], r["n"], r["amount"]) for r in rows]


def deposit_list(day: dt.date, method: str = "check") -> list[Payment]:
    """The checks (or money orders) received on a day, for the bank deposit
    slip. Returned payments stay listed: they were deposited."""
    return list(
        Payment.objects.filter(received_on=day, method=method)
        .select_related("customer")
        .order_by("id")
    )


def failed_card_payments(start: dt.date, end: dt.date) -> list[GatewayCall]:
    return list(
        GatewayCall.objects.filter(
            kind=GatewayCall.Kind.CHARGE,
            status__in=[CallStatus.DECLINED, CallStatus.FAILED],
            created_at__date__gte=start,
            created_at__date__lte=end,
        )
        .select_related("customer", "invoice", "card")
        .order_by("-created_at")
    )


def upcoming_renewals(start: dt.date, days: int) -> list[Subscription]:
    end = start + dt.timedelta(days=days)
    return list(
        Subscription.objects.filter(
            next_due_date__gte=start,
            next_due_date__lte=end,
            status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING],
        )
        .filter(Q(cancellation_date__isnull=True) | Q(cancellation_date__gt=end))
        .select_related("customer", "plan")
        .order_by("next_due_date", "customer__account_number")
    )


def renewal_amount(subscription: Subscription) -> Money:
    unit = (
        subscription.price_override_minor
        if subscription.price_override_minor is not None
        else subscription.plan.price_minor
    )
    return Money.from_minor(unit * subscription.quantity, subscription.customer.currency)


def receivables_at(day: dt.date, currency: str | None = None) -> int:
    """What customers owed at the end of ``day`` (minor units): invoices
    issued by then, less what had been paid, credited and applied by then.
    A returned payment counts until it was returned; a voided invoice not
    at all once voided. Today it equals the aging total."""
    from django.utils import timezone

    currency = currency or settings.CURRENCY
    end = timezone.make_aware(dt.datetime.combine(day, dt.time.max))
    invoices = (
        Invoice.objects.filter(currency=currency, issue_date__lte=day)
        .exclude(status=InvoiceStatus.DRAFT)
        .exclude(voided_at__lte=end)
    )
    total = invoices.aggregate(s=Sum("total_minor"))["s"] or 0
    paid, credit = paid_and_credit_applied_by(invoices, end)
    noted = (
        CreditNote.objects.filter(invoice__in=invoices, issue_date__lte=day).aggregate(
            s=Sum("applied_minor")
        )["s"]
        or 0
    )
    return total - paid - credit - noted


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The last day of each month from ``start`` to ``end`` (``end`` itself
    for the month not yet over)."""
    days = []
    month = start.replace(day=1)
    while month <= end:
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        days.append(min(following - dt.timedelta(days=1), end))
        month = following
    return days
