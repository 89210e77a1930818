"""What the billing run would invoice a customer on a date: the plan. Reads
only, so the dry run and the real run share it (billing_run.py executes it
under the customer's lock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from isocnet.catalog.models import Plan
from isocnet.core.limits import LINES_MAX, amount_max
from isocnet.core.money import CurrencyMismatch, Money
from isocnet.customers.models import Customer
from isocnet.invoicing.engine.generator import (
    DraftLine,
    SubscriptionOutcome,
    SubscriptionState,
    due_lines,
)
from isocnet.invoicing.engine.totals import (
    TaxKey,
    Totals,
    compute_totals,
    line_amount,
    tax_keys_from_json,
    tax_keys_to_json,
)
from isocnet.invoicing.models import (
    Charge,
    Invoice,
    InvoiceLine,
)
from isocnet.invoicing.terms import earliest_due_date
from isocnet.ledger.sums import available_credit_minor
from isocnet.subscriptions.models import Subscription, SubscriptionStatus

BILLABLE = Q(status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING]) | Q(
    status=SubscriptionStatus.SUSPENDED, suspended_for_nonpayment=True
)


@dataclass
class CustomerPlan:
    customer: Customer
    outcomes: list[SubscriptionOutcome] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    lines: list[DraftLine] = field(default_factory=list)
    amounts: list[Money] = field(default_factory=list)
    totals: Totals | None = None
    due_date: dt.date | None = None
    credit: Money | None = None
    refusal: str | None = None

    @property
    def has_invoice(self) -> bool:
        return bool(self.lines) and self.refusal is None

    def as_preview(self) -> dict:
        return {
            "customer": self.customer.pk,
            "account_number": self.customer.account_number,
            "name": self.customer.name,
            "refused": self.refusal,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "lines": [
                {"description": line.description, "amount": amount.as_string()}
                for line, amount in zip(self.lines, self.amounts, strict=True)
            ],
            "subtotal": self.totals.subtotal.as_string() if self.totals else None,
            "taxes": [
                {
                    "name": t.key.name,
                    "percent": f"{t.key.percent.normalize():f}",
                    "taxable": t.taxable.as_string(),
                    "amount": t.tax.as_string(),
                }
                for t in (self.totals.taxes if self.totals else ())
            ],
            "tax": self.totals.tax_total.as_string() if self.totals else None,
            "total": self.totals.total.as_string() if self.totals else None,
            "credit_applied": self.credit.as_string() if self.credit else None,
            "email": "Customer Invoice" if self.has_invoice else None,
        }


def billable_services(customers: dict[int, Customer]) -> dict[int, list[Subscription]]:
    """The billable services of these customers (by id), each customer's in
    id order, ready for plan_draft: one Plan instance per plan with its tax
    rates read once, and the customer already at hand (a batch's thousand
    services share a handful of plans: no join, no Plan built per row)."""
    subs = list(
        Subscription.objects.filter(
            BILLABLE, customer_id__in=list(customers), next_due_date__isnull=False
        ).order_by("customer_id", "id")
    )
    plans = {
        plan.pk: plan
        for plan in Plan.objects.filter(pk__in={s.plan_id for s in subs}).prefetch_related(
            "tax_rates"
        )
    }
    plan_field, customer_field = Subscription.plan.field, Subscription.customer.field
    by_customer: dict[int, list[Subscription]] = {pk: [] for pk in customers}
    for sub in subs:
        plan_field.set_cached_value(sub, plans[sub.plan_id])
        customer_field.set_cached_value(sub, customers[sub.customer_id])
        by_customer[sub.customer_id].append(sub)
    return by_customer


def _plan_taxes(plan) -> tuple[TaxKey, ...]:
    """The plan's active tax rates as keys, worked out once per Plan instance
    (billable_services shares one among a batch's services)."""
    keys = plan.__dict__.get("_isocnet_tax_keys")
    if keys is None:
        keys = tuple(TaxKey(t.name, t.rate) for t in plan.tax_rates.all() if t.active)
        plan.__dict__["_isocnet_tax_keys"] = keys
    return keys


def _state(sub: Subscription) -> SubscriptionState:
    return SubscriptionState(
        id=sub.pk,
        plan_name=sub.plan.name,
        description=sub.description,
        cycle=sub.plan.cycle,
        unit_price=sub.unit_price,
        quantity=sub.quantity,
        setup_fee=sub.plan.setup_fee,
        taxes=_plan_taxes(sub.plan),
        start_date=sub.start_date,
        next_due_date=sub.next_due_date,
        anchor_day=sub.anchor_day,
        # suspended for non-payment is still billed (the contract runs on)
        status="active" if sub.status == SubscriptionStatus.SUSPENDED else sub.status,
        cancel_at=sub.cancellation_date if sub.cancel_at_period_end else None,
    )


def _charge_line(charge: Charge) -> DraftLine:
    return DraftLine(
        subscription_id=charge.subscription_id,
        kind=charge.kind,
        description=charge.description,
        quantity=charge.quantity,
        unit_price=Money.from_minor(charge.unit_price_minor, charge.currency),
        taxes=tax_keys_from_json(charge.taxes),
        period_start=charge.period_start,
        period_end=charge.period_end,
        charge_id=charge.pk,
    )


def customer_plan(customer: Customer, date: dt.date) -> CustomerPlan:
    """What the run would invoice this customer on ``date``. Reads only."""
    subs = billable_services({customer.pk: customer})[customer.pk]
    charges = Charge.objects.filter(customer=customer, invoice_line__isnull=True).order_by("id")
    plan = plan_draft(customer, date, subs=subs, charges=charges)
    if plan.lines and plan.refusal is None:
        plan.refusal = plan_gate(plan, billed=billed_periods(plan_periods(plan)))
    if plan.refusal is None and plan.lines and settings.AUTO_APPLY_CREDIT:
        plan.credit = min(
            Money.from_minor(available_credit_minor(customer.pk), customer.currency),
            plan.totals.total,
        )
    return plan


def plan_draft(
    customer: Customer, date: dt.date, *, subs: Iterable[Subscription], charges: Iterable[Charge]
) -> CustomerPlan:
    """The pure part of the plan, from the customer's billable services (in
    id order, plans and tax rates loaded) and pending charges: the lines,
    totals and due date, or the currency refusal. The gates (plan_gate) and
    the credit come after."""
    plan = CustomerPlan(customer=customer)
    plan.outcomes = [
        due_lines(_state(s), date=date, lead_days=settings.INVOICE_LEAD_DAYS) for s in subs
    ]
    plan.charges = list(charges)
    for outcome in plan.outcomes:
        for line in outcome.lines:
            plan.lines.append(line)
            plan.amounts.append(line_amount(line.quantity, line.unit_price))
    for charge in plan.charges:
        plan.lines.append(_charge_line(charge))
        plan.amounts.append(Money.from_minor(charge.amount_minor, charge.currency))
    if not plan.lines:
        return plan
    try:
        plan.totals = compute_totals(
            zip(plan.amounts, [line.taxes for line in plan.lines], strict=True),
            customer.currency,
            tax_exempt=customer.tax_exempt,
        )
    except CurrencyMismatch as exc:
        plan.refusal = f"a service is priced in another currency than the customer's: {exc}"
        return plan
    dues = [line.due_date for line in plan.lines if line.due_date]
    due = min(dues) if dues else date + dt.timedelta(days=settings.PAYMENT_TERMS_DAYS)
    plan.due_date = max(due, earliest_due_date(customer, date))
    return plan


def plan_periods(plan: CustomerPlan) -> list[tuple[int, dt.date]]:
    """The (service, period start) pairs the plan would bill."""
    return [
        (ln.subscription_id, ln.period_start)
        for ln in plan.lines
        if ln.period_start and ln.kind in ("service", "proration")
    ]


def billed_periods(periods: Iterable[tuple[int, dt.date]]) -> set[tuple[int, dt.date]]:
    """Which of these (service, period start) pairs an invoice already bills;
    one query for any number of pairs."""
    periods = set(periods)
    if not periods:
        return set()
    billed = InvoiceLine.objects.filter(
        subscription_id__in={s for s, _ in periods},
        period_start__in={p for _, p in periods},
        kind__in=["service", "proration"],
    ).values_list("subscription_id", "period_start")
    return set(billed) & periods


def plan_gate(plan: CustomerPlan, *, billed: set[tuple[int, dt.date]]) -> str | None:
    """The anomaly gates: reasons not to issue, reported to staff. ``billed``:
    the pairs of plan_periods(plan) already billed (billed_periods)."""
    for outcome in plan.outcomes:
        if outcome.anomaly:
            return f"service {outcome.subscription_id}: {outcome.anomaly}"
    duplicate = billed & set(plan_periods(plan))
    if duplicate:
        sub_id, start = sorted(duplicate)[0]
        return f"service {sub_id}: the period from {start:%m/%d/%Y} is already billed"
    if plan.totals.total.amount <= 0 and not settings.ALLOW_ZERO_INVOICES:
        return f"the invoice total would be {plan.totals.total.as_string()} (zero or negative)"
    limit = amount_max(plan.totals.total.currency)
    if plan.totals.total > limit or len(plan.lines) > LINES_MAX:
        return (
            f"the invoice would be {plan.totals.total.as_string()} on {len(plan.lines)} lines, "
            f"beyond the limits ({limit.as_string()}, {LINES_MAX} lines)"
        )
    return None


# -- what executing a plan writes (the one-by-one and the batch path alike) --


def plan_invoice(plan: CustomerPlan, *, run, now: dt.datetime) -> Invoice:
    """The draft invoice, unsaved, with the plan's totals (issuing numbers it,
    snapshots the customer and applies credit)."""
    totals = plan.totals
    return Invoice(
        customer=plan.customer,
        currency=plan.customer.currency,
        due_date=plan.due_date,
        created_at=now,
        billing_run=run,
        subtotal_minor=totals.subtotal.minor(),
        tax_minor=totals.tax_total.minor(),
        total_minor=totals.total.minor(),
        balance_minor=totals.total.minor(),
    )


# The columns of an invoice's lines as the batch path writes them
# (core.bulk.rows_write), and the tuples of one plan's lines.
LINE_FIELDS = (
    "invoice_id",
    "position",
    "kind",
    "description",
    "subscription_id",
    "period_start",
    "period_end",
    "quantity",
    "unit_price_minor",
    "taxes",
    "amount_minor",
)


def plan_line_tuples(plan: CustomerPlan, invoice_id: int) -> list[tuple]:
    """The invoice's lines, numbered from 1, as tuples of LINE_FIELDS."""
    return [
        (
            invoice_id,
            i,
            line.kind,
            line.description[:300],
            line.subscription_id,
            line.period_start,
            line.period_end,
            line.quantity,
            line.unit_price.quantize().minor(),
            tax_keys_to_json(line.taxes),
            amount.minor(),
        )
        for i, (line, amount) in enumerate(zip(plan.lines, plan.amounts, strict=True), start=1)
    ]


def plan_line_rows(plan: CustomerPlan, invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines, unsaved, numbered from 1 (the one-by-one path)."""
    return [
        InvoiceLine(**dict(zip(LINE_FIELDS, row, strict=True)))
        for row in plan_line_tuples(plan, invoice.pk)
    ]


def service_changes(plan: CustomerPlan, subs: dict[int, Subscription]):
    """How billing moves each of the plan's services on: (the service, the
    columns to update, the audit's before, its after), for those that change.
    ``subs``: the plan's services by id."""
    for outcome in plan.outcomes:
        sub = subs[outcome.subscription_id]
        before = {"next_due_date": str(sub.next_due_date), "status": sub.status}
        changes: dict = {}
        if outcome.lines:
            changes["next_due_date"] = outcome.next_due_date
        if outcome.activates:
            changes["status"] = SubscriptionStatus.ACTIVE
        if outcome.ends:
            changes.update(status=SubscriptionStatus.CANCELLED, cancel_at_period_end=False)
        shown = {k: str(v) if k == "next_due_date" else v for k, v in changes.items()}
        after = {**before, **shown}
        after.pop("cancel_at_period_end", None)
        if after != before:
            yield sub, changes, before, after
