"""What the deposit screens and reports read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from isocnet.core.money import Money
from isocnet.deposits.models import BatchStatus, DepositBatch, DepositItem, ItemKind, ItemState
from isocnet.invoicing.models import OPEN_STATUSES, Invoice


@dataclass
class Row:
    item: DepositItem
    whom: str  # "C000123 Ada Lovelace, invoice 2026-000123" or ""
    remains: str  # what the account still owes after this check, or the credit it makes


def batch_rows(batch: DepositBatch) -> list[Row]:
    """Each keyed check with whom it matched and what the account would
    still owe after the checks of this batch so far (in keying order)."""
    items = list(batch.items.select_related("customer", "invoice", "payment").order_by("position"))
    owed = dict(
        Invoice.objects.filter(
            customer_id__in={i.customer_id for i in items if i.customer_id},
            status__in=OPEN_STATUSES,
        )
        .values("customer_id")
        .annotate(s=Sum("balance_minor"))
        .values_list("customer_id", "s")
    )
    rows = []
    for item in items:
        whom, remains = "", ""
        if item.customer_id:
            whom = f"{item.customer.account_number} {item.customer.name}"
            if item.invoice_id:
                whom += f", invoice {item.invoice.number}"
            if item.state != ItemState.POSTED:
                left = owed.get(item.customer_id, 0) - item.amount_minor
                owed[item.customer_id] = left
                money = Money.from_minor(abs(left), item.currency)
                remains = (
                    "paid in full"
                    if left == 0
                    else (
                        f"{money.format()} still owed"
                        if left > 0
                        else f"{money.format()} to credit"
                    )
                )
            else:
                remains = item.note
        rows.append(Row(item=item, whom=whom, remains=remains))
    return rows


@dataclass
class DepositLine:
    batch: DepositBatch
    count: int
    total: Money
    returned: int
    returned_total: Money
    unapplied: Money
    waiting: int


def deposit_report(*, date_from: dt.date, date_to: dt.date) -> list[DepositLine]:
    """Posted deposits as the bank sees them: the day, the slip or batch
    reference, how many checks and their total; then what came back and
    what is still unapplied or waiting in the queue."""
    batches = (
        DepositBatch.objects.filter(
            status=BatchStatus.POSTED, deposit_date__gte=date_from, deposit_date__lte=date_to
        )
        .annotate(
            n=Count("items", filter=Q(items__kind=ItemKind.PAYMENT)),
            total=Sum("items__amount_minor", filter=Q(items__kind=ItemKind.PAYMENT)),
            n_ret=Count("items", filter=Q(items__kind=ItemKind.RETURN)),
            ret=Sum("items__amount_minor", filter=Q(items__kind=ItemKind.RETURN)),
            unapplied=Sum("items__amount_minor", filter=Q(items__state=ItemState.UNAPPLIED)),
            waiting=Count("items", filter=Q(items__state=ItemState.EXCEPTION)),
        )
        .order_by("deposit_date", "id")
    )
    return [
        DepositLine(
            batch=b,
            count=b.n,
            total=Money.from_minor(b.total or 0, b.currency),
            returned=b.n_ret,
            returned_total=Money.from_minor(b.ret or 0, b.currency),
            unapplied=Money.from_minor(b.unapplied or 0, b.currency),
            waiting=b.waiting,
        )
        for b in batches
    ]
