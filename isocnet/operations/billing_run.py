"""The daily billing run: due services become issued invoices, exactly once.

For each customer with something due, in one transaction under the
customer's row lock: re-read what is due, let the pure engine draft the
lines, check the anomaly gates, write the invoice and its lines, issue it
(gapless number, credit applied), queue its "Customer Invoice" notice and
advance the services' next due dates. A second run for the same date — after
this one, or at the same moment in another process — finds nothing due; a
run killed midway leaves only whole customers behind it, and the next run
completes the rest. The unique index on (service, period start) is the
backstop should anything else slip.

A dry run computes the same plan with the same code and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from isocnet.collections.holds import scoped
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.db import resuming
from isocnet.core.errors import BillingError, InvalidInput
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.validation import clean_line
from isocnet.customers.models import Customer
from isocnet.customers.services import customer_lock
from isocnet.invoicing.billing_plan import (
    BILLABLE,
    CustomerPlan,
    customer_plan,
    service_changes,
)
from isocnet.invoicing.issuing import invoice_write
from isocnet.invoicing.models import (
    BillingRun,
    BillingRunItem,
    BillingRunStatus,
    Charge,
    Invoice,
)
from isocnet.operations.auto_debit import collect_due, collection_counts
from isocnet.operations.batch_billing import bill_batch
from isocnet.operations.dunning import DunningCounts, overdue_step
from isocnet.payments.charges import reconcile
from isocnet.subscriptions.models import Subscription, SubscriptionStatus
from isocnet.subscriptions.services import subscriptions_billed

log = logging.getLogger(__name__)


def _collection_counts() -> dict:

    return collection_counts()


@dataclass
class RunSummary:
    date: dt.date
    dry_run: bool
    run: BillingRun | None
    customers: int = 0
    invoices: int = 0
    total: Money | None = None
    refused: int = 0
    errors: int = 0
    dunning: DunningCounts = field(default_factory=DunningCounts)
    preview: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    collection: dict = field(default_factory=_collection_counts)


def bill_customer(
    *, customer_id: int, date: dt.date, run: BillingRun, actor: Actor
) -> BillingRunItem:
    """Invoice one customer, atomically, under the customer's lock."""
    with transaction.atomic():
        customer = customer_lock(customer_id)
        plan = customer_plan(customer, date)
        if plan.refusal:
            return BillingRunItem.objects.create(
                run=run,
                customer=customer,
                outcome=BillingRunItem.Outcome.REFUSED,
                message=plan.refusal,
                lines=len(plan.lines),
            )
        invoice = None
        if plan.lines:
            invoice = invoice_write(plan, date=date, run=run, actor=actor)
        _advance(plan, actor=actor, invoice=invoice)
        if invoice is None:
            return BillingRunItem(
                run=run, customer=customer, outcome=BillingRunItem.Outcome.NOTHING
            )
        return BillingRunItem.objects.create(
            run=run,
            customer=customer,
            invoice=invoice,
            outcome=BillingRunItem.Outcome.ISSUED,
            total_minor=invoice.total_minor,
            lines=len(plan.lines),
        )


def _advance(plan: CustomerPlan, *, actor: Actor, invoice: Invoice | None) -> None:
    """Move each service's next due date (and status) on. The customer lock,
    held by the caller, serialises every change to the customer's services."""
    subs = {
        s.pk: s
        for s in Subscription.objects.filter(
            pk__in=[o.subscription_id for o in plan.outcomes]
        ).only("pk", "customer_id", "next_due_date", "status", "cancel_at_period_end")
    }
    moves = list(service_changes(plan, subs))
    subscriptions_billed(changes=[(sub, changes) for sub, changes, _, _ in moves], now=clock.now())
    for sub, _changes, before, after in moves:
        audit_record(
            actor=actor,
            action="subscription.billed",
            obj=sub,
            customer_id=sub.customer_id,
            before=before,
            after={**after, "invoice": invoice.number if invoice else None},
        )


def due_customer_ids(date: dt.date, only: list[int] | None = None) -> list[int]:
    """The customers the run bills on ``date`` (of ``only``, when given)."""
    horizon = date + dt.timedelta(days=settings.INVOICE_LEAD_DAYS)
    due = Subscription.objects.filter(BILLABLE, next_due_date__lte=horizon)
    starting = Subscription.objects.filter(status=SubscriptionStatus.PENDING, start_date__lte=date)
    ending = Subscription.objects.filter(
        cancel_at_period_end=True, cancellation_date__lte=date, status=SubscriptionStatus.ACTIVE
    )
    charged = Charge.objects.filter(invoice_line__isnull=True, with_next_invoice=False)
    ids: set[int] = set()
    for rows in (due, starting, ending, charged):
        ids |= set(scoped(rows, only).values_list("customer_id", flat=True))
    return sorted(ids)


def billing_date_check(*, date: dt.date, today: dt.date, future_override: str | None) -> str:
    """A real run bills, charges and suspends as of its date, so one for a
    day after today needs an explicit reason (audited by the run); a dry run
    may look ahead freely. Returns the override's reason ("" when none is
    needed)."""
    if date <= today:
        return ""
    reason = (future_override or "").strip()
    if not reason:
        raise InvalidInput(
            f"{date.isoformat()} is after today ({today.isoformat()}): a real run would issue "
            "invoices dated then, charge cards and suspend services; preview it with a dry run, "
            "or give future_override with the reason",
            field="date",
        )
    return clean_line(reason, "future_override", max_length=300)


def run_future_override_audit(
    *, run: BillingRun, actor: Actor, today: dt.date, reason: str
) -> None:
    """The audit row of a real run for a day after today (billing_date_check)."""
    if not reason:
        return
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="billing_run.future_date",
            obj=run,
            after={"date": run.date.isoformat(), "today": today.isoformat(), "reason": reason},
        )


def billing_run(
    *,
    date: dt.date,
    actor: Actor,
    dry_run: bool = False,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
    future_override: str | None = None,
    today: dt.date | None = None,
) -> RunSummary:
    """``today``: the real business day when the caller has moved the clock
    to ``date`` (the CLI's --date); ``future_override``: the reason for a
    real run after today (billing_date_check)."""
    override = ""
    if not dry_run:  # a preview is a read: anyone may look
        require(actor, "billing.run")
        override = billing_date_check(
            date=date, today=today or clock.today(), future_override=future_override
        )
    customer_ids = due_customer_ids(date)
    summary = RunSummary(date=date, dry_run=dry_run, run=None, customers=len(customer_ids))
    summary.total = Money.zero(settings.CURRENCY)
    walk = progress(customer_ids) if progress else customer_ids
    if dry_run:
        for customer in _customers(walk):
            plan = customer_plan(customer, date)
            if plan.lines or plan.refusal:
                summary.preview.append(plan.as_preview())
            if plan.refusal:
                summary.refused += 1
                summary.problems.append(f"{customer.account_number}: {plan.refusal}")
            elif plan.has_invoice:
                summary.invoices += 1
                if plan.totals.total.currency == summary.total.currency:
                    summary.total = summary.total + plan.totals.total
        summary.dunning = overdue_step(date=date, actor=actor, dry_run=True)
        return summary

    run, reconciled = run_start(date=date, actor=actor, customers=len(customer_ids))
    summary.run = run
    run_future_override_audit(run=run, actor=actor, today=today or clock.today(), reason=override)
    try:
        bill_chunk(run=run, customer_ids=walk, date=date, actor=actor, summary=summary)
        run_finish(run=run, date=date, actor=actor, summary=summary, reconciled=reconciled)
    except BaseException:
        run_mark_failed(run)
        raise
    return summary


# The phases of a run. In one process billing_run calls them in turn; with
# workers (isocnet.operations.tasks) the chunks run in parallel, one task
# per chunk of customers, each customer still in its own locked transaction.


def run_start(*, date: dt.date, actor: Actor, customers: int) -> tuple[BillingRun, int]:

    reconciled = reconcile(actor=actor)
    run = BillingRun.objects.create(
        date=date,
        started_at=clock.now(),
        started_by=actor.label,
        customers_seen=customers,
        currency=settings.CURRENCY,
    )
    return run, reconciled


def bill_chunk(
    *,
    run: BillingRun,
    customer_ids: Iterable[int],
    date: dt.date,
    actor: Actor,
    summary: RunSummary,
) -> RunSummary:
    """Bill these customers into ``run``, counting into ``summary``: batches
    of BILLING_BATCH_SIZE with set-based statements (batch_billing), and
    whatever a batch leaves (or a batch that fails) one customer at a time."""
    size = settings.BILLING_BATCH_SIZE
    batch: list[int] = []
    for customer_id in customer_ids:
        if size <= 1:
            _bill_one(customer_id=customer_id, date=date, run=run, actor=actor, summary=summary)
            continue
        batch.append(customer_id)
        if len(batch) >= size:
            _bill_batch(batch, date=date, run=run, actor=actor, summary=summary)
            batch = []
    if batch:
        _bill_batch(batch, date=date, run=run, actor=actor, summary=summary)
    return summary


def _bill_batch(
    customer_ids: list[int], *, date: dt.date, run: BillingRun, actor: Actor, summary: RunSummary
) -> None:
    try:
        result = resuming(
            lambda: bill_batch(customer_ids=customer_ids, date=date, run=run, actor=actor),
            what=f"billing run {run.pk}: a batch of {len(customer_ids)} customers",
        )
    except (BillingError, DatabaseError) as exc:
        # Rolled back whole: bill the batch the careful way, one by one.
        log.warning(
            "billing run %s: a batch of %s customers failed (%s); billing them one by one",
            run.pk,
            len(customer_ids),
            str(exc).strip()[:200],
        )
        leftovers = customer_ids
    else:
        for _, currency, total_minor in result.issued:
            summary.invoices += 1
            if currency == summary.total.currency:
                summary.total = summary.total + Money.from_minor(total_minor, currency)
        leftovers = result.one_by_one
    for customer_id in leftovers:
        _bill_one(customer_id=customer_id, date=date, run=run, actor=actor, summary=summary)


def _bill_one(
    *, customer_id: int, date: dt.date, run: BillingRun, actor: Actor, summary: RunSummary
) -> None:
    try:
        item = _bill_resuming(customer_id=customer_id, date=date, run=run, actor=actor)
    except (BillingError, IntegrityError, DatabaseError) as exc:
        log.warning("billing run %s: customer %s failed: %s", run.pk, customer_id, exc)
        BillingRunItem.objects.create(
            run=run,
            customer_id=customer_id,
            outcome=BillingRunItem.Outcome.ERROR,
            message=str(exc)[:2000],
        )
        summary.errors += 1
        summary.problems.append(f"customer {customer_id}: {exc}")
        return
    _count(item, summary)


def _count(item: BillingRunItem, summary: RunSummary) -> None:
    if item.outcome == BillingRunItem.Outcome.ISSUED:
        summary.invoices += 1
        if item.invoice.currency == summary.total.currency:
            summary.total = summary.total + item.invoice.total
    elif item.outcome == BillingRunItem.Outcome.REFUSED:
        summary.refused += 1
        summary.problems.append(f"{item.customer.account_number}: {item.message}")


def _bill_resuming(*, customer_id: int, date: dt.date, run: BillingRun, actor: Actor):
    return resuming(
        lambda: bill_customer(customer_id=customer_id, date=date, run=run, actor=actor),
        what=f"billing run {run.pk}: customer {customer_id}",
    )


def run_mark_failed(run: BillingRun) -> None:
    connection.close_if_unusable_or_obsolete()
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRunStatus.FAILED, finished_at=clock.now()
    )


def run_finish(
    *,
    run: BillingRun,
    date: dt.date,
    actor: Actor,
    summary: RunSummary,
    reconciled: int,
    collect: Callable | None = None,
) -> RunSummary:
    """Dunning and auto-debit collection (``collect(actor=, date=)``, by
    default in this process), then the run's figures."""

    summary.dunning = resuming(
        lambda: overdue_step(date=date, actor=actor), what=f"billing run {run.pk}: dunning"
    )
    summary.collection = resuming(
        lambda: (collect or collect_due)(actor=actor, date=date),
        what=f"billing run {run.pk}: collection",
    )
    d = summary.dunning
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRunStatus.COMPLETED,
        finished_at=clock.now(),
        invoices_created=summary.invoices,
        invoices_total_minor=summary.total.minor(),
        refused=summary.refused,
        errors=summary.errors,
        marked_overdue=d.marked_overdue,
        suspended=d.suspended_customers,
        reactivated=d.reactivated_customers,
        notices_queued=d.notices,
        to_collect=d.to_collect,
        charged=summary.collection["charged"],
        declined=summary.collection["declined"],
        reconciled=reconciled,
    )
    run.refresh_from_db()
    return summary


def _customers(ids: Iterable[int]):
    batch: list[int] = []
    for customer_id in ids:
        batch.append(customer_id)
        if len(batch) == 500:
            yield from Customer.objects.filter(pk__in=batch).order_by("pk")
            batch = []
    if batch:
        yield from Customer.objects.filter(pk__in=batch).order_by("pk")
