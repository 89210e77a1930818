"""The one writer of the ledger's rows. Callers hold the customer's lock
(and the invoice's) inside their transaction; every row is append-only."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import Conflict
from isocnet.ledger.models import Allocation, CreditEntry, CreditKind
from isocnet.ledger.sums import available_credit_minor


def credit_entry_add(
    *,
    actor: Actor,
    customer_id: int,
    amount_minor: int,
    currency: str,
    kind: str,
    memo: str = "",
    invoice_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    created_at: dt.datetime | None = None,
) -> CreditEntry:
    """Add credit (positive) or use it (negative). Available credit never
    goes below zero: a use beyond it is refused."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credit_entry_add must run inside the caller's transaction")
    if amount_minor == 0:
        raise ValueError("a credit entry of zero records nothing")
    if kind not in CreditKind.values:
        raise ValueError(f"unknown credit kind {kind!r}")
    if amount_minor < 0 and available_credit_minor(customer_id) + amount_minor < 0:
        raise Conflict("the customer does not have that much credit", field="amount")
    return CreditEntry.objects.create(
        customer_id=customer_id,
        amount_minor=amount_minor,
        currency=currency,
        kind=kind,
        invoice_id=invoice_id,
        payment_id=payment_id,
        refund_id=refund_id,
        memo=memo[:300],
        recorded_by=actor.label,
        created_at=created_at or clock.now(),
    )


def allocations_add(rows: list[Allocation]) -> list[Allocation]:
    """Record these (unsaved) allocations of payments to invoices in one
    INSERT: positive ones apply a payment, negative ones (naming the refund)
    reverse part of it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocations_add must run inside the caller's transaction")
    return Allocation.objects.bulk_create(rows)


def allocation_add(
    *, payment, invoice, amount_minor: int, created_at: dt.datetime, refund=None
) -> Allocation:
    (row,) = allocations_add(
        [
            Allocation(
                payment=payment,
                invoice=invoice,
                amount_minor=amount_minor,
                refund=refund,
                created_at=created_at,
            )
        ]
    )
    return row
