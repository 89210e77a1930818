"""Collections: the policy that decides what happens to an overdue
invoice and when, the late fees it charges, and the holds that stop it
(a promise to pay, a dispute)."""

from __future__ import annotations

from django.db import models

from isocnet.catalog.models import TaxRate
from isocnet.customers.models import Customer
from isocnet.invoicing.models import Charge, Invoice


class LateFeeRepeat(models.TextChoices):
    ONCE = "once", "Once per invoice"
    MONTHLY = "monthly", "Monthly while overdue"


class LateFeeOn(models.TextChoices):
    NEXT_INVOICE = "next_invoice", "On the customer's next invoice"
    OWN_INVOICE = "own_invoice", "On an invoice of its own, at once"


class CollectionsPolicy(models.Model):
    """The one collections policy: every step's day relative to the due
    date, and the late fee. One row (pk 1); until a billing manager saves
    it, the settings' values stand (collections.policy.current)."""

    reminder_days_before_due = models.PositiveSmallIntegerField(
        help_text="Reminder to check payers this many days before the due date (0: none)."
    )
    notice_1_days = models.PositiveSmallIntegerField(
        help_text="First overdue notice, days after due."
    )
    notice_2_days = models.PositiveSmallIntegerField(help_text="Second overdue notice.")
    notice_3_days = models.PositiveSmallIntegerField(
        help_text="Final notice, naming the suspension date."
    )
    suspend_after_days = models.PositiveSmallIntegerField(
        help_text="Services suspended this many days after due (never before the final notice "
        "has had the warning days)."
    )
    suspension_warning_days = models.PositiveSmallIntegerField(
        help_text="Days between the final notice and suspension, at least."
    )
    card_retry_days = models.CharField(
        max_length=60, help_text="Days between retries of a declined auto debit, e.g. 3,5,7."
    )
    late_fee_flat = models.CharField(max_length=20, default="0", help_text="e.g. 5.00 (0: none)")
    late_fee_percent = models.DecimalField(
        max_digits=6, decimal_places=3, default=0, help_text="% of the overdue balance (0: none)"
    )
    late_fee_min = models.CharField(
        max_length=20, default="0", help_text="at least (0: no minimum)"
    )
    late_fee_max = models.CharField(max_length=20, default="0", help_text="at most (0: no maximum)")
    late_fee_cap_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=0,
        help_text="never more than this % of the overdue balance, whatever the minimum "
        "(a state's cap; 0: none)",
    )
    late_fee_grace_days = models.PositiveSmallIntegerField(
        default=10, help_text="Fee charged this many days after the due date."
    )
    late_fee_repeat = models.CharField(
        max_length=10, choices=LateFeeRepeat.choices, default=LateFeeRepeat.ONCE
    )
    late_fee_on = models.CharField(
        max_length=14, choices=LateFeeOn.choices, default=LateFeeOn.NEXT_INVOICE
    )
    late_fee_tax_rate = models.ForeignKey(
        TaxRate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Tax on the fee (empty: not taxed).",
    )
    promise_max_days = models.PositiveSmallIntegerField(
        default=14, help_text="A customer may promise in the portal at most this many days ahead."
    )
    portal_promises_max = models.PositiveSmallIntegerField(
        default=2,
        help_text="A customer may make at most this many promises in the portal "
        "in any portal_promises_days (0: none in the portal).",
    )
    portal_promises_days = models.PositiveSmallIntegerField(
        default=90, help_text="The period portal_promises_max counts over, in days."
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "collections policy"
        verbose_name_plural = "collections policy"

    def __str__(self) -> str:
        return "Collections policy"


class LateFee(models.Model):
    """A late fee charged for an overdue invoice: at most one per invoice
    and ``sequence`` (0 for a one-time fee, the month for monthly ones),
    held by a unique constraint so no run, retry or race charges twice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="late_fees")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="late_fees")
    sequence = models.PositiveSmallIntegerField()
    charged_on = models.DateField()
    base_minor = models.BigIntegerField(help_text="The overdue balance it was computed on")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    charge = models.OneToOneField(
        Charge,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="late_fee",
        help_text="The fee's charge (removed when waived before it was invoiced)",
    )
    fee_invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Its own invoice (policy: own invoice)",
    )
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_by = models.CharField(max_length=150, blank=True)
    waive_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "sequence"], name="late_fee_once_per_step")
        ]

    def __str__(self) -> str:
        return f"Late fee on #{self.invoice.number}"


class PromiseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


PROMISE_TRANSITIONS: dict[str, frozenset[str]] = {
    PromiseStatus.ACTIVE: frozenset(
        {PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED}
    ),
    PromiseStatus.KEPT: frozenset(),
    PromiseStatus.BROKEN: frozenset(),
    PromiseStatus.CANCELLED: frozenset(),
}


class Promise(models.Model):
    """A promise to pay ``amount`` by ``promised_on``: the customer's open
    invoices at the time (``invoices``) are held — no notices, fees or
    suspension — until then. Payments received count towards it
    (``paid_minor``); paid in full, it is kept; the day after
    ``promised_on`` unpaid, it is broken and the policy resumes."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    promised_on = models.DateField()
    paid_minor = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.ACTIVE
    )
    invoices = models.ManyToManyField(Invoice, related_name="promises")
    source = models.CharField(max_length=10, help_text="staff, portal or api")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="active"),
                name="promise_one_active_per_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="promise_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Promise of {self.customer} by {self.promised_on}"


class Dispute(models.Model):
    """An invoice the customer disputes: held (no notices, fees or
    suspension for it) until staff resolve it."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    opened_by = models.CharField(max_length=150)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(resolved_at__isnull=True),
                name="dispute_one_open_per_invoice",
            )
        ]

    def __str__(self) -> str:
        return f"Dispute of #{self.invoice.number}"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    KEPT = "kept", "Kept (paid in full)"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.ACTIVE: frozenset({PlanStatus.KEPT, PlanStatus.BROKEN, PlanStatus.CANCELLED}),
    PlanStatus.KEPT: frozenset(),
    PlanStatus.BROKEN: frozenset(),
    PlanStatus.CANCELLED: frozenset(),
}


class PaymentPlan(models.Model):
    """An overdue balance split into installments. While it is kept, the
    invoices it covers are held (no notices, fees or suspension). Payments
    count towards it (``paid_minor``); an installment not paid by its date
    plus PLAN_GRACE_DAYS breaks it, and the policy resumes."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payment_plans")
    total_minor = models.BigIntegerField()
    paid_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    invoices = models.ManyToManyField(Invoice, related_name="payment_plans")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="active"),
                name="plan_one_active_per_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(total_minor__gt=0), name="plan_total_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment plan of {self.customer}"


class Installment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="installments")
    sequence = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        ordering = ["plan_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="installment_once"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="installment_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Installment {self.sequence + 1} of {self.plan}"
