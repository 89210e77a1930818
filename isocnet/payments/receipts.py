"""Receipts: a numbered receipt for each payment applied to an invoice,
taken from the year's gapless series in the payment's transaction, and its
Invoice Payment Confirmation notice."""

from __future__ import annotations

from django.conf import settings

from isocnet.core import clock
from isocnet.core.sequences import sequence_take
from isocnet.ledger.models import Allocation
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notices_queue_new
from isocnet.payments.models import Receipt


def receipts_issue(allocations: list[Allocation]) -> list[Receipt]:
    """A numbered receipt for each allocation of a payment to an invoice
    (one payment, or a batch of card charges), and its "Invoice Payment
    Confirmation" notice, in the caller's transaction: the numbers are
    taken in one step from the year's gapless receipt series."""
    return _receipts_write(
        [
            (a.payment_id, a.invoice_id, a.payment.customer_id, a.amount_minor, a.payment.currency)
            for a in allocations
        ]
    )


def receipt_for_credit(payment, amount_minor: int) -> Receipt:
    """The receipt of a payment that paid no invoice: all of it was kept as
    account credit (a check for an invoice already paid, a payment on an
    account that owed nothing). Numbered like every receipt, and emailed."""
    (receipt,) = _receipts_write(
        [(payment.pk, None, payment.customer_id, amount_minor, payment.currency)]
    )
    return receipt


def _receipts_write(items: list[tuple]) -> list[Receipt]:
    """Receipts of (payment id, invoice id or None, customer id, amount,
    currency), numbered together, each with its notice."""
    if not items:
        return []
    today, now = clock.today(), clock.now()
    fmt = settings.RECEIPT_NUMBER_FORMAT
    series = f"receipt-{today.year}" if "{year}" in fmt else "receipt"
    numbers = sequence_take(series, len(items))
    receipts = Receipt.objects.bulk_create(
        [
            Receipt(
                number=fmt.format(year=today.year, seq=seq),
                series=series,
                sequence=seq,
                payment_id=payment_id,
                invoice_id=invoice_id,
                customer_id=customer_id,
                amount_minor=amount_minor,
                currency=currency,
                issue_date=today,
                created_at=now,
            )
            for (payment_id, invoice_id, customer_id, amount_minor, currency), seq in zip(
                items, numbers, strict=True
            )
        ]
    )
    notices_queue_new(
        kind=MessageKind.RECEIPT,
        notices=[
            (f"receipt:{r.payment_id}:{r.invoice_id or 'credit'}", r.customer_id, r.invoice_id)
            for r in receipts
        ],
        contexts=[{"payment": r.payment_id, "receipt": r.pk} for r in receipts],
    )
    return receipts
