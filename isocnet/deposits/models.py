"""Deposits: a batch of checks taken to the bank (keyed by a clerk, or read
from the bank's lockbox or BAI2 file), its items, and the files."""

from __future__ import annotations

from django.db import models

from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice
from isocnet.payments.models import Payment, PaymentKind


class Source(models.TextChoices):
    MANUAL = "manual", "Keyed by a clerk"
    LOCKBOX = "lockbox", "Lockbox file"
    BAI2 = "bai2", "BAI2 bank file"


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"


# A batch is posted once, and a posted batch never changes (corrections are
# returned payments): deposits.batches is its one writer.
BATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    BatchStatus.DRAFT: frozenset({BatchStatus.POSTED}),
    BatchStatus.POSTED: frozenset(),
}


class ItemKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    RETURN = "return", "Returned item"


class ItemState(models.TextChoices):
    PENDING = "pending", "In a draft batch"
    EXCEPTION = "exception", "To match (exceptions queue)"
    POSTED = "posted", "Posted"
    UNAPPLIED = "unapplied", "Unapplied cash"


# deposits.posting is the one writer of an item's state.
ITEM_TRANSITIONS: dict[str, frozenset[str]] = {
    ItemState.PENDING: frozenset({ItemState.POSTED, ItemState.UNAPPLIED}),
    ItemState.EXCEPTION: frozenset({ItemState.POSTED, ItemState.UNAPPLIED}),
    ItemState.UNAPPLIED: frozenset({ItemState.POSTED}),
    ItemState.POSTED: frozenset(),
}


class Match(models.TextChoices):
    SCAN_LINE = "scan_line", "Scan line"
    INVOICE = "invoice", "Invoice number"
    ACCOUNT = "account", "Account number"
    AMOUNT_NAME = "amount_name", "Amount and name"
    CLERK = "clerk", "Chosen by a clerk"
    NONE = "none", "No match"


class BankFile(models.Model):
    """A file from the bank, kept as received with what its import did."""

    format = models.CharField(max_length=10, choices=Source.choices)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    content = models.TextField()
    received_at = models.DateTimeField()
    imported_by = models.CharField(max_length=150)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.filename}"


class DepositBatch(models.Model):
    """The checks of one deposit slip. Keyed by a clerk (draft until posted,
    all at once) or made from a bank file (its sure items posted at import,
    the rest in the exceptions queue)."""

    reference = models.CharField(
        max_length=120, help_text="Deposit slip number or the bank's batch id"
    )
    deposit_date = models.DateField()
    currency = models.CharField(max_length=3)
    expected_count = models.PositiveIntegerField(null=True, blank=True)
    expected_total_minor = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    bank_file = models.ForeignKey(
        BankFile, on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    posted_by = models.CharField(max_length=150, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-deposit_date", "-id"]
        verbose_name_plural = "deposit batches"
        indexes = [models.Index(fields=["status", "deposit_date"])]

    def __str__(self) -> str:
        return f"Deposit {self.reference} ({self.deposit_date.isoformat()})"

    @property
    def expected_total(self) -> Money | None:
        if self.expected_total_minor is None:
            return None
        return Money.from_minor(self.expected_total_minor, self.currency)


class DepositItem(models.Model):
    """One check (or a returned one) of a batch: what the slip or the bank
    said, whom it matched and how sure, and what became of it."""

    batch = models.ForeignKey(DepositBatch, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=ItemKind.choices, default=ItemKind.PAYMENT)
    method = models.CharField(max_length=16, choices=PaymentKind.choices, default=PaymentKind.CHECK)
    state = models.CharField(max_length=10, choices=ItemState.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    check_number = models.CharField(max_length=40, blank=True)
    scan_line = models.CharField(max_length=80, blank=True)
    account_number = models.CharField(max_length=40, blank=True, help_text="As given")
    invoice_number = models.CharField(max_length=40, blank=True, help_text="As given")
    payer_name = models.CharField(max_length=140, blank=True)
    bank_reference = models.CharField(
        max_length=80, blank=True, help_text="The bank's reference of this item"
    )
    original_reference = models.CharField(
        max_length=80, blank=True, help_text="For a returned item: the item it returns"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit_items"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit_items"
    )
    match = models.CharField(max_length=12, choices=Match.choices, default=Match.NONE)
    confidence = models.PositiveSmallIntegerField(default=0, help_text="0-100")
    note = models.CharField(max_length=300, blank=True, help_text="What the clerk is told")
    suggestions = models.JSONField(default=list, blank=True)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit_item"
    )
    returned_payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="return_items"
    )
    created_at = models.DateTimeField()
    resolved_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch_id", "position"]
        indexes = [models.Index(fields=["state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~models.Q(bank_reference=""),
                name="deposit_item_bank_reference_once",
            ),
            models.UniqueConstraint(
                fields=["batch", "position"], name="deposit_item_position_once"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="deposit_item_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Item {self.position} of {self.batch}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)
