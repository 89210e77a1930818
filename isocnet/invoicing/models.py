from django.db import models

from isocnet.core.money import Money
from isocnet.core.periods import inclusive_end
from isocnet.customers.models import Customer
from isocnet.subscriptions.models import Subscription


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    UNPAID = "unpaid", "Unpaid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    REFUNDED = "refunded", "Refunded"


S = InvoiceStatus
# Allowed transitions; invoicing.status is the only writer of status.
INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.UNPAID, S.PAID, S.VOID}),
    S.UNPAID: frozenset({S.PARTIALLY_PAID, S.PAID, S.VOID}),
    S.PARTIALLY_PAID: frozenset({S.UNPAID, S.PAID}),
    S.PAID: frozenset({S.PARTIALLY_PAID, S.UNPAID, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.VOID: frozenset(),
}
OPEN_STATUSES = (S.UNPAID, S.PARTIALLY_PAID)

# The columns an issued invoice may never change are listed once, in the
# triggers of migration 0002_issued_invoice_immutable.


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    series = models.CharField(max_length=40, blank=True)
    sequence = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Position in its series"
    )
    status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    bill_to = models.JSONField(
        null=True, blank=True, help_text="Customer name and address as at issue"
    )
    subtotal_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    amount_paid_minor = models.BigIntegerField(default=0)
    credit_applied_minor = models.BigIntegerField(default=0)
    credited_minor = models.BigIntegerField(default=0, help_text="Reduced by credit notes")
    balance_minor = models.BigIntegerField(default=0)
    issued_balance_minor = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="What the invoice asked for when issued: the total less the account credit "
        "applied at issue. Set once, then frozen (the notice and the PDF show it).",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    overdue_since = models.DateField(
        null=True, blank=True, help_text="Set by the billing run once past due"
    )
    billing_run = models.ForeignKey(
        "BillingRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )

    class Meta:
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(fields=["series", "sequence"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "due_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_minor__gte=0), name="invoice_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_paid_minor__gte=0), name="invoice_paid_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(credit_applied_minor__gte=0), name="invoice_credit_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(total_minor=models.F("subtotal_minor") + models.F("tax_minor")),
                name="invoice_total_is_subtotal_plus_tax",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "void"])
                | models.Q(
                    balance_minor=models.F("total_minor")
                    - models.F("amount_paid_minor")
                    - models.F("credit_applied_minor")
                    - models.F("credited_minor")
                ),
                name="invoice_balance_is_total_less_applied",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
                name="invoice_issued_has_number",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice #{self.number}" if self.number else f"Draft invoice {self.pk}"

    def _money(self, minor: int) -> Money:
        return Money.from_minor(minor, self.currency)

    @property
    def subtotal(self) -> Money:
        return self._money(self.subtotal_minor)

    @property
    def tax(self) -> Money:
        return self._money(self.tax_minor)

    @property
    def total(self) -> Money:
        return self._money(self.total_minor)

    @property
    def amount_paid(self) -> Money:
        return self._money(self.amount_paid_minor)

    @property
    def credit_applied(self) -> Money:
        return self._money(self.credit_applied_minor)

    @property
    def balance(self) -> Money:
        return self._money(self.balance_minor)

    @property
    def amount_due_at_issue(self) -> Money:
        """The amount the invoice asked for when it was issued (its notice's
        "Amount due"): the total less the credit applied at issue."""
        minor = self.total_minor if self.issued_balance_minor is None else self.issued_balance_minor
        return self._money(minor)

    @property
    def credit_applied_at_issue(self) -> Money:
        return self.total - self.amount_due_at_issue

    @property
    def credited(self) -> Money:
        return self._money(self.credited_minor)

    @property
    def is_issued(self) -> bool:
        return self.status != InvoiceStatus.DRAFT


class LineKind(models.TextChoices):
    SERVICE = "service", "Service"
    SETUP_FEE = "setup_fee", "Setup fee"
    CHARGE = "charge", "One-time charge"
    PRORATION = "proration", "Proration"
    ADJUSTMENT = "adjustment", "Adjustment"
    LATE_FEE = "late_fee", "Late fee"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=LineKind.choices, default=LineKind.CHARGE)
    description = models.CharField(max_length=300)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(
        null=True, blank=True, help_text="Exclusive: the next period's start"
    )
    quantity = models.DecimalField(max_digits=12, decimal_places=4, default=1)
    unit_price_minor = models.BigIntegerField()
    taxes = models.JSONField(
        default=list, blank=True, help_text='[{"name": "Sales tax", "percent": "8.25"}]'
    )
    amount_minor = models.BigIntegerField()

    class Meta:
        ordering = ["invoice_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoiceline_position_unique"
            ),
            # A service period is billed once, whatever runs at the same time.
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=models.Q(kind__in=["service", "proration"], subscription__isnull=False),
                name="invoiceline_period_billed_once",
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True, period_end__isnull=True)
                | models.Q(period_end__gt=models.F("period_start")),
                name="invoiceline_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def unit_price(self) -> Money:
        return Money.from_minor(self.unit_price_minor, self.invoice.currency)

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.invoice.currency)

    @property
    def period_last_day(self):
        return inclusive_end(self.period_end) if self.period_end else None

    @property
    def tax_names(self) -> str:
        return ", ".join(f"{t['name']}" for t in self.taxes)


class InvoiceTaxLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="tax_lines")
    name = models.CharField(max_length=100)
    percent = models.DecimalField(max_digits=7, decimal_places=4)
    taxable_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField()

    class Meta:
        ordering = ["invoice_id", "name"]

    def __str__(self) -> str:
        return f"{self.name} {self.percent.normalize()}%"

    FIELDS = ("invoice_id", "name", "percent", "taxable_minor", "tax_minor")

    @classmethod
    def tuples_for(cls, invoice_id: int, totals) -> list[tuple]:
        """The same as tuples of FIELDS (the batch path, core.bulk.rows_write)."""
        return [
            (invoice_id, t.key.name, t.key.percent, t.taxable.minor(), t.tax.minor())
            for t in totals.taxes
        ]

    @classmethod
    def rows_for(cls, invoice: Invoice, totals) -> list["InvoiceTaxLine"]:
        """One unsaved tax line per rate of ``totals`` (engine.totals.Totals)."""
        return [
            cls(
                invoice=invoice,
                name=t.key.name,
                percent=t.key.percent,
                taxable_minor=t.taxable.minor(),
                tax_minor=t.tax.minor(),
            )
            for t in totals.taxes
        ]

    @property
    def tax(self) -> Money:
        return Money.from_minor(self.tax_minor, self.invoice.currency)

    @property
    def taxable(self) -> Money:
        return Money.from_minor(self.taxable_minor, self.invoice.currency)


class Charge(models.Model):
    """A one-time charge (or credit, when negative) waiting for the customer's
    next invoice: an installation, a proration of a plan change, a late fee."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="charges")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    kind = models.CharField(max_length=12, choices=LineKind.choices, default=LineKind.CHARGE)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=12, decimal_places=4, default=1)
    unit_price_minor = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    taxes = models.JSONField(default=list, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.PROTECT, null=True, blank=True, related_name="charge"
    )
    with_next_invoice = models.BooleanField(
        default=False,
        help_text="Waits for the customer's next recurring invoice instead of the next run "
        "(a late fee)",
    )

    class Meta:
        ordering = ["customer_id", "id"]
        indexes = [
            models.Index(
                fields=["customer"],
                condition=models.Q(invoice_line__isnull=True),
                name="charge_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    PREVIEW = "preview", "Preview (dry run)"


class BillingRun(models.Model):
    date = models.DateField(db_index=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=BillingRunStatus.choices, default=BillingRunStatus.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.CharField(max_length=150)
    customers_seen = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    invoices_total_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    refused = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    marked_overdue = models.PositiveIntegerField(default=0)
    suspended = models.PositiveIntegerField(default=0)
    reactivated = models.PositiveIntegerField(default=0)
    notices_queued = models.PositiveIntegerField(default=0)
    to_collect = models.PositiveIntegerField(default=0)
    charged = models.PositiveIntegerField(default=0)
    declined = models.PositiveIntegerField(default=0)
    reconciled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Billing run {self.date} ({self.get_status_display()})"


class BillingRunItem(models.Model):
    class Outcome(models.TextChoices):
        ISSUED = "issued", "Invoice issued"
        REFUSED = "refused", "Refused by a check"
        ERROR = "error", "Error"
        PREVIEW = "preview", "Would issue"
        NOTHING = "nothing", "Nothing due"

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    total_minor = models.BigIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"{self.customer} {self.outcome}"


class CreditNote(models.Model):
    """A correction of an issued invoice: it reduces what is owed on it
    without editing it. Numbered gaplessly in its own series."""

    number = models.CharField(max_length=40, unique=True)
    series = models.CharField(max_length=40)
    sequence = models.PositiveBigIntegerField()
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    amount_minor = models.BigIntegerField()
    applied_minor = models.BigIntegerField(help_text="Part that reduced the invoice's open balance")
    to_credit_minor = models.BigIntegerField(
        help_text="Part that became account credit (invoice already paid)"
    )
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300)
    issue_date = models.DateField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="credit_note_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount_minor=models.F("applied_minor") + models.F("to_credit_minor")
                ),
                name="credit_note_split_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Credit note #{self.number}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)
