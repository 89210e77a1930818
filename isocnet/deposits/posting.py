"""An item becomes money on an account: the one writer of an item's state.

Posting a check goes through payments' own apply_payment_locked, so a
check from a deposit is the same payment, allocations, credit, receipt and
audit as one a clerk records by hand: the invoice the slip names first (if
it is still open), then the account's other open invoices oldest due
first, and anything over what is owed to account credit. A check for an
invoice already paid goes to the account the same way, and the clerk is
told. Callers hold the customer's lock.
"""

from __future__ import annotations

from collections import Counter

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_event
from isocnet.core.models import AuditEvent
from isocnet.core.states import transition
from isocnet.customers.models import Customer
from isocnet.deposits.models import ITEM_TRANSITIONS, DepositItem, ItemState
from isocnet.invoicing.models import OPEN_STATUSES
from isocnet.payments.models import PaymentKind
from isocnet.payments.services import (
    PaymentResult,
    PlainPayment,
    apply_payment_locked,
    plain_payments_apply_locked,
)


def item_move(item: DepositItem, state: str) -> None:
    item.state = transition(item.state, state, ITEM_TRANSITIONS, what="a deposit item")


def payment_reference(item: DepositItem) -> str:
    """What the receipt and the statement say: "check #1042" (a bank
    transfer: the bank's reference)."""
    if item.method != PaymentKind.CHECK:
        return item.bank_reference
    return f"check #{item.check_number}" if item.check_number else ""


def item_post_locked(
    *, actor: Actor, item: DepositItem, customer: Customer, received_on, audit: list
) -> PaymentResult:
    """Post a check item to ``customer`` (locked by the caller). Appends
    the item's audit row to ``audit`` (the caller writes them together)."""
    named = item.invoice if item.invoice_id and item.invoice.customer_id == customer.pk else None
    first = named.pk if named is not None and named.status in OPEN_STATUSES else None
    result = apply_payment_locked(
        actor=actor,
        customer=customer,
        money=item.amount,
        method=item.method,
        reference=payment_reference(item),
        received=received_on,
        invoice_id=None,
        first_invoice_id=first,
    )
    notes = []
    if named is not None and first is None:
        notes.append(
            f"invoice {named.number} was already {named.get_status_display().lower()}: "
            "the check went to the account"
        )
    if result.credit:
        notes.append(f"{result.credit.format()} became account credit")
    if result.allocations:
        paid = ", ".join(f"{a.invoice.number} {a.amount.format()}" for a in result.allocations)
        notes.insert(0, f"paid {paid}")
    from_state = item.state
    item_move(item, ItemState.POSTED)
    item.customer = customer
    item.payment = result.payment
    item.note = "; ".join(notes)[:300]
    item.resolved_by = actor.label
    item.resolved_at = clock.now()
    item.save(update_fields=["state", "customer", "payment", "note", "resolved_by", "resolved_at"])
    audit.append(_post_audit(actor, item, from_state))
    return result


def items_post_plain_locked(
    *, actor: Actor, items: list[DepositItem], customers: dict[int, Customer], audit: list
) -> set[int]:
    """The bulk path for the common check: the only check of its account
    here, for no more than the open invoice its slip names. Posted together
    (payments.plain_payments_apply_locked: the same rows as one by one, a
    few statements for the lot); returns the ids of the items it posted,
    the rest are left to ``item_post_locked``. Customers locked by the
    caller."""
    per_customer = Counter(item.customer_id for item in items)
    candidates = {
        item.pk: PlainPayment(
            customer=customers[item.customer_id],
            invoice_id=item.invoice_id,
            money=item.amount,
            method=item.method,
            reference=payment_reference(item),
            received=item.batch.deposit_date,
        )
        for item in items
        if item.invoice_id and per_customer[item.customer_id] == 1
    }
    done = plain_payments_apply_locked(actor=actor, payments=list(candidates.values()))
    posted = []
    now = clock.now()
    for item in items:
        plain = candidates.get(item.pk)
        result = done.get(id(plain)) if plain is not None else None
        if result is None:
            continue
        allocation = result.allocations[0]
        from_state = item.state
        item_move(item, ItemState.POSTED)
        item.customer = customers[item.customer_id]
        item.payment = result.payment
        item.note = f"paid {allocation.invoice.number} {allocation.amount.format()}"
        item.resolved_by, item.resolved_at = actor.label, now
        posted.append(item)
        audit.append(_post_audit(actor, item, from_state))
    DepositItem.objects.bulk_update(
        posted, ["state", "customer", "payment", "note", "resolved_by", "resolved_at"]
    )
    return {item.pk for item in posted}


def _post_audit(actor: Actor, item: DepositItem, from_state: str):
    return audit_event(
        actor=actor,
        action="deposit.item_post",
        obj=item,
        customer_id=item.customer_id,
        before={"state": from_state},
        after={
            "state": item.state,
            "batch": item.batch_id,
            "payment": item.payment_id,
            "amount": item.amount.as_string(),
            "check": item.check_number,
            "matched_by": item.match,
            "confidence": item.confidence,
            "note": item.note,
        },
    )


def item_hold_unapplied(*, actor: Actor, item: DepositItem, reason: str, audit: list) -> None:
    """Money nobody can be named for yet: held as unapplied cash on the
    deposit (counted in the deposit's total, never lost) until a clerk
    applies it."""
    from_state = item.state
    item_move(item, ItemState.UNAPPLIED)
    item.customer = None
    item.invoice = None
    item.note = reason[:300]
    item.resolved_by = actor.label
    item.resolved_at = clock.now()
    item.save(update_fields=["state", "customer", "invoice", "note", "resolved_by", "resolved_at"])
    audit.append(unapplied_audit(actor, item, from_state))


def unapplied_audit(actor: Actor, item: DepositItem, from_state: str | None = None):
    """The audit row of a check held as unapplied cash (at the hold, or, for
    a draft's, when its batch is posted)."""
    return audit_event(
        actor=actor,
        action="deposit.item_unapplied",
        obj=item,
        before={"state": from_state} if from_state else None,
        after={
            "state": item.state,
            "amount": item.amount.as_string(),
            "batch": item.batch_id,
            "reason": item.note,
        },
    )


def audit_write(rows: list) -> None:
    if rows:
        AuditEvent.objects.bulk_create(rows)
