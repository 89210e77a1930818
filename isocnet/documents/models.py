from __future__ import annotations

import hashlib

from django.db import models, transaction

from isocnet.core import clock
from isocnet.documents.renderer import render_many


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    RECEIPT = "receipt", "Receipt"
    CREDIT_NOTE = "credit_note", "Credit note"
    REFUND = "refund", "Refund"


class StoredDocument(models.Model):
    """A PDF exactly as it was sent. Downloading it later returns these
    bytes; ``sha256`` proves it."""

    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    invoice = models.ForeignKey(  # none: the receipt of a payment kept as credit
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
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
            models.UniqueConstraint(  # a payment that paid two invoices has two receipts
                fields=["payment", "invoice"],
                condition=models.Q(kind="receipt"),
                name="one_receipt_pdf_per_payment_and_invoice",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(kind="receipt", invoice__isnull=True),
                name="one_credit_receipt_pdf_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @classmethod
    def keep_rendered(cls, jobs: list[tuple[dict, dict]], *, template: str = "invoice.typ") -> int:
        """Render each (data, fields) on the renderer's threads and store the
        PDFs in one transaction, leaving any already stored for the same
        invoice (or payment) as it is: the first stored is the one sent.
        ``fields``: kind, invoice, filename and payment, as for ``of``.
        Returns how many it rendered."""

        pdfs = render_many([(template, data) for data, _ in jobs])
        now = clock.now()
        documents = [
            cls.of(content, created_at=now, **fields)
            for (_, fields), content in zip(jobs, pdfs, strict=True)
        ]
        with transaction.atomic():
            return len(cls.objects.bulk_create(documents, ignore_conflicts=True))

    @classmethod
    def stored_once(cls, render, *, kind: str, invoice, payment):
        """The document of (kind, invoice, payment) — ``invoice`` None for a
        receipt with no invoice — as first stored: when there is none,
        ``render()`` makes it (its bytes and file name) and it is kept here. Two senders at once: the
        unique index keeps one, and the other returns it."""
        from django.db import IntegrityError

        look = {"kind": kind, "invoice": invoice, "payment": payment}
        found = cls.objects.filter(**look).first()
        if found is not None:
            return found
        content, filename = render()
        try:
            with transaction.atomic():
                document = cls.of(content, filename=filename, created_at=clock.now(), **look)
                document.save(force_insert=True)
                return document
        except IntegrityError:
            return cls.objects.get(**look)

    @classmethod
    def of(cls, content: bytes, *, kind: str, invoice, filename: str, created_at, payment=None):
        """An unsaved document holding these bytes, with their SHA-256."""
        return cls(
            kind=kind,
            invoice=invoice,
            payment=payment,
            filename=filename,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            created_at=created_at,
        )
