"""An invoice's paid, credited and open amounts, from the ledger's sums
(isocnet.ledger.sums) and its credit notes, and the status that follows
from them (moved by invoicing.status)."""

from __future__ import annotations

from django.db.models import Sum

from isocnet.core.errors import Conflict
from isocnet.invoicing.events import invoices_event
from isocnet.invoicing.models import CreditNote, Invoice, InvoiceStatus
from isocnet.invoicing.status import invoice_status_move
from isocnet.ledger.sums import credit_applied_minor, paid_minor


def _status_for(invoice: Invoice) -> str:
    if invoice.balance_minor == 0:
        return InvoiceStatus.PAID
    if invoice.amount_paid_minor or invoice.credit_applied_minor or invoice.credited_minor:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.UNPAID


SETTLED_FIELDS = [
    "amount_paid_minor",
    "credit_applied_minor",
    "credited_minor",
    "balance_minor",
    "status",
]


def invoice_settle(invoice: Invoice) -> Invoice:
    """Recompute from the ledgers and save. The caller holds the customer
    and invoice locks inside its transaction."""
    return invoices_settle([invoice])[0]


def invoices_settle(invoices: list[Invoice]) -> list[Invoice]:
    """``invoice_settle`` for many invoices (each once), in five statements
    for them all. The caller holds their customers' and their own locks."""
    for invoice in invoices:
        if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.REFUNDED):
            raise Conflict(
                f"a {invoice.get_status_display().lower()} invoice takes no payments",
                field="invoice",
            )
    ids = [invoice.pk for invoice in invoices]
    was_paid = {invoice.pk for invoice in invoices if invoice.status == InvoiceStatus.PAID}
    paid = paid_minor(ids)
    credit = credit_applied_minor(ids)
    noted = _sums(CreditNote.objects.filter(invoice_id__in=ids), "applied_minor")
    for invoice in invoices:
        balance = (
            invoice.total_minor
            - paid.get(invoice.pk, 0)
            - credit.get(invoice.pk, 0)
            - noted.get(invoice.pk, 0)
        )
        if balance < 0:
            raise Conflict("more would be applied to the invoice than it is for", field="amount")
        invoice.amount_paid_minor = paid.get(invoice.pk, 0)
        invoice.credit_applied_minor = credit.get(invoice.pk, 0)
        invoice.credited_minor = noted.get(invoice.pk, 0)
        invoice.balance_minor = balance
        invoice_status_move(invoice, _status_for(invoice))
    if len(invoices) == 1:
        invoices[0].save(update_fields=SETTLED_FIELDS)
    elif invoices:
        Invoice.objects.bulk_update(invoices, SETTLED_FIELDS)
    invoices_event(
        "invoice.paid",
        [i for i in invoices if i.status == InvoiceStatus.PAID and i.pk not in was_paid],
    )
    return invoices


def _sums(rows, column: str) -> dict[int, int]:
    """Σ ``column`` by invoice id."""
    return dict(
        rows.order_by().values("invoice_id").annotate(s=Sum(column)).values_list("invoice_id", "s")
    )
