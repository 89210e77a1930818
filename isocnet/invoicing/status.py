"""An invoice's status: the one place it moves, against its table
(invoicing.models.INVOICE_TRANSITIONS). Issuing (invoicing.issuing),
settling after a payment or credit (invoicing.balances) and voiding
(invoicing.services) all call ``invoice_status_move``."""

from __future__ import annotations

from isocnet.core.states import transition
from isocnet.invoicing.models import INVOICE_TRANSITIONS, Invoice


def invoice_status_move(invoice: Invoice, new: str) -> None:
    invoice.status = transition(invoice.status, new, INVOICE_TRANSITIONS, what="an invoice")
