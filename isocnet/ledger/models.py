"""The ledger's rows: money applied to invoices (allocations of payments)
and the account-credit ledger. Append-only; written only through
isocnet.ledger.entries, read through isocnet.ledger.sums. They keep the
app label ``payments`` (tables payments_allocation and payments_creditentry,
migrations in isocnet/payments/migrations), which registers them by
importing this module; they live here, a floor below invoicing and
payments, so that both can read and write them without importing each
other."""

from __future__ import annotations

from django.db import models

from isocnet.core.money import Money


class Allocation(models.Model):
    """Part of a payment applied to an invoice. A refund reverses part of it
    with a negative row that names the refund (the history stays
    append-only)."""

    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="allocations"
    )
    amount_minor = models.BigIntegerField()
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    created_at = models.DateTimeField()

    class Meta:
        app_label = "payments"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0, refund__isnull=True)
                | models.Q(amount_minor__lt=0, refund__isnull=False),
                name="allocation_positive_or_refund_reversal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to {self.invoice}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.invoice.currency)


class CreditKind(models.TextChoices):
    OVERPAYMENT = "overpayment", "Overpayment"
    APPLIED = "applied", "Applied to invoice"
    ADJUSTMENT = "adjustment", "Manual adjustment"
    OPENING_BALANCE = "opening_balance", "Opening balance"
    CREDIT_NOTE = "credit_note", "Credit note"
    REVERSAL = "reversal", "Reversal (returned payment)"
    UNAPPLIED = "unapplied", "Credit taken back from an invoice"
    REFUND = "refund", "Refunded to the card"
    REFUND_TO_CREDIT = "refund_to_credit", "Refunded to account credit"


class CreditEntry(models.Model):
    """Append-only account-credit ledger. Positive entries add credit,
    negative ones use it; available credit is the sum, never below zero."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="credit_entries"
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=20, choices=CreditKind.choices)
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
    )
    refund = models.ForeignKey(
        "payments.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
    )
    memo = models.CharField(max_length=300, blank=True)
    recorded_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "payments"
        ordering = ["id"]
        verbose_name_plural = "credit entries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_minor=0), name="credit_entry_not_zero"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="applied")
                | models.Q(amount_minor__lt=0, invoice__isnull=False),
                name="credit_applied_is_negative_with_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)
