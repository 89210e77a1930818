from django.db import models

from isocnet.core.money import Money


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Semiannual"
    ANNUAL = "annual", "Annual"
    ONE_TIME = "one_time", "One time"


CYCLE_MONTHS = {
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.SEMIANNUAL: 6,
    BillingCycle.ANNUAL: 12,
}


class TaxRate(models.Model):
    name = models.CharField(max_length=100)
    # Percent with four decimals: 8.2500 means 8.25 %.
    rate = models.DecimalField(max_digits=7, decimal_places=4)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate__gte=0) & models.Q(rate__lte=100), name="taxrate_rate_0_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate.normalize()}%)"


class Plan(models.Model):
    """A product on the price list: a fiber plan, hosting, a static IP, a domain."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3)
    price_minor = models.BigIntegerField(help_text="Price per cycle in minor units (cents)")
    setup_fee_minor = models.BigIntegerField(default=0)
    cycle = models.CharField(max_length=12, choices=BillingCycle.choices)
    tax_rates = models.ManyToManyField(TaxRate, blank=True, related_name="plans")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_minor__gte=0), name="plan_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(setup_fee_minor__gte=0), name="plan_setup_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price(self) -> Money:
        return Money.from_minor(self.price_minor, self.currency)

    @property
    def setup_fee(self) -> Money:
        return Money.from_minor(self.setup_fee_minor, self.currency)
