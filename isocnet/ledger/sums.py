"""The one reader of the ledger: what succeeded payments applied to each
invoice, what account credit was applied to it, and what credit an account
has. Sums are of integer minor units (never a float on SQLite)."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from isocnet.ledger.models import Allocation, CreditEntry, CreditKind

SUCCEEDED = "succeeded"  # payments.PaymentStatus.SUCCEEDED: only these count as paid


def available_credit_minor(customer_id: int) -> int:
    return (
        CreditEntry.objects.filter(customer_id=customer_id).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )


def paid_minor(invoice_ids: list[int]) -> dict[int, int]:
    """What succeeded payments applied to each invoice (refund reversals
    included): their allocations by the invoice index, then their payments'
    status by primary key. Two look-ups that no planner can turn into a scan
    of every payment (a join can, with stale statistics: 7,000 auto debits
    took 30 ms each instead of 14)."""
    rows = list(
        Allocation.objects.filter(invoice_id__in=invoice_ids).values_list(
            "invoice_id", "payment_id", "amount_minor"
        )
    )
    if not rows:
        return {}
    payment_model = Allocation._meta.get_field("payment").related_model
    good = set(
        payment_model.objects.filter(pk__in={p for _, p, _ in rows}, status=SUCCEEDED).values_list(
            "pk", flat=True
        )
    )
    paid: dict[int, int] = {}
    for invoice_id, payment_id, amount in rows:
        if payment_id in good:
            paid[invoice_id] = paid.get(invoice_id, 0) + amount
    return paid


def credit_applied_minor(invoice_ids: list[int]) -> dict[int, int]:
    """Account credit applied to each invoice, less any taken back (positive)."""
    rows = (
        CreditEntry.objects.filter(
            invoice_id__in=invoice_ids, kind__in=[CreditKind.APPLIED, CreditKind.UNAPPLIED]
        )
        .order_by()
        .values("invoice_id")
        .annotate(s=Sum("amount_minor"))
        .values_list("invoice_id", "s")
    )
    return {invoice_id: -total for invoice_id, total in rows}


def account_credit_column(customer_ref: str = "pk"):
    """An account's available credit as a column of a customer query
    (``.annotate(credit=account_credit_column())``): the same sum as
    ``available_credit_minor``, for lists that show many accounts at once."""
    per_customer = (
        CreditEntry.objects.filter(customer_id=OuterRef(customer_ref))
        .order_by()
        .values("customer_id")
        .annotate(s=Sum("amount_minor"))
        .values("s")
    )
    return Coalesce(Subquery(per_customer), 0)


def customers_with_credit(customer_ids: list[int]) -> set[int]:
    """Of these customers, those with available credit (one query)."""
    return set(
        CreditEntry.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(total=Sum("amount_minor"))
        .filter(total__gt=0)
        .values_list("customer_id", flat=True)
    )


def paid_and_credit_applied_by(invoices, end) -> tuple[int, int]:
    """Of ``invoices`` (a query), what payments had applied by ``end`` (a
    returned payment counts until it was returned) and what account credit
    had been applied by then, less any taken back: the receivables as of a
    day. Payment status through the payments floor's model, by its field
    values (``succeeded``; a payment voided after ``end`` still counted)."""
    from django.db.models import Q

    paid = (
        Allocation.objects.filter(invoice__in=invoices, created_at__lte=end)
        .filter(Q(payment__status=SUCCEEDED) | Q(payment__voided_at__gt=end))
        .aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
    credit = -(
        CreditEntry.objects.filter(
            invoice__in=invoices,
            kind__in=[CreditKind.APPLIED, CreditKind.UNAPPLIED],
            created_at__lte=end,
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
    return paid, credit
