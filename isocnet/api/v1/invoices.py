import datetime as dt

from ninja import Query, Router, Schema

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.pagination import PageParams, page
from isocnet.api.v1.schemas import ErrorOut, IsoDate, QueryId
from isocnet.core import formatting
from isocnet.core.errors import NotFound
from isocnet.core.money import Money
from isocnet.documents.invoices import invoice_pdf
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.models import Invoice

router = Router(tags=["invoices"])


class LineOut(Schema):
    position: int
    kind: str
    description: str
    subscription: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    quantity: str
    unit_price: str
    taxes: list[dict]
    amount: str


class TaxLineOut(Schema):
    name: str
    percent: str
    taxable: str
    tax: str


class InvoiceOut(Schema):
    id: int
    number: str | None
    customer: int
    status: str
    issue_date: dt.date | None
    due_date: dt.date | None
    overdue_since: dt.date | None
    currency: str
    bill_to: dict | None
    subtotal: str
    tax: str
    total: str
    amount_due_at_issue: str | None  # what the invoice asked for when issued (its notice says it)
    amount_paid: str
    credit_applied: str
    credited: str
    balance: str
    lines: list[LineOut]
    tax_lines: list[TaxLineOut]


class InvoicePage(Schema):
    items: list[InvoiceOut]
    count: int


def invoice_out(inv: Invoice) -> dict:
    return {
        "id": inv.pk,
        "number": inv.number,
        "customer": inv.customer_id,
        "status": inv.status,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "overdue_since": inv.overdue_since,
        "currency": inv.currency,
        "bill_to": inv.bill_to,
        "subtotal": inv.subtotal.as_string(),
        "tax": inv.tax.as_string(),
        "total": inv.total.as_string(),
        "amount_due_at_issue": inv.amount_due_at_issue.as_string()
        if inv.issued_balance_minor is not None
        else None,
        "amount_paid": inv.amount_paid.as_string(),
        "credit_applied": inv.credit_applied.as_string(),
        "credited": inv.credited.as_string(),
        "balance": inv.balance.as_string(),
        "lines": [
            {
                "position": ln.position,
                "kind": ln.kind,
                "description": ln.description,
                "subscription": ln.subscription_id,
                "period_start": ln.period_start,
                "period_end": ln.period_last_day,
                "quantity": formatting.quantity(ln.quantity),
                "unit_price": ln.unit_price.as_string(),
                "taxes": ln.taxes,
                "amount": ln.amount.as_string(),
            }
            for ln in inv.lines.all()
        ],
        "tax_lines": [
            {
                "name": t.name,
                "percent": f"{t.percent.normalize():f}",
                "taxable": t.taxable.as_string(),
                "tax": t.tax.as_string(),
            }
            for t in inv.tax_lines.all()
        ],
    }


def invoice_by_number(number: str, queryset=None) -> Invoice:
    invoice = (queryset if queryset is not None else Invoice.objects).filter(number=number).first()
    if invoice is None:
        raise NotFound(f"no invoice numbered {number!r}", field="number")
    return invoice


class InvoiceFilter(Schema):
    customer: QueryId | None = None
    status: str | None = None
    issued_from: IsoDate | None = None
    issued_to: IsoDate | None = None


@router.get("/invoices", response=InvoicePage)
def list_invoices(request, filters: Query[InvoiceFilter], paging: Query[PageParams]):
    """Issued invoices (drafts are not listed), newest first. ``status`` is
    one of unpaid, partially_paid, paid, void, refunded; ``open`` means
    unpaid or partially paid."""
    qs = (
        Invoice.objects.exclude(status="draft")
        .prefetch_related("lines", "tax_lines")
        .order_by("-issue_date", "-id")
    )
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.status == "open":
        qs = qs.filter(status__in=["unpaid", "partially_paid"])
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.issued_from:
        qs = qs.filter(issue_date__gte=filters.issued_from)
    if filters.issued_to:
        qs = qs.filter(issue_date__lte=filters.issued_to)
    return page(qs, paging, invoice_out)


@router.get("/invoices/{number}", response={200: InvoiceOut, 404: ErrorOut})
def get_invoice(request, number: str):
    invoice = invoice_by_number(number, Invoice.objects.prefetch_related("lines", "tax_lines"))
    return invoice_out(invoice)


@router.get(
    "/invoices/{number}/pdf", response={200: None, 404: ErrorOut}, summary="The invoice PDF as sent"
)
def get_invoice_pdf(request, number: str):
    """The PDF exactly as emailed (rendered and stored on first use);
    the X-Content-SHA256 header carries its hash."""
    from django.http import HttpResponse

    invoice = invoice_by_number(number, Invoice.objects.select_related("customer"))
    doc = invoice_pdf(invoice)
    response = HttpResponse(bytes(doc.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    response["X-Content-SHA256"] = doc.sha256
    return response


class CreditNoteIn(Schema):
    amount: str
    reason: str


class CreditNoteOut(Schema):
    number: str
    invoice: str
    amount: str
    reason: str
    issue_date: dt.date
    invoice_balance: str
    added_to_account_credit: str


@router.post(
    "/invoices/{number}/credit-notes",
    response={201: CreditNoteOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def create_credit_note(request, number: str, payload: CreditNoteIn):
    """Credit (part of) an issued invoice: reduces what is owed on it; any
    excess over the open balance becomes account credit."""
    from ninja import Status

    note = credit_note_create(
        actor=actor_of(request), invoice_number=number, amount=payload.amount, reason=payload.reason
    )
    note.invoice.refresh_from_db()
    return Status(
        201,
        {
            "number": note.number,
            "invoice": note.invoice.number,
            "amount": note.amount.as_string(),
            "reason": note.reason,
            "issue_date": note.issue_date,
            "invoice_balance": note.invoice.balance.as_string(),
            "added_to_account_credit": Money.from_minor(
                note.to_credit_minor, note.currency
            ).as_string(),
        },
    )
