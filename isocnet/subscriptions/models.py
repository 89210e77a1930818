from django.db import models

from isocnet.catalog.models import Plan
from isocnet.core.money import Money
from isocnet.customers.models import Customer


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


# Allowed transitions: only subscriptions.services assigns status, and only
# along these edges.
SUBSCRIPTION_TRANSITIONS: dict[str, frozenset[str]] = {
    SubscriptionStatus.PENDING: frozenset(
        {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED}
    ),
    SubscriptionStatus.ACTIVE: frozenset(
        {SubscriptionStatus.SUSPENDED, SubscriptionStatus.CANCELLED}
    ),
    SubscriptionStatus.SUSPENDED: frozenset(
        {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED}
    ),
    SubscriptionStatus.CANCELLED: frozenset(),
}


class Subscription(models.Model):
    """A customer's service ("Fiber 100 Mbps at 1 Main St")."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    quantity = models.PositiveIntegerField(default=1)
    price_override_minor = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Unit price per cycle in the customer's currency, instead of the plan's",
    )
    description = models.CharField(
        max_length=200, blank=True, help_text="Service address, domain, IP ..."
    )
    external_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Id in the previous billing system",
    )
    start_date = models.DateField()
    next_due_date = models.DateField(
        null=True, blank=True, help_text="Start of the next period to bill"
    )
    anchor_day = models.PositiveSmallIntegerField(
        help_text="Day of month the periods start on (1-31)"
    )
    status = models.CharField(max_length=12, choices=SubscriptionStatus.choices)
    cancel_at_period_end = models.BooleanField(default=False)
    cancellation_date = models.DateField(null=True, blank=True)
    suspended_for_nonpayment = models.BooleanField(
        default=False,
        help_text="Suspended by the billing run; resumes by itself when the account is paid up",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["customer_id", "id"]
        indexes = [models.Index(fields=["status", "next_due_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="subscription_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(anchor_day__gte=1) & models.Q(anchor_day__lte=31),
                name="subscription_anchor_1_31",
            ),
            models.CheckConstraint(
                condition=models.Q(price_override_minor__isnull=True)
                | models.Q(price_override_minor__gte=0),
                name="subscription_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        label = f" — {self.description}" if self.description else ""
        return f"{self.plan.name}{label}"

    @property
    def unit_price(self) -> Money:
        if self.price_override_minor is not None:
            return Money.from_minor(self.price_override_minor, self.customer.currency)
        return self.plan.price
