from django.conf import settings
from django.db import models

from isocnet.core.money import Money


class PaymentPreference(models.TextChoices):
    CARD = "card", "Credit card (auto debit)"
    CHECK = "check", "Check or mail-in payment"


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"


# A customer's address as the API, the import file and the forms name its
# parts, and the columns that hold them: the one list of both.
ADDRESS_COLUMNS = {
    "line1": "address_line1",
    "line2": "address_line2",
    "city": "city",
    "region": "region",
    "postal_code": "postal_code",
    "country": "country",
}
# The details staff and the API keep up to date (besides the account
# number, external id and dates), in the order forms show them.
DETAIL_FIELDS = (
    "name",
    "company",
    "email",
    "cc_emails",
    "phone",
    *ADDRESS_COLUMNS.values(),
    "currency",
    "tax_exempt",
    "payment_method",
    "status",
    "notes",
)


class Customer(models.Model):
    """A billing account."""

    account_number = models.CharField(max_length=32, unique=True)
    external_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Id in the previous billing system",
    )
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, help_text="Primary billing email")
    cc_emails = models.JSONField(default=list, blank=True, help_text="Further billing emails")
    phone = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")
    currency = models.CharField(max_length=3)
    tax_exempt = models.BooleanField(default=False)
    payment_method = models.CharField(max_length=10, choices=PaymentPreference.choices)
    status = models.CharField(
        max_length=12, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["account_number"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.account_number} {self.name}"

    @property
    def auto_debit(self) -> bool:
        return self.payment_method == PaymentPreference.CARD

    def address(self) -> dict:
        """The address, with the API's names for its parts."""
        return {part: getattr(self, column) for part, column in ADDRESS_COLUMNS.items()}

    def address_lines(self) -> list[str]:
        locality = " ".join(
            part
            for part in (self.city + ("," if self.region else ""), self.region, self.postal_code)
            if part
        )
        return [
            line
            for line in (self.address_line1, self.address_line2, locality, self.country)
            if line
        ]

    def zero(self) -> Money:
        return Money.zero(self.currency)


class PortalUser(models.Model):
    """A login to the client portal, tied to one customer account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_users")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user.get_username()} → {self.customer.account_number}"
