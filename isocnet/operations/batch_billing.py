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
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_event
from isocnet.core.models import AuditEvent
from isocnet.customers.services import customers_lock
from isocnet.invoicing.billing_plan import (
    BILLABLE,
    CustomerPlan,
    billed_periods,
    plan_draft,
    plan_gate,
    plan_invoice,
    plan_line_rows,
    plan_periods,
    service_changes,
)
from isocnet.invoicing.issuing import (
    bill_to_snapshot,
    invoices_issue_locked,
    issue_audit,
)
from isocnet.invoicing.models import (
    BillingRun,
    BillingRunItem,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceTaxLine,
)
from isocnet.ledger.models import CreditEntry
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notices_queue_new
from isocnet.subscriptions.models import Subscription
from isocnet.subscriptions.services import subscriptions_billed


@dataclass
class BatchResult:
    items: list[BillingRunItem]  # ISSUED items, with their invoices
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
        subs_of = defaultdict(list)
        for sub in (
            Subscription.objects.filter(BILLABLE, customer_id__in=ids, next_due_date__isnull=False)
            .select_related("plan")
            .prefetch_related("plan__tax_rates")
            .order_by("customer_id", "id")
        ):
            subs_of[sub.customer_id].append(sub)
        with_charges = set(
            Charge.objects.filter(customer_id__in=ids, invoice_line__isnull=True).values_list(
                "customer_id", flat=True
            )
        )
        with_credit = _with_credit(ids) if settings.AUTO_APPLY_CREDIT else set()

        result = BatchResult(items=[], one_by_one=[])
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
            result.items = _issue(plain, date=date, run=run, actor=actor, subs_of=subs_of)
    return result


def _with_credit(customer_ids: list[int]) -> set[int]:

    return set(
        CreditEntry.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(total=Sum("amount_minor"))
        .filter(total__gt=0)
        .values_list("customer_id", flat=True)
    )


def _issue(
    plans: list[CustomerPlan], *, date: dt.date, run: BillingRun, actor: Actor, subs_of: dict
) -> list[BillingRunItem]:
    now = clock.now()
    drafts = [plan_invoice(plan, run=run, now=now) for plan in plans]
    for draft in drafts:
        draft.bill_to = bill_to_snapshot(draft.customer)
    invoices = Invoice.objects.bulk_create(drafts)
    InvoiceLine.objects.bulk_create(
        row
        for plan, invoice in zip(plans, invoices, strict=True)
        for row in plan_line_rows(plan, invoice)
    )
    InvoiceTaxLine.objects.bulk_create(
        row
        for plan, invoice in zip(plans, invoices, strict=True)
        for row in InvoiceTaxLine.rows_for(invoice, plan.totals)
    )
    sub_audit = _advance(plans, subs_of=subs_of, now=now)
    items = BillingRunItem.objects.bulk_create(
        BillingRunItem(
            run=run,
            customer=plan.customer,
            invoice=invoice,
            outcome=BillingRunItem.Outcome.ISSUED,
            total_minor=invoice.total_minor,
            lines=len(plan.lines),
        )
        for plan, invoice in zip(plans, invoices, strict=True)
    )

    # From here to the commit the series lock is held: keep it short.
    invoices_issue_locked(invoices, date=date, now=now)

    number_of = {invoice.customer_id: invoice.number for invoice in invoices}
    AuditEvent.objects.bulk_create(
        [audit_event(**issue_audit(invoice, actor=actor)) for invoice in invoices]
        + [
            audit_event(
                actor=actor,
                action="subscription.billed",
                obj=sub,
                customer_id=customer_id,
                before=before,
                after={**after, "invoice": number_of[customer_id]},
            )
            for sub, customer_id, before, after in sub_audit
        ]
    )
    notices_queue_new(
        kind=MessageKind.INVOICE,
        notices=[(f"invoice:{i.pk}", i.customer_id, i.pk) for i in invoices],
    )
    for item, invoice in zip(items, invoices, strict=True):
        item.invoice = invoice
    return items


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
