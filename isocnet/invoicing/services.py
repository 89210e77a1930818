"""Invoices: draft, add lines, issue (gapless number, frozen), void.

An issued invoice never changes its money again; later corrections are credit
notes. Database triggers refuse any edit of an issued invoice's frozen
columns or lines, whatever code path tries it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max

from isocnet.catalog.models import TaxRate
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.limits import LINES_MAX, QUANTITY_MAX, check_amount
from isocnet.core.money import Money, is_float
from isocnet.core.permissions import require
from isocnet.core.validation import clean_date, clean_line, clean_text
from isocnet.customers.services import customer_lock
from isocnet.invoicing.engine.totals import (
    TaxKey,
    compute_totals,
    line_amount,
    tax_keys_from_json,
    tax_keys_to_json,
)
from isocnet.invoicing.issuing import issue_locked
from isocnet.invoicing.models import Invoice, InvoiceLine, InvoiceStatus, InvoiceTaxLine, LineKind
from isocnet.invoicing.status import invoice_status_move
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue
from isocnet.subscriptions.models import Subscription


def _money_input(value, field: str, currency: str) -> Money:
    if isinstance(value, Money):
        if value.currency != currency:
            raise InvalidInput(f"must be in {currency}", field=field)
        return check_amount(value, field)
    try:
        return check_amount(Money.parse(value, currency, allow_negative=True), field)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


def _quantity(value, field: str = "quantity") -> Decimal:
    if is_float(value) or isinstance(value, bool):
        raise InvalidInput("must be a decimal string or whole number", field=field)
    try:
        quantity = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput("must be a number", field=field) from None
    if not quantity.is_finite() or quantity <= 0 or quantity > QUANTITY_MAX:
        raise InvalidInput(f"must be more than 0 and at most {QUANTITY_MAX}", field=field)
    if -quantity.as_tuple().exponent > 4:
        raise InvalidInput("has at most 4 decimal places", field=field)
    return quantity


def _check_line(quantity: Decimal, price: Money, *, field: str) -> Money:
    """The line's amount, unless it would be beyond the limit of one amount."""
    return check_amount(line_amount(quantity, price), field, what="quantity × unit price")


def invoice_lock(invoice_id) -> Invoice:
    """Lock the invoice's customer, then the invoice (always in that order)."""
    try:
        customer_id = Invoice.objects.values_list("customer_id", flat=True).get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"no invoice with id {invoice_id}", field="invoice") from None
    customer_lock(customer_id)
    return Invoice.objects.select_for_update().get(pk=invoice_id)


def invoice_create_draft(
    *, actor: Actor, customer_id: int, due_date=None, notes: str = ""
) -> Invoice:
    require(actor, "invoice.create")
    due = clean_date(due_date, "due_date") if due_date is not None else None
    notes = clean_text(notes, "notes", max_length=2000, required=False)
    with transaction.atomic():
        customer = customer_lock(customer_id)
        invoice = Invoice.objects.create(
            customer=customer,
            currency=customer.currency,
            due_date=due,
            notes=notes,
            created_at=clock.now(),
        )
        audit_record(actor=actor, action="invoice.draft", obj=invoice, customer_id=customer.pk)
    return invoice


def invoice_add_line(
    *,
    actor: Actor,
    invoice_id: int,
    description: str,
    unit_price,
    quantity=1,
    tax_rates: list[TaxRate] | tuple = (),
    kind: str = LineKind.CHARGE,
    subscription_id: int | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> InvoiceLine:
    require(actor, "invoice.create")
    description = clean_line(description, "description", max_length=300)
    quantity = _quantity(quantity)
    if (period_start is None) != (period_end is None):
        raise InvalidInput("a period needs both a start and an end", field="period_end")
    if period_start and period_end <= period_start:
        raise InvalidInput("must be after the period start", field="period_end")
    with transaction.atomic():
        invoice = invoice_lock(invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict("lines can be added only to a draft invoice", field="invoice")
        price = _money_input(unit_price, "unit_price", invoice.currency)
        if not price.is_exact:
            raise InvalidInput("must be in whole minor units", field="unit_price")
        if (
            subscription_id is not None
            and not Subscription.objects.filter(
                pk=subscription_id, customer_id=invoice.customer_id
            ).exists()
        ):
            raise NotFound("no such service on this customer's account", field="subscription")
        amount = _check_line(quantity, price, field="quantity")
        position = (invoice.lines.aggregate(m=Max("position"))["m"] or 0) + 1
        if position > LINES_MAX:
            raise InvalidInput(f"an invoice has at most {LINES_MAX} lines", field="lines")
        line = InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            kind=kind,
            description=description,
            subscription_id=subscription_id,
            period_start=period_start,
            period_end=period_end,
            quantity=quantity,
            unit_price_minor=price.minor(),
            taxes=tax_keys_to_json([TaxKey(t.name, t.rate) for t in tax_rates]),
            amount_minor=amount.minor(),
        )
        _recompute_draft(invoice)
        check_amount(invoice.total, "lines", what="the invoice total")
        audit_record(
            actor=actor,
            action="invoice.line_add",
            obj=invoice,
            customer_id=invoice.customer_id,
            after={"line": line.pk, "description": description, "amount": line.amount.as_string()},
        )
    return line


def invoice_create_manual(
    *,
    actor: Actor,
    customer_id: int,
    lines: list[dict],
    due_date=None,
    notes: str = "",
) -> Invoice:
    """A manual invoice issued at once, its "Customer Invoice" notice queued:
    ``lines`` are dicts of description, unit_price, quantity and tax_rate_ids.
    All or nothing: a line that is refused (named ``lines[i].<field>``)
    leaves no draft, no number and no notice behind."""
    require(actor, "invoice.create")
    if not isinstance(lines, list | tuple) or not lines:
        raise InvalidInput("an invoice needs at least one line", field="lines")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"an invoice has at most {LINES_MAX} lines", field="lines")
    with transaction.atomic():
        draft = invoice_create_draft(
            actor=actor, customer_id=customer_id, due_date=due_date, notes=notes
        )
        for i, line in enumerate(lines):
            ids = list(line.get("tax_rate_ids") or [])
            rates = list(TaxRate.objects.filter(pk__in=ids))
            try:
                if len(rates) != len(set(ids)):
                    raise InvalidInput("names a tax rate that does not exist", field="tax_rates")
                invoice_add_line(
                    actor=actor,
                    invoice_id=draft.pk,
                    description=line.get("description"),
                    unit_price=line.get("unit_price"),
                    quantity=line.get("quantity", 1),
                    tax_rates=rates,
                )
            except InvalidInput as exc:
                where = f"lines[{i}]" if exc.field == "lines" else f"lines[{i}].{exc.field}"
                raise InvalidInput(exc.message, field=where) from None
        invoice = invoice_issue(actor=actor, invoice_id=draft.pk)
        notice_queue(
            kind=MessageKind.INVOICE,
            key=f"invoice:{invoice.pk}",
            customer_id=invoice.customer_id,
            invoice_id=invoice.pk,
        )
    invoice.refresh_from_db()
    return invoice


def _recompute_draft(invoice: Invoice) -> None:
    """Totals and tax lines of a draft, from its lines (rounding points 1-3)."""
    lines = list(invoice.lines.all())
    totals = compute_totals(
        (
            (Money.from_minor(line.amount_minor, invoice.currency), tax_keys_from_json(line.taxes))
            for line in lines
        ),
        invoice.currency,
        tax_exempt=invoice.customer.tax_exempt,
    )
    invoice.tax_lines.all().delete()
    InvoiceTaxLine.objects.bulk_create(InvoiceTaxLine.rows_for(invoice, totals))
    invoice.subtotal_minor = totals.subtotal.minor()
    invoice.tax_minor = totals.tax_total.minor()
    invoice.total_minor = totals.total.minor()
    invoice.balance_minor = invoice.total_minor
    invoice.save(update_fields=["subtotal_minor", "tax_minor", "total_minor", "balance_minor"])


def invoice_issue(
    *, actor: Actor, invoice_id: int, issue_date=None, allow_zero: bool = False
) -> Invoice:
    """Freeze a draft: number it from its series, snapshot the customer,
    fix the due date, then apply available account credit (setting
    AUTO_APPLY_CREDIT)."""
    require(actor, "invoice.create")
    issued_on = clean_date(issue_date, "issue_date") if issue_date is not None else clock.today()
    with transaction.atomic():
        invoice = invoice_lock(invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(f"invoice #{invoice.number} is already issued", field="invoice")
        if not invoice.lines.exists():
            raise Conflict("an invoice without lines cannot be issued", field="lines")
        _recompute_draft(invoice)
        return issue_locked(invoice, issued_on=issued_on, actor=actor, allow_zero=allow_zero)


def invoice_void(*, actor: Actor, invoice_id: int, reason: str) -> Invoice:
    """Void an invoice nothing has been applied to (a draft or an unpaid
    invoice). Its number stays used: the series keeps no gap."""
    require(actor, "invoice.void")
    reason = clean_line(reason, "reason", max_length=300)
    with transaction.atomic():
        invoice = invoice_lock(invoice_id)
        if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.UNPAID):
            raise Conflict(
                f"a {invoice.get_status_display().lower()} invoice cannot be voided; refund or credit it instead",
                field="invoice",
            )
        before = invoice.status
        invoice_status_move(invoice, InvoiceStatus.VOID)
        invoice.voided_at = clock.now()
        invoice.void_reason = reason
        invoice.balance_minor = 0
        invoice.save(update_fields=["status", "voided_at", "void_reason", "balance_minor"])
        audit_record(
            actor=actor,
            action="invoice.void",
            obj=invoice,
            customer_id=invoice.customer_id,
            before={"status": before},
            after={"status": "void", "reason": reason},
        )
    return invoice
