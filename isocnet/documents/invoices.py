"""The invoice PDF: what it shows, and the one copy that is sent and kept."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects

from isocnet.core import formatting
from isocnet.documents.models import DocumentKind, StoredDocument
from isocnet.documents.renderer import qr_later, render_pdf
from isocnet.invoicing.engine.generator import period_suffix
from isocnet.invoicing.models import Invoice
from isocnet.invoicing.scanline import scan_line
from isocnet.payments.models import PaymentMethod


def invoices_prefetch(invoices: list[Invoice]) -> None:
    """What a document or notice of each invoice reads, in four queries
    for all of them instead of three per invoice: the lines, the tax lines
    and the default card of each customer (invoices loaded with their
    customer)."""
    prefetch_related_objects(invoices, "lines", "tax_lines")
    prefetch_related_objects(
        [invoice.customer for invoice in invoices],
        Prefetch(
            "cards",
            queryset=PaymentMethod.objects.defaults(),
            to_attr="default_cards",
        ),
    )


def card_on_file(invoice: Invoice) -> PaymentMethod | None:
    """The card auto debit would charge for this invoice's customer."""
    customer = invoice.customer
    if hasattr(customer, "default_cards"):  # invoices_prefetch
        return customer.default_cards[0] if customer.default_cards else None
    return PaymentMethod.objects.default_of(invoice.customer_id)


def payment_method_line(invoice: Invoice) -> str:
    """The payment method as the invoice notice names it."""
    customer = invoice.customer
    if customer.auto_debit:
        card = card_on_file(invoice)
        if card:
            return f"Credit card (auto debit), {card.brand} ending in {card.last4}"
        return "Credit card (auto debit)"
    return "Check or mail-in payment"


def company() -> dict:
    return {
        "name": settings.COMPANY_NAME,
        "address": [
            line
            for line in settings.COMPANY_ADDRESS.replace("\\n", "\n").splitlines()
            if line.strip()
        ],
        "email": settings.COMPANY_EMAIL,
        "phone": settings.COMPANY_PHONE,
        "website": settings.COMPANY_WEBSITE,
    }


def invoice_document_data(invoice: Invoice) -> dict:
    """What the invoice PDF shows: the invoice **as issued**. Its balance is
    what it asked for at issue (the total less the account credit applied
    then); payments made afterwards belong on receipts and statements, never
    on the invoice, so the PDF reads the same whenever it is rendered."""
    fmt = formatting.money
    prefetch_related_objects([invoice], "lines", "tax_lines")  # once, for every reader
    bill_to = invoice.bill_to or {}
    due = invoice.amount_due_at_issue
    applied = []
    if invoice.credit_applied_at_issue.minor():
        applied.append(
            {"label": "Account credit applied", "amount": fmt(-invoice.credit_applied_at_issue)}
        )
    method = payment_method_line(invoice)
    return {
        "company": company(),
        "doc": {
            "title": "INVOICE",
            "number_label": "Invoice number",
            "number": invoice.number,
            "issue_date": formatting.date(invoice.issue_date),
            "due_date": formatting.date(invoice.due_date),
            "account_number": bill_to.get("account_number", ""),
        },
        "bill_to": {
            "name": bill_to.get("name", ""),
            "company": bill_to.get("company", ""),
            "address": bill_to.get("address", []),
            "email": bill_to.get("email", ""),
        },
        "lines": [_line_row(line) for line in invoice.lines.all()],
        "subtotal": fmt(invoice.subtotal),
        "taxes": [
            {
                "label": f"{t.name} ({t.percent.normalize():f}% of {fmt(t.taxable)})",
                "amount": fmt(t.tax),
            }
            for t in invoice.tax_lines.all()
        ],
        "total": fmt(invoice.total),
        "applied": applied,
        "balance_label": "Balance",
        "balance": fmt(due),
        "stamp": "PAID" if not due.minor() else None,
        "how_to_pay": _how_to_pay(invoice, method),
        "payment_method": method,
        "slip": _remittance_slip(invoice),
    }


def _line_row(line) -> dict:
    """A printed line: its name without the period the engine wrote into
    the description (the period has a column of its own; a plan named
    "Fiber (business)" keeps its parentheses), and quantity × unit price =
    amount to the cent. A prorated line whose rounded unit price would not
    multiply out (3 × $16.11 ≠ $48.34) prints as 1 × its amount, the
    quantity said in words."""
    fmt = formatting.money
    description, period = line.description, ""
    if line.period_start and line.period_end:
        description = description.removesuffix(period_suffix(line.period_start, line.period_end))
        period = (
            f"{formatting.short_date(line.period_start)} – "
            f"{formatting.short_date(line.period_last_day)}"
        )
    quantity, unit = line.quantity, line.unit_price
    if (unit * quantity).quantize() != line.amount:
        period = ", ".join(p for p in (period, f"{formatting.quantity(quantity)} × prorated") if p)
        quantity, unit = Decimal(1), line.amount
    return {
        "description": description,
        "period": period,
        "quantity": formatting.quantity(quantity),
        "unit_price": fmt(unit),
        "amount": fmt(line.amount),
    }


def _how_to_pay(invoice: Invoice, method: str) -> list[str]:
    """The "how to pay" lines under the totals, by how the customer pays."""
    if not invoice.amount_due_at_issue.minor():
        return [
            "Nothing is due: this invoice was paid in full from your account credit.",
            f"Your account, invoices and receipts: {settings.PORTAL_URL}",
        ]
    if invoice.customer.auto_debit:
        card = card_on_file(invoice)
        if card is not None:
            return [
                f"Payment method: {method}.",
                f"The balance will be charged automatically to your {card} on "
                f"{formatting.date(invoice.due_date)}.",
                f"Manage your card and pay online: {settings.PORTAL_URL}",
            ]
        # auto debit with no card to charge: never promise an automatic payment
        return [
            "Automatic payment is on, but there is no card on file to charge: please pay "
            f"online at {settings.PORTAL_URL}, or by check or money order payable to "
            f"{settings.COMPANY_CHECKS_PAYABLE_TO}.",
            f"Add a card at {settings.PORTAL_URL} and future invoices are paid automatically.",
        ]
    return [
        f"Pay online at {settings.PORTAL_URL}, or by check or money order payable to "
        f"{settings.COMPANY_CHECKS_PAYABLE_TO}.",
        f"Please write invoice number {invoice.number} on your check and mail it with the slip below.",
    ]


def _remittance_slip(invoice: Invoice) -> dict | None:
    """The tear-off slip a check payer mails back (none for auto debit or
    when nothing is due)."""
    due = invoice.amount_due_at_issue
    if invoice.customer.auto_debit or not due.minor():
        return None
    account = (invoice.bill_to or {}).get("account_number", "")
    try:  # a number with a space in it (a custom format) has no scan line
        line = scan_line(account, invoice.number, due.minor())
    except ValueError:
        line = ""
    return {
        "payable_to": settings.COMPANY_CHECKS_PAYABLE_TO,
        "mail_to": [settings.COMPANY_NAME, *company()["address"]],
        "account_number": account,
        "invoice_number": invoice.number,
        "amount_due": formatting.money(due),
        "due_date": formatting.date(invoice.due_date),
        "scan_line": line,
        # a QR code a 2-D scanner at the deposit desk types into the batch screen
        "scan_qr": qr_later(line) if line else "",
    }


def render_invoice_pdf(invoice: Invoice) -> bytes:
    return render_pdf("invoice.typ", invoice_document_data(invoice))


def invoice_filename(invoice: Invoice) -> str:
    return f"Invoice-{invoice.number}.pdf"


def invoice_pdf(invoice: Invoice) -> StoredDocument:
    """The invoice PDF as sent: rendered and stored on first use (the first
    email), the same bytes ever after."""

    def render() -> tuple[bytes, str]:
        if invoice.number is None:
            raise ValueError("a draft invoice has no PDF")
        return render_invoice_pdf(invoice), invoice_filename(invoice)

    return StoredDocument.stored_once(
        render, kind=DocumentKind.INVOICE, invoice=invoice, payment=None
    )


def invoice_pdfs_render(*, invoice_ids: list[int]) -> int:
    """Render and store the PDFs of these issued invoices that have none yet
    (the documents step of a billing run, ahead of their emails). The data
    is read here, in chunks of 50 with their lines and taxes; Typst compiles
    on DOCUMENT_RENDER_THREADS threads at once (documents.renderer); each
    chunk is stored in one transaction. Returns how many it rendered.
    Safe to run twice or at once: the first stored PDF is the one that
    counts."""
    stored = 0
    for start in range(0, len(invoice_ids), 50):
        chunk = invoice_ids[start : start + 50]
        done = set(
            StoredDocument.objects.filter(
                invoice_id__in=chunk, kind=DocumentKind.INVOICE
            ).values_list("invoice_id", flat=True)
        )
        invoices = list(
            Invoice.objects.filter(pk__in=set(chunk) - done, number__isnull=False)
            .select_related("customer")
            .order_by("pk")
        )
        invoices_prefetch(invoices)
        stored += StoredDocument.keep_rendered(
            [
                (
                    invoice_document_data(invoice),
                    {
                        "kind": DocumentKind.INVOICE,
                        "invoice": invoice,
                        "filename": invoice_filename(invoice),
                    },
                )
                for invoice in invoices
            ]
        )
    return stored
