"""Deposit batches keyed by a clerk: open one for a deposit slip, key the
checks (scan line, or account / invoice number, and the amount and check
number), correct them while the batch is a draft, and post it when its
count and total agree with the deposit slip — every check at once, in one
transaction, with its receipt queued, or nothing. A posted batch never
changes: a check that bounces later is a returned payment."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.states import transition
from isocnet.core.validation import clean_line, clean_money, clean_payment_date
from isocnet.customers.models import Customer
from isocnet.customers.services import customers_lock
from isocnet.deposits.matching import Slip, match_slip
from isocnet.deposits.models import (
    BATCH_TRANSITIONS,
    BatchStatus,
    DepositBatch,
    DepositItem,
    ItemState,
    Match,
    Source,
)
from isocnet.deposits.posting import (
    audit_write,
    item_hold_unapplied,
    item_move,
    item_post_locked,
    items_post_plain_locked,
    unapplied_audit,
)
from isocnet.invoicing.models import Invoice
from isocnet.invoicing.scanline import ScanLineError, scan_line_parse

MAX_ITEMS = 10_000


@dataclass
class Totals:
    count: int
    total: Money
    expected_count: int | None
    expected_total: Money | None
    unmatched: int

    @property
    def count_agrees(self) -> bool:
        return self.expected_count is None or self.expected_count == self.count

    @property
    def total_agrees(self) -> bool:
        return self.expected_total is None or self.expected_total == self.total

    @property
    def ready(self) -> bool:
        return self.count > 0 and self.count_agrees and self.total_agrees and not self.unmatched

    @property
    def difference(self) -> Money | None:
        return None if self.expected_total is None else self.expected_total - self.total


def batch_totals(batch: DepositBatch, items: list[DepositItem] | None = None) -> Totals:
    if items is None:
        items = list(batch.items.all())
    return Totals(
        count=len(items),
        total=Money.from_minor(sum(i.amount_minor for i in items), batch.currency),
        expected_count=batch.expected_count,
        expected_total=batch.expected_total,
        unmatched=sum(1 for i in items if i.state == ItemState.PENDING and i.customer_id is None),
    )


def _expected(batch_currency: str, expected_count, expected_total) -> tuple:
    count = None
    if expected_count not in (None, ""):
        try:
            count = int(expected_count)
        except (TypeError, ValueError):
            raise InvalidInput("must be a whole number", field="expected_count") from None
        if not 1 <= count <= MAX_ITEMS:
            raise InvalidInput(f"must be between 1 and {MAX_ITEMS}", field="expected_count")
    total = None
    if expected_total not in (None, ""):
        total = clean_money(expected_total, "expected_total", batch_currency, allow_zero=False)
    return count, total


def batch_open(
    *,
    actor: Actor,
    reference: str,
    deposit_date=None,
    expected_count=None,
    expected_total=None,
    items=(),
) -> DepositBatch:
    """A draft batch for one deposit slip: its number, the day the checks
    are deposited (their payments' received date), and the slip's count and
    total, which the batch must match to be posted. ``items``: checks keyed
    at once (dicts of batch_item_add's fields); one refused refuses all,
    naming ``items[i].field``."""
    require(actor, "payment.record")
    reference = clean_line(reference, "reference", max_length=120)
    day = clean_payment_date(deposit_date, "deposit_date") if deposit_date else clock.today()
    currency = settings.CURRENCY
    count, total = _expected(currency, expected_count, expected_total)
    with transaction.atomic():
        batch = DepositBatch.objects.create(
            reference=reference,
            deposit_date=day,
            currency=currency,
            expected_count=count,
            expected_total_minor=total.minor() if total is not None else None,
            source=Source.MANUAL,
            created_by=actor.label,
            created_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action="deposit.batch_open",
            obj=batch,
            after={
                "reference": reference,
                "deposit_date": day.isoformat(),
                "expected_count": count,
                "expected_total": total.as_string() if total is not None else None,
            },
        )
        for index, keyed in enumerate(items):
            try:
                _item_add_locked(batch, _keyed(currency, **keyed), index + 1)
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field=f"items[{index}].{exc.field}") from None
    return batch


def batch_lock_draft(batch_id) -> DepositBatch:
    """Lock the batch; a Conflict unless it is still a draft."""
    batch = DepositBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"no deposit batch with id {batch_id}", field="batch")
    if batch.status != BatchStatus.DRAFT:
        raise Conflict(
            f"deposit {batch.reference} is posted and can no longer change; "
            "a check that bounced is recorded as a returned payment",
            field="batch",
        )
    return batch


def batch_update(
    *, actor: Actor, batch_id: int, reference=None, expected_count=None, expected_total=None
) -> DepositBatch:
    """Correct a draft's deposit slip figures (what was typed wrong)."""
    require(actor, "payment.record")
    with transaction.atomic():
        batch = batch_lock_draft(batch_id)
        if reference is not None:
            batch.reference = clean_line(reference, "reference", max_length=120)
        count, total = _expected(batch.currency, expected_count, expected_total)
        if expected_count is not None:
            batch.expected_count = count
        if expected_total is not None:
            batch.expected_total_minor = total.minor() if total is not None else None
        batch.save(update_fields=["reference", "expected_count", "expected_total_minor"])
    return batch


@dataclass
class Keyed:
    """A check as keyed, cleaned."""

    scan_line: str
    account_number: str
    invoice_number: str
    amount: Money
    check_number: str
    payer_name: str


def _keyed(
    currency: str,
    *,
    scan_line: str = "",
    account_number: str = "",
    invoice_number: str = "",
    amount=None,
    check_number: str = "",
    payer_name: str = "",
) -> Keyed:
    scan_line = clean_line(scan_line or "", "scan_line", max_length=80, required=False)
    parsed = None
    if scan_line:
        try:
            parsed = scan_line_parse(scan_line)
        except ScanLineError as exc:
            raise InvalidInput(str(exc), field="scan_line") from None
        scan_line = str(parsed)
    account_number = clean_line(
        account_number or "", "account_number", max_length=40, required=False
    ).upper()
    invoice_number = clean_line(
        invoice_number or "", "invoice_number", max_length=40, required=False
    ).upper()
    if not (parsed or account_number or invoice_number):
        raise InvalidInput("give the scan line, or an account or invoice number", field="scan_line")
    if amount in (None, ""):
        if parsed is None:
            raise InvalidInput("is required", field="amount")
        money = Money.from_minor(parsed.amount_minor, currency)  # the slip's amount due
        if not money:
            raise InvalidInput("is required: the slip says nothing is due", field="amount")
    else:
        money = clean_money(amount, "amount", currency, allow_zero=False)
    return Keyed(
        scan_line=scan_line,
        account_number=account_number,
        invoice_number=invoice_number,
        amount=money,
        check_number=clean_line(check_number or "", "check_number", max_length=40, required=False),
        payer_name=clean_line(payer_name or "", "payer_name", max_length=140, required=False),
    )


def _apply_match(item: DepositItem, keyed: Keyed) -> None:
    found = match_slip(
        Slip(
            amount_minor=keyed.amount.minor(),
            scan_line=keyed.scan_line,
            account_number=keyed.account_number,
            invoice_number=keyed.invoice_number,
            payer_name=keyed.payer_name,
        )
    )
    item.scan_line = keyed.scan_line
    item.account_number = keyed.account_number
    item.invoice_number = keyed.invoice_number
    item.amount_minor = keyed.amount.minor()
    item.check_number = keyed.check_number
    item.payer_name = keyed.payer_name
    item.customer_id = found.customer_id if found.sure else None
    item.invoice_id = found.invoice_id if found.sure else None
    item.match = found.match if found.sure else Match.NONE
    item.confidence = found.confidence
    item.note = found.note[:300]
    item.suggestions = found.suggestions


def batch_item_add(*, actor: Actor, batch_id: int, **keyed) -> DepositItem:
    """Key one check into a draft: matched at once (the row says whom, or
    why nobody), saved whatever the match, so the clerk keeps going and
    fixes the unmatched ones before posting."""
    require(actor, "payment.record")
    with transaction.atomic():
        batch = batch_lock_draft(batch_id)
        cleaned = _keyed(batch.currency, **keyed)
        position = (batch.items.aggregate(m=Max("position"))["m"] or 0) + 1
        return _item_add_locked(batch, cleaned, position)


def _item_add_locked(batch: DepositBatch, cleaned: Keyed, position: int) -> DepositItem:
    if position > MAX_ITEMS:
        raise Conflict(f"a batch holds at most {MAX_ITEMS} checks", field="batch")
    item = DepositItem(
        batch=batch,
        position=position,
        state=ItemState.PENDING,
        currency=batch.currency,
        created_at=clock.now(),
    )
    _apply_match(item, cleaned)
    item.save(force_insert=True)
    return item


def _item_of(batch: DepositBatch, item_id) -> DepositItem:
    item = DepositItem.objects.select_for_update().filter(pk=item_id, batch=batch).first()
    if item is None:
        raise NotFound(f"deposit {batch.reference} has no item {item_id}", field="item")
    return item


def batch_item_change(
    *,
    actor: Actor,
    batch_id: int,
    item_id: int,
    customer_id: int | None = None,
    unapplied: bool = False,
    **keyed,
) -> DepositItem:
    """Correct a keyed check: type it again (matched again), name the
    account (``customer_id``, e.g. a suggestion) or mark it unapplied cash
    (nobody can be named: held on the deposit, never lost)."""
    require(actor, "payment.record")
    with transaction.atomic():
        batch = batch_lock_draft(batch_id)
        item = _item_of(batch, item_id)
        if unapplied:
            item_hold_unapplied(actor=actor, item=item, reason="marked unapplied", audit=[])
            return item
        if item.state == ItemState.UNAPPLIED:
            item_move(item, ItemState.PENDING)
        current = {
            "scan_line": item.scan_line,
            "account_number": item.account_number,
            "invoice_number": item.invoice_number,
            "amount": item.amount,
            "check_number": item.check_number,
            "payer_name": item.payer_name,
        }
        current.update({k: v for k, v in keyed.items() if v is not None})
        _apply_match(item, _keyed(batch.currency, **current))
        if customer_id is not None:
            customer = Customer.objects.filter(pk=customer_id).first()
            if customer is None:
                raise NotFound(f"no customer with id {customer_id}", field="customer")
            if item.customer_id != customer.pk:
                item.customer = customer
                item.invoice_id = _invoice_of(customer.pk, item.invoice_number)
                item.match, item.confidence = Match.CLERK, 100
                item.note = "chosen by a clerk"
        item.save()
    return item


def _invoice_of(customer_id: int, number: str) -> int | None:
    if not number:
        return None
    return (
        Invoice.objects.filter(customer_id=customer_id, number=number)
        .values_list("pk", flat=True)
        .first()
    )


def batch_item_remove(*, actor: Actor, batch_id: int, item_id: int) -> None:
    require(actor, "payment.record")
    with transaction.atomic():
        batch = batch_lock_draft(batch_id)
        _item_of(batch, item_id).delete()


@dataclass
class Posted:
    batch: DepositBatch
    payments: int
    unapplied: Money
    credit: Money


def batch_post(*, actor: Actor, batch_id: int) -> Posted:
    """Post every check of a draft at once: one transaction, receipts
    queued, or nothing at all. Refused while the count or the total differs
    from the deposit slip or any check matches nobody."""
    require(actor, "payment.record")
    with transaction.atomic():
        batch = batch_lock_draft(batch_id)
        items = list(batch.items.select_related("invoice").order_by("position"))
        totals = batch_totals(batch, items)
        if not items:
            raise Conflict("the batch has no checks", field="items")
        if not totals.count_agrees:
            raise Conflict(
                f"the batch has {totals.count} checks; the deposit slip says "
                f"{totals.expected_count}",
                field="expected_count",
            )
        if not totals.total_agrees:
            raise Conflict(
                f"the checks add up to {totals.total.format()}; the deposit slip says "
                f"{totals.expected_total.format()} (difference {totals.difference.format()})",
                field="expected_total",
            )
        if totals.unmatched:
            raise Conflict(
                f"{totals.unmatched} check(s) match no account: correct them, choose the "
                "account, or mark them unapplied",
                field="items",
            )
        customers = customers_lock(i.customer_id for i in items if i.customer_id)
        audit: list = []
        payments, credit = 0, Money.zero(batch.currency)
        unapplied = Money.zero(batch.currency)
        to_post = [item for item in items if item.state != ItemState.UNAPPLIED]
        bulk = items_post_plain_locked(actor=actor, items=to_post, customers=customers, audit=audit)
        payments += len(bulk)
        for item in items:
            if item.state == ItemState.UNAPPLIED:
                unapplied = unapplied + item.amount
                audit.append(unapplied_audit(actor, item))
                continue
            if item.pk in bulk:
                continue
            result = item_post_locked(
                actor=actor,
                item=item,
                customer=customers[item.customer_id],
                received_on=batch.deposit_date,
                audit=audit,
            )
            payments += 1
            if result.credit:
                credit = credit + result.credit
        batch.status = transition(
            batch.status, BatchStatus.POSTED, BATCH_TRANSITIONS, what="a deposit batch"
        )
        batch.posted_by, batch.posted_at = actor.label, clock.now()
        batch.save(update_fields=["status", "posted_by", "posted_at"])
        audit_write(audit)
        audit_record(
            actor=actor,
            action="deposit.batch_post",
            obj=batch,
            before={"status": BatchStatus.DRAFT},
            after={
                "status": batch.status,
                "count": totals.count,
                "total": totals.total.as_string(),
                "payments": payments,
                "unapplied": unapplied.as_string(),
                "credit": credit.as_string(),
            },
        )
    return Posted(batch=batch, payments=payments, unapplied=unapplied, credit=credit)
