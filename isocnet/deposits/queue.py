"""The exceptions queue: bank-file items no rule was sure of, returned
items that name no posted check, and unapplied cash. A clerk picks the
account (a suggestion, or an account or invoice number) and the item posts
as any check does; or marks it unapplied cash, held on the deposit until
someone can say whose it is."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from isocnet.core.actors import Actor
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.permissions import require
from isocnet.core.validation import clean_line
from isocnet.customers.models import Customer
from isocnet.customers.services import customer_lock
from isocnet.deposits.bank_files import return_item_post
from isocnet.deposits.models import BatchStatus, DepositItem, ItemKind, ItemState, Match
from isocnet.deposits.posting import audit_write, item_hold_unapplied, item_post_locked
from isocnet.invoicing.models import Invoice
from isocnet.payments.models import Payment

WAITING = (ItemState.EXCEPTION, ItemState.UNAPPLIED)


def exceptions_queue() -> QuerySet[DepositItem]:
    """What waits for a clerk, oldest first: items of posted deposits that
    are not posted (in draft batches they are the keying clerk's)."""
    return (
        DepositItem.objects.filter(state__in=WAITING, batch__status=BatchStatus.POSTED)
        .select_related("batch", "customer", "invoice")
        .order_by("batch__deposit_date", "batch_id", "position")
    )


def _target(customer_id, account_number, invoice_number) -> tuple[int, int | None]:
    if invoice_number:
        number = clean_line(invoice_number, "invoice_number", max_length=40).upper()
        row = Invoice.objects.filter(number=number).values_list("pk", "customer_id").first()
        if row is None:
            raise NotFound(f"no invoice numbered {number}", field="invoice_number")
        if customer_id is not None and customer_id != row[1]:
            raise InvalidInput("the invoice belongs to another account", field="invoice_number")
        return row[1], row[0]
    if account_number:
        number = clean_line(account_number, "account_number", max_length=40).upper()
        pk = Customer.objects.filter(account_number=number).values_list("pk", flat=True).first()
        if pk is None:
            raise NotFound(f"no account numbered {number}", field="account_number")
        return pk, None
    if customer_id is None:
        raise InvalidInput("name the account, an invoice or a suggestion", field="customer")
    if not Customer.objects.filter(pk=customer_id).exists():
        raise NotFound(f"no customer with id {customer_id}", field="customer")
    return customer_id, None


def _waiting(item_id) -> DepositItem:
    item = (
        DepositItem.objects.select_for_update()
        .select_related("batch")
        .filter(pk=item_id, batch__status=BatchStatus.POSTED)
        .first()
    )
    if item is None:
        raise NotFound(f"no deposit item {item_id} in the exceptions queue", field="item")
    if item.state not in WAITING:
        raise Conflict(
            f"item {item_id} is already {item.get_state_display().lower()}", field="item"
        )
    return item


def exception_resolve(
    *,
    actor: Actor,
    item_id: int,
    customer_id: int | None = None,
    account_number: str = "",
    invoice_number: str = "",
    payment_id: int | None = None,
) -> DepositItem:
    """Post a waiting check to the account a clerk names (and the invoice,
    if named: paid first). A waiting returned item: name the payment it
    returns (``payment_id``)."""
    require(actor, "payment.record")
    with transaction.atomic():
        peek = DepositItem.objects.filter(pk=item_id).values_list("kind", flat=True).first()
        if peek == ItemKind.RETURN:
            return _resolve_return(actor, item_id, payment_id)
        customer_pk, invoice_pk = _target(customer_id, account_number, invoice_number)
        customer = customer_lock(customer_pk)  # the account first, then the item
        item = _waiting(item_id)
        item.invoice = Invoice.objects.get(pk=invoice_pk) if invoice_pk else None
        item.match, item.confidence = Match.CLERK, 100
        item.save(update_fields=["invoice", "match", "confidence"])
        audit: list = []
        item_post_locked(
            actor=actor,
            item=item,
            customer=customer,
            received_on=item.batch.deposit_date,
            audit=audit,
        )
        audit_write(audit)
    return item


def _resolve_return(actor: Actor, item_id: int, payment_id) -> DepositItem:
    require(actor, "payment.return")
    item = _waiting(item_id)
    if payment_id is None:
        raise InvalidInput("name the payment this returned item takes back", field="payment")
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"no payment with id {payment_id}", field="payment")
    if not return_item_post(actor, item, payment):
        raise Conflict(item.note, field="payment")
    return item


def exception_unapply(*, actor: Actor, item_id: int, reason: str = "") -> DepositItem:
    """Nobody can be named: hold the check as unapplied cash."""
    require(actor, "payment.record")
    reason = clean_line(reason or "marked unapplied by a clerk", "reason", max_length=300)
    with transaction.atomic():
        item = _waiting(item_id)
        if item.kind == ItemKind.RETURN:
            raise Conflict("a returned item is resolved by naming its payment", field="item")
        if item.state == ItemState.UNAPPLIED:
            return item
        audit: list = []
        item_hold_unapplied(actor=actor, item=item, reason=reason, audit=audit)
        audit_write(audit)
    return item
