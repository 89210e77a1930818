"""What an invoice event says to other systems (webhooks)."""

from __future__ import annotations

from isocnet.core.events import events_emit
from isocnet.invoicing.models import Invoice


def invoice_data(invoice: Invoice) -> dict:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "account_number": (invoice.bill_to or {}).get("account_number", ""),
        "status": invoice.status,
        "currency": invoice.currency,
        "total": invoice.total.as_string(),
        "balance": invoice.balance.as_string(),
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
    }


def invoices_event(type: str, invoices: list[Invoice]) -> None:
    if invoices:
        events_emit(type, lambda: [(i.customer_id, invoice_data(i)) for i in invoices])


def invoices_event_ids(type: str, invoice_ids: list[int]) -> None:
    """The same for invoices written without model instances (the batch
    path): read back only when someone listens."""
    if invoice_ids:
        events_emit(
            type,
            lambda: [
                (i.customer_id, invoice_data(i))
                for i in Invoice.objects.filter(pk__in=invoice_ids).order_by("pk")
            ],
        )
