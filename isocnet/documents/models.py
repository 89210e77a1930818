from django.db import models


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    RECEIPT = "receipt", "Receipt"
    CREDIT_NOTE = "credit_note", "Credit note"
    REFUND = "refund", "Refund"


class StoredDocument(models.Model):
    """A PDF exactly as it was sent. Downloading it later returns these
    bytes; ``sha256`` proves it."""

    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="documents"
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    credit_note = models.OneToOneField(
        "invoicing.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="document",
    )
    filename = models.CharField(max_length=120)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(kind="invoice"),
                name="one_invoice_pdf_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(kind="receipt"),
                name="one_receipt_pdf_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return self.filename
