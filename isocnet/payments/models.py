from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice


class PaymentMethod(models.Model):
    """A card on file. Only the gateway's token and what is printed on a
    receipt (brand, last four, expiry) are kept: never a card number or CVV."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cards")
    gateway = models.CharField(max_length=30)
    token = models.CharField(max_length=200)
    brand = models.CharField(max_length=30)
    last4 = models.CharField(
        max_length=4, validators=[RegexValidator(r"^[0-9]{4}$", "four digits")]
    )
    exp_month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    exp_year = models.PositiveSmallIntegerField()
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["customer_id", "-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True, removed_at__isnull=True),
                name="one_default_card_per_customer",
            ),
            models.UniqueConstraint(fields=["gateway", "token"], name="card_token_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ending in {self.last4}"


class PaymentKind(models.TextChoices):
    CARD = "card", "Credit card"
    CHECK = "check", "Check"
    MONEY_ORDER = "money_order", "Money order"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH = "cash", "Cash"


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    VOIDED = "voided", "Voided"


class Payment(models.Model):
    """Money received from a customer. Its amount is split into allocations
    to invoices and, for any remainder, account credit."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=PaymentKind.choices)
    reference = models.CharField(
        max_length=120, blank=True, help_text="Check number, transfer reference ..."
    )
    received_on = models.DateField()
    status = models.CharField(
        max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.SUCCEEDED
    )
    card = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, null=True, blank=True)
    recorded_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "received_on"]),
            models.Index(fields=["reference"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} {self.amount}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Allocation(models.Model):
    """Part of a payment applied to an invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="allocation_amount_positive"
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


class CreditEntry(models.Model):
    """Append-only account-credit ledger. Positive entries add credit,
    negative ones use it; available credit is the sum, never below zero."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_entries")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=20, choices=CreditKind.choices)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    memo = models.CharField(max_length=300, blank=True)
    recorded_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
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
