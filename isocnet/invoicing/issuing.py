"""Issuing: a draft becomes an invoice — numbered from its series' locked
counter, the customer's name and address snapshotted, due on its terms,
frozen (database triggers), account credit applied, what it asked for
recorded, its Customer Invoice notice queued. One by one (issue_locked,
invoice_write) and a batch at a time (invoices_issue_locked) share these
steps; this module is the one writer of an invoice's status at issue."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection

from isocnet.core import clock, simulation
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import BillingError, Conflict, InvalidInput
from isocnet.core.limits import check_amount
from isocnet.core.money import Money
from isocnet.core.sequences import sequence_take
from isocnet.core.states import transition
from isocnet.customers.services import customer_lock
from isocnet.invoicing.billing_plan import (
    CustomerPlan,
    _charge_line,
    plan_invoice,
    plan_line_rows,
)
from isocnet.invoicing.credit import credit_apply_locked
from isocnet.invoicing.engine.totals import (
    compute_totals,
)
from isocnet.invoicing.events import invoices_event, invoices_event_ids
from isocnet.invoicing.models import (
    INVOICE_TRANSITIONS,
    BillingRun,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTaxLine,
)
from isocnet.invoicing.status import invoice_status_move
from isocnet.invoicing.terms import earliest_due_date
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue


def invoice_series(issue_date: dt.date) -> str:
    fmt = settings.INVOICE_NUMBER_FORMAT
    return f"invoice-{issue_date.year}" if "{year}" in fmt else "invoice"


def issue_audit(invoice: Invoice, *, actor: Actor) -> dict:
    """The facts of an "invoice.issue" audit row (audit_record or audit_event)."""
    return {
        "actor": actor,
        "action": "invoice.issue",
        "obj": invoice,
        "customer_id": invoice.customer_id,
        "before": {"status": "draft"},
        "after": {
            "number": invoice.number,
            "total": invoice.total.as_string(),
            "due_date": invoice.due_date.isoformat(),
        },
    }


def invoice_check_follows(invoice: Invoice) -> None:
    """Gate: the invoice's number directly follows its predecessor in the
    series (a tampered counter would leave a gap or reuse a number). A
    simulation's placeholder numbers follow nothing (core.simulation)."""
    _check_follows(invoice.series, invoice.sequence, invoice.number)


def _check_follows(series: str, sequence: int, number: str) -> None:
    if (
        not simulation.active()
        and sequence > 1
        and not Invoice.objects.filter(series=series, sequence=sequence - 1).exists()
    ):
        raise BillingError(
            f"invoice number {number} does not follow the previous number of its series"
        )


def bill_to_snapshot(customer) -> dict:
    return {
        "account_number": customer.account_number,
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "address": customer.address_lines(),
    }


def issue_locked(
    invoice: Invoice, *, issued_on: dt.date, actor: Actor, allow_zero: bool
) -> Invoice:
    """The issuing step itself, for a draft whose totals are final. The
    caller holds the customer lock inside its transaction (invoice_issue, the
    billing run)."""
    if invoice.total_minor < 0:
        raise Conflict(
            "an invoice total cannot be negative; issue a credit note instead", field="total"
        )
    if invoice.total_minor == 0 and not allow_zero:
        raise Conflict("the invoice total is zero", field="total")
    check_amount(invoice.total, "total", what="the invoice total")
    customer = invoice.customer
    due = invoice.due_date or issued_on + dt.timedelta(days=settings.PAYMENT_TERMS_DAYS)
    if due < issued_on:
        raise InvalidInput("the due date is before the issue date", field="due_date")
    due = max(due, earliest_due_date(customer, issued_on))
    series = invoice_series(issued_on)
    (seq,) = sequence_take(series)
    invoice.number = settings.INVOICE_NUMBER_FORMAT.format(year=issued_on.year, seq=seq)
    invoice.series = series
    invoice.sequence = seq
    invoice.issue_date = issued_on
    invoice.due_date = due
    invoice.bill_to = bill_to_snapshot(customer)
    invoice.issued_at = clock.now()
    invoice_status_move(
        invoice, InvoiceStatus.PAID if invoice.total_minor == 0 else InvoiceStatus.UNPAID
    )
    invoice.amount_paid_minor = invoice.credit_applied_minor = 0
    invoice.balance_minor = invoice.total_minor
    invoice.save()
    audit_record(**issue_audit(invoice, actor=actor))
    if settings.AUTO_APPLY_CREDIT and invoice.balance_minor:
        # a new invoice: paying it from credit never brings suspended services back
        credit_apply_locked(actor=actor, invoice=invoice)
    # What the invoice asks for, as issued: its notice and PDF say this.
    invoice.issued_balance_minor = invoice.balance_minor
    invoice.save(update_fields=["issued_balance_minor"])
    invoices_event("invoice.issued", [invoice])
    return invoice


def invoice_write(
    plan: CustomerPlan, *, date: dt.date, run: BillingRun | None, actor: Actor
) -> Invoice:
    """Draft with the plan's totals, its lines and tax lines, then issue it.
    The caller holds the customer lock."""
    customer = plan.customer
    invoice = plan_invoice(plan, run=run, now=clock.now())
    invoice.save(force_insert=True)
    rows = InvoiceLine.objects.bulk_create(plan_line_rows(plan, invoice))
    InvoiceTaxLine.objects.bulk_create(InvoiceTaxLine.rows_for(invoice, plan.totals))
    for line, row in zip(plan.lines, rows, strict=True):
        if line.charge_id:
            Charge.objects.filter(pk=line.charge_id, invoice_line__isnull=True).update(
                invoice_line=row.pk
            )
    invoice.customer = customer
    invoice = issue_locked(
        invoice, issued_on=date, actor=actor, allow_zero=settings.ALLOW_ZERO_INVOICES
    )
    invoice_check_follows(invoice)
    notice_queue(
        kind=MessageKind.INVOICE,
        key=f"invoice:{invoice.pk}",
        customer_id=customer.pk,
        invoice_id=invoice.pk,
        known_new=True,
    )
    return invoice


def invoice_charges_now(*, customer_id: int, charges: list[Charge], actor: Actor) -> Invoice:
    """Invoice these pending charges at once (PRORATE_CHANGES=immediate).
    The caller holds the customer lock."""
    customer = customer_lock(customer_id)
    today = clock.today()
    plan = CustomerPlan(customer=customer, charges=charges)
    for charge in charges:
        plan.lines.append(_charge_line(charge))
        plan.amounts.append(Money.from_minor(charge.amount_minor, charge.currency))
    plan.totals = compute_totals(
        zip(plan.amounts, [line.taxes for line in plan.lines], strict=True),
        customer.currency,
        tax_exempt=customer.tax_exempt,
    )
    plan.due_date = today + dt.timedelta(days=settings.PAYMENT_TERMS_DAYS)
    return invoice_write(plan, date=today, run=None, actor=actor)


# One statement numbers and issues the whole batch (Django's bulk_update
# would build a CASE per column, ~100 ms for 200 rows). UPDATE … FROM works on
# PostgreSQL and on SQLite >= 3.33; chunks keep SQLite under 999 parameters.
_ISSUE_SQL = """
UPDATE invoicing_invoice
   SET number = v.column2, sequence = v.column3, series = %s, issue_date = %s,
       issued_at = %s, status = %s, issued_balance_minor = invoicing_invoice.total_minor
  FROM (VALUES {rows}) AS v
 WHERE invoicing_invoice.id = v.column1 AND invoicing_invoice.status = %s
"""  # (VALUES columns are column1, column2, … in both databases)


# A draft's columns as the batch path writes it (core.bulk.rows_write):
# what plan_invoice sets, with its id taken beforehand and the bill-to
# snapshot, which the one-by-one path takes at issue.
DRAFT_FIELDS = (
    "id",
    "customer_id",
    "currency",
    "due_date",
    "created_at",
    "billing_run_id",
    "subtotal_minor",
    "tax_minor",
    "total_minor",
    "balance_minor",
    "bill_to",
)


def draft_tuple(plan: CustomerPlan, *, invoice_id: int, run_id: int | None, now) -> tuple:
    """The draft of ``plan_invoice`` as a tuple of DRAFT_FIELDS."""
    totals, customer = plan.totals, plan.customer
    total = totals.total.minor()
    return (
        invoice_id,
        customer.pk,
        customer.currency,
        plan.due_date,
        now,
        run_id,
        totals.subtotal.minor(),
        totals.tax_total.minor(),
        total,
        total,
        bill_to_snapshot(customer),
    )


def invoices_issue_locked(
    invoice_ids: list[int], *, date: dt.date, now: dt.datetime
) -> list[tuple[int, str]]:
    """Issue a batch of drafts (batch billing: plain invoices, no credit to
    apply, their bill-to snapshot and due date already drafted) in one
    step: the batch's numbers taken from the series at once, then one
    UPDATE numbering and issuing them all, the same status move as
    ``issue_locked`` (draft → unpaid). The series' lock is held from here to
    the caller's commit. Returns (id, number) in the order given."""
    transition(InvoiceStatus.DRAFT, InvoiceStatus.UNPAID, INVOICE_TRANSITIONS, what="an invoice")
    series = invoice_series(date)
    sequences = sequence_take(series, len(invoice_ids))
    fmt = settings.INVOICE_NUMBER_FORMAT
    rows = [
        (pk, fmt.format(year=date.year, seq=seq), seq)
        for pk, seq in zip(invoice_ids, sequences, strict=True)
    ]
    issued = _issue_rows(rows, series=series, date=date, now=now)
    if issued != len(rows):
        raise BillingError(f"issued {issued} of {len(rows)} invoices of a batch")
    _check_follows(series, rows[0][2], rows[0][1])  # the rest follow it by construction
    invoices_event_ids("invoice.issued", invoice_ids)
    return [(pk, number) for pk, number, _ in rows]


def _issue_rows(rows: list[tuple], *, series: str, date: dt.date, now: dt.datetime) -> int:
    issued = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 300):
            chunk = rows[start : start + 300]
            # (its own name: reusing ``rows`` for the SQL sliced a string on
            # the next chunk, so any batch over 300 failed)
            if connection.vendor == "postgresql":
                values = ", ".join(["(%s::bigint, %s, %s::bigint)"] * len(chunk))
            else:
                values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params = [
                series,
                connection.ops.adapt_datefield_value(date),
                connection.ops.adapt_datetimefield_value(now),
                InvoiceStatus.UNPAID.value,
                *(x for row in chunk for x in row),
                InvoiceStatus.DRAFT.value,
            ]
            cursor.execute(_ISSUE_SQL.format(rows=values), params)
            issued += cursor.rowcount
    return issued
