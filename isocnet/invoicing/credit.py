"""Account credit applied to an invoice (at issue, with AUTO_APPLY_CREDIT,
or by staff): the ledger's entry, then the invoice's new balance."""

from __future__ import annotations

from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.money import Money
from isocnet.invoicing.balances import invoice_settle
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditKind
from isocnet.ledger.sums import available_credit_minor


def credit_apply_locked(*, actor: Actor, invoice: Invoice) -> Money:
    """Apply the customer's available credit to ``invoice``. The caller
    holds the customer and invoice locks. Returns the amount applied."""
    if invoice.status not in OPEN_STATUSES:
        return Money.zero(invoice.currency)
    take = min(available_credit_minor(invoice.customer_id), invoice.balance_minor)
    if take <= 0:
        return Money.zero(invoice.currency)
    credit_entry_add(
        actor=actor,
        customer_id=invoice.customer_id,
        amount_minor=-take,
        currency=invoice.currency,
        kind=CreditKind.APPLIED,
        invoice_id=invoice.pk,
        memo=f"Applied to invoice #{invoice.number}",
    )
    invoice_settle(invoice)
    applied = Money.from_minor(take, invoice.currency)
    audit_record(
        actor=actor,
        action="credit.apply",
        obj=invoice,
        customer_id=invoice.customer_id,
        after={"applied": applied.as_string(), "balance": invoice.balance.as_string()},
    )
    return applied
