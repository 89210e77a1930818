from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice
from isocnet.ledger.models import (  # noqa: F401 - registers the ledger's rows with this app
    Allocation,
    CreditEntry,
    CreditKind,
)


class PaymentMethodQuerySet(models.QuerySet):
    def defaults(self):
        """The cards auto debit charges: each customer's default card that
        is not removed (at most one per customer: one_default_card_per_customer)
        and that the gateway has not refused for good (a hard decline: expired,
        lost, stolen — charging it again would only decline again)."""
        return self.filter(is_default=True, removed_at__isnull=True, refused_at__isnull=True)

    def default_of(self, customer_id: int) -> PaymentMethod | None:
        return self.defaults().filter(customer_id=customer_id).first()


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
    refused_at = models.DateTimeField(
        null=True, blank=True, help_text="When the gateway refused it for good (a hard decline)"
    )
    refused_reason = models.CharField(max_length=300, blank=True)

    objects = PaymentMethodQuerySet.as_manager()

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


# A payment is voided only when the bank returns it (payments.returns).
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.VOIDED}),
    PaymentStatus.VOIDED: frozenset(),
}


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
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
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


class Receipt(models.Model):
    """The receipt of a payment applied to an invoice: what the "Invoice
    Payment Confirmation" email and its PDF are. Numbered gaplessly in its
    own series when the payment is recorded (RECEIPT_NUMBER_FORMAT). A
    payment that paid no invoice (all of it kept as account credit) has one
    receipt with no invoice, for the amount kept."""

    number = models.CharField(max_length=40, unique=True)
    series = models.CharField(max_length=40)
    sequence = models.PositiveBigIntegerField()
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="receipts")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="receipts", null=True, blank=True
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="receipts")
    amount_minor = models.BigIntegerField(
        help_text="What the payment applied to the invoice (no invoice: kept as credit)"
    )
    currency = models.CharField(max_length=3)
    issue_date = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "invoice"], name="receipt_once_per_payment"),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(invoice__isnull=True),
                name="credit_receipt_once_per_payment",
            ),
            models.UniqueConstraint(fields=["series", "sequence"], name="receipt_number_once"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="receipt_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Receipt #{self.number}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def filename(self) -> str:
        return f"Receipt-{self.number}.pdf"


class Refund(models.Model):
    """Money of a payment given back: to the card through the gateway, or to
    account credit."""

    class Destination(models.TextChoices):
        CARD = "card", "To the card"
        CREDIT = "credit", "To account credit"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending at the gateway"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    destination = models.CharField(max_length=8, choices=Destination.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="refund_positive")
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of payment {self.payment_id}"

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending (sent, no answer yet)"
    SUCCEEDED = "succeeded", "Succeeded"
    DECLINED = "declined", "Declined"
    UNKNOWN = "unknown", "Unknown (timed out: to reconcile)"
    FAILED = "failed", "Failed (refused by the gateway)"


_C = CallStatus
# Moves a gateway call may make (payments.settling and payments.refunds move
# them). A call failed as "never received" may still turn out to have
# succeeded: the gateway's word wins.
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    _C.PENDING: frozenset({_C.SUCCEEDED, _C.DECLINED, _C.UNKNOWN, _C.FAILED}),
    _C.UNKNOWN: frozenset({_C.SUCCEEDED, _C.DECLINED, _C.FAILED}),
    _C.FAILED: frozenset({_C.SUCCEEDED}),
    _C.SUCCEEDED: frozenset(),
    _C.DECLINED: frozenset(),
}


# Payments a customer makes in the portal (payments.card_payments) carry
# their own keys; the auto-debit schedule does not count them.
CUSTOMER_KEY_PREFIX = "portal:"


class GatewayCall(models.Model):
    """Every request that can move money at the gateway, recorded (pending,
    with its idempotency key) before it is made and settled after."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    gateway = models.CharField(max_length=20)
    idempotency_key = models.CharField(max_length=120, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="gateway_calls")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="gateway_calls"
    )
    card = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=CallStatus.choices, default=CallStatus.PENDING)
    charge_id = models.CharField(max_length=80, blank=True)
    decline_code = models.CharField(max_length=40, blank=True)
    hard_decline = models.BooleanField(default=False)
    message = models.CharField(max_length=300, blank=True)
    next_retry_on = models.DateField(null=True, blank=True)
    request = models.JSONField(
        default=dict, blank=True, help_text="What we asked (no card data: tokens only)"
    )
    response = models.JSONField(default=dict, blank=True, help_text="What the gateway answered")
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="gateway_call"
    )
    refund_of = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refund_calls"
    )
    created_at = models.DateTimeField()
    refund = models.OneToOneField(
        "Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="gateway_call"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["invoice", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key} {self.status}"

    @property
    def customer_initiated(self) -> bool:
        return self.idempotency_key.startswith(CUSTOMER_KEY_PREFIX)


class WebhookEvent(models.Model):
    """Each gateway event is processed once, however often it is delivered."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=120)
    type = models.CharField(max_length=60)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_id} {self.type}"


from isocnet.payments.sandbox_models import (  # noqa: E402,F401 - the sandbox's tables
    SandboxCard,
    SandboxCharge,
    SandboxRefund,
    SandboxToken,
)
