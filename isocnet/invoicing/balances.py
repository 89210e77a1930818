"""An invoice's paid, credited and open amounts, derived from the
allocation and credit ledgers, and the status that follows from them."""

from __future__ import annotations

from django.db.models import Sum

from isocnet.core.errors import Conflict
from isocnet.invoicing.models import INVOICE_TRANSITIONS, Invoice, InvoiceStatus


def _status_for(invoice: Invoice) -> str:
    if invoice.balance_minor == 0:
        return InvoiceStatus.PAID
    if invoice.amount_paid_minor or invoice.credit_applied_minor or invoice.credited_minor:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.UNPAID


def invoice_settle(invoice: Invoice) -> Invoice:
    """Recompute from the ledgers and save. The caller holds the customer
    and invoice locks inside its transaction."""
    from isocnet.invoicing.models import CreditNote
    from isocnet.payments.models import CreditEntry, CreditKind

    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.REFUNDED):
        raise Conflict(
            f"a {invoice.get_status_display().lower()} invoice takes no payments", field="invoice"
        )
    paid = _paid_minor(invoice)
    credit = -(
        CreditEntry.objects.filter(
            invoice=invoice, kind__in=[CreditKind.APPLIED, CreditKind.UNAPPLIED]
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
    noted = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("applied_minor"))["s"] or 0
    balance = invoice.total_minor - paid - credit - noted
    if balance < 0:
        raise Conflict("more would be applied to the invoice than it is for", field="amount")
    invoice.amount_paid_minor = paid
    invoice.credit_applied_minor = credit
    invoice.credited_minor = noted
    invoice.balance_minor = balance
    new_status = _status_for(invoice)
    if new_status != invoice.status and new_status not in INVOICE_TRANSITIONS[invoice.status]:
        raise Conflict(f"an invoice cannot go from {invoice.status} to {new_status}")
    invoice.status = new_status
    invoice.save(
        update_fields=[
            "amount_paid_minor",
            "credit_applied_minor",
            "credited_minor",
            "balance_minor",
            "status",
        ]
    )
    return invoice


def _paid_minor(invoice: Invoice) -> int:
    """What succeeded payments applied to the invoice: its allocations by the
    invoice's index, then their payments by primary key. Two look-ups that
    no planner can turn into a scan of every payment (a join can, with stale
    statistics: 7,000 auto debits took 30 ms each instead of 14)."""
    from isocnet.payments.models import Allocation, Payment, PaymentStatus

    rows = list(
        Allocation.objects.filter(invoice=invoice).values_list("payment_id", "amount_minor")
    )
    if not rows:
        return 0
    good = set(
        Payment.objects.filter(
            pk__in={p for p, _ in rows}, status=PaymentStatus.SUCCEEDED
        ).values_list("pk", flat=True)
    )
    return sum(amount for p, amount in rows if p in good)
