"""Billing a batch of customers in one transaction with set-based statements.

The daily run's fast path (billing_run.bill_chunk). Per batch of up to
BILLING_BATCH_SIZE customers, in one transaction:

1. lock the batch's customer rows (one ``SELECT … FOR UPDATE``, in id order),
2. read their billable services, pending charges, account credit and
   already-billed periods (five queries for the whole batch),
3. draft each customer's plan with the same pure code as the one-by-one path
   (billing_plan.plan_draft / plan_gate),
4. insert the draft invoices, their lines and tax lines (three multi-row
   INSERTs), advance the services (one UPDATE per distinct change),
5. take the batch's invoice numbers in one step under the series lock
   (sequence_take(series, k)), number and issue the invoices (one UPDATE),
   and insert the audit rows, the "Customer Invoice" outbox rows and the
   run's items (three INSERTs), so the series lock is held only for the
   last few statements before the commit.

The result is the same rows the one-by-one path writes. Whatever is not a
plain "services fall due, issue the invoice" case is left to that path, which
handles it customer by customer: pending one-off charges, account credit to
apply, a refusal (anomaly, duplicate period, zero total), a zero or negative
total, a service that starts or ends without a line. Should the batch fail
(a database error, a gate), its transaction rolls back whole and the run
bills the batch's customers one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_rows_write
from isocnet.core.bulk import ids_take, rows_write
from isocnet.customers.services import customers_lock
from isocnet.invoicing.billing_plan import (
    LINE_FIELDS,
    CustomerPlan,
    billable_services,
    billed_periods,
    plan_draft,
    plan_gate,
    plan_line_tuples,
    plan_periods,
    service_changes,
)
from isocnet.invoicing.issuing import DRAFT_FIELDS, draft_tuple, invoices_issue_locked
from isocnet.invoicing.models import (
    BillingRun,
    BillingRunItem,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceTaxLine,
)
from isocnet.ledger.sums import customers_with_credit
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notices_queue_fresh
from isocnet.subscriptions.services import subscriptions_billed


@dataclass
class BatchResult:
    issued: list[tuple[int, str, int]]  # (invoice id, currency, total in minor units)
    one_by_one: list[int]  # customers left to the one-by-one path
    nothing_due: int = 0


def bill_batch(
    *, customer_ids: list[int], date: dt.date, run: BillingRun, actor: Actor
) -> BatchResult:
    """Bill the plain cases among these customers in one transaction; return
    what was issued and which customers the caller must bill one by one."""
    with transaction.atomic():
        customers = list(customers_lock(customer_ids).values())
        ids = [c.pk for c in customers]
        subs_of = billable_services({c.pk: c for c in customers})
        with_charges = set(
            Charge.objects.filter(customer_id__in=ids, invoice_line__isnull=True).values_list(
                "customer_id", flat=True
            )
        )
        with_credit = _with_credit(ids) if settings.AUTO_APPLY_CREDIT else set()

        result = BatchResult(issued=[], one_by_one=[])
        plans: list[CustomerPlan] = []
        for customer in customers:
            if customer.pk in with_charges or customer.pk in with_credit:
                result.one_by_one.append(customer.pk)
                continue
            plan = plan_draft(customer, date, subs=subs_of[customer.pk], charges=())
            if not plan.lines:
                if any(o.activates or o.ends for o in plan.outcomes):
                    result.one_by_one.append(customer.pk)
                else:
                    result.nothing_due += 1
                continue
            plans.append(plan)
        billed = billed_periods(p for plan in plans for p in plan_periods(plan))
        plain = []
        for plan in plans:
            if (
                plan.refusal is not None
                or plan_gate(plan, billed=billed) is not None
                or plan.totals.total.amount <= 0
                or plan.due_date < date
            ):
                result.one_by_one.append(plan.customer.pk)
            else:
                plain.append(plan)
        if plain:
            result.issued = _issue(plain, date=date, run=run, actor=actor, subs_of=subs_of)
    return result


def _with_credit(customer_ids: list[int]) -> set[int]:
    return customers_with_credit(customer_ids)


def _issue(
    plans: list[CustomerPlan], *, date: dt.date, run: BillingRun, actor: Actor, subs_of: dict
) -> list[tuple[int, str, int]]:
    """The rows as tuples, written by COPY (PostgreSQL) or executemany
    (SQLite): core.bulk. Returns (invoice id, currency, total) of each."""
    now = clock.now()
    ids = ids_take(Invoice, len(plans))
    rows_write(
        Invoice,
        DRAFT_FIELDS,
        (
            draft_tuple(plan, invoice_id=pk, run_id=run.pk, now=now)
            for plan, pk in zip(plans, ids, strict=True)
        ),
    )
    rows_write(
        InvoiceLine,
        LINE_FIELDS,
        (row for plan, pk in zip(plans, ids, strict=True) for row in plan_line_tuples(plan, pk)),
    )
    rows_write(
        InvoiceTaxLine,
        InvoiceTaxLine.FIELDS,
        (
            row
            for plan, pk in zip(plans, ids, strict=True)
            for row in InvoiceTaxLine.tuples_for(pk, plan.totals)
        ),
    )
    sub_audit = _advance(plans, subs_of=subs_of, now=now)
    rows_write(
        BillingRunItem,
        ("run_id", "customer_id", "invoice_id", "outcome", "total_minor", "lines"),
        (
            (
                run.pk,
                plan.customer.pk,
                pk,
                BillingRunItem.Outcome.ISSUED.value,
                plan.totals.total.minor(),
                len(plan.lines),
            )
            for plan, pk in zip(plans, ids, strict=True)
        ),
    )

    # From here to the commit the series lock is held: keep it short.
    numbers = invoices_issue_locked(ids, date=date, now=now)

    audit_rows_write(
        actor=actor,
        action="invoice.issue",
        object_type="Invoice",
        rows=(
            (
                pk,
                plan.customer.pk,
                {"status": "draft"},
                {
                    "number": number,
                    "total": plan.totals.total.as_string(),
                    "due_date": plan.due_date.isoformat(),
                },
            )
            for plan, (pk, number) in zip(plans, numbers, strict=True)
        ),
    )
    number_of = {plan.customer.pk: number for plan, (_, number) in zip(plans, numbers, strict=True)}
    audit_rows_write(
        actor=actor,
        action="subscription.billed",
        object_type="Subscription",
        rows=(
            (sub.pk, customer_id, before, {**after, "invoice": number_of[customer_id]})
            for sub, customer_id, before, after in sub_audit
        ),
    )
    notices_queue_fresh(
        kind=MessageKind.INVOICE,
        notices=[
            (f"invoice:{pk}", plan.customer.pk, pk) for plan, pk in zip(plans, ids, strict=True)
        ],
    )
    return [
        (pk, plan.customer.currency, plan.totals.total.minor())
        for plan, pk in zip(plans, ids, strict=True)
    ]


def _advance(plans: list[CustomerPlan], *, subs_of: dict, now: dt.datetime) -> list[tuple]:
    """Move the services' next due dates on: one UPDATE per distinct change
    (most of a batch shares a handful of dates). Returns the audit facts
    (service, customer, before, after)."""
    moves, audit = [], []
    for plan in plans:
        subs = {s.pk: s for s in subs_of[plan.customer.pk]}
        for sub, changes, before, after in service_changes(plan, subs):
            moves.append((sub, changes))
            audit.append((sub, plan.customer.pk, before, after))
    subscriptions_billed(changes=moves, now=now)
    return audit
