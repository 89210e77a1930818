"""Invoices, receipts, payments and statements."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from isocnet.documents.invoices import invoice_pdf
from isocnet.documents.receipts import credit_receipt_pdf, receipt_pdf
from isocnet.documents.statements import statement_pdf
from isocnet.portal import selectors
from isocnet.portal.access import customer_view
from isocnet.portal.forms import StatementForm

PAGE_SIZE = 25


def _pdf(content: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type="application/pdf")
    how = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{how}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@customer_view
def invoice_list(request):
    status = request.GET.get("status", "all")
    if status not in selectors.STATUS_FILTERS:
        status = "all"
    search = request.GET.get("q", "").strip()[:60]
    page = Paginator(selectors.invoices(request.customer, status=status, search=search), PAGE_SIZE)
    return render(
        request,
        "portal/invoices.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "status": status,
            "q": search,
            "statuses": [("all", "All"), ("unpaid", "Unpaid"), ("paid", "Paid")],
        },
    )


@customer_view
def invoice_detail(request, number: str):
    invoice = selectors.invoice(request.customer, number)
    return render(
        request,
        "portal/invoice.html",
        {
            "invoice": invoice,
            **selectors.invoice_page(invoice),
            "open": invoice.status in ("unpaid", "partially_paid") and invoice.balance_minor > 0,
        },
    )


@customer_view
def invoice_download(request, number: str):
    invoice = selectors.invoice(request.customer, number)
    doc = invoice_pdf(invoice)  # the PDF as issued (stored when first sent)
    return _pdf(doc.content, doc.filename)


@customer_view
def payment_detail(request, payment_id: int):
    payment = selectors.payment(request.customer, payment_id)
    allocations = [a for a in payment.allocations.all() if a.amount_minor > 0]
    return render(
        request,
        "portal/payment.html",
        {
            "payment": payment,
            "allocations": allocations,
            "credit": sum(
                (e.amount_minor for e in payment.credit_entries.all() if e.amount_minor > 0), 0
            ),
        },
    )


@customer_view
def payment_list(request):
    """Every payment with its receipts: the customer's record of what was
    paid, how, and where it went."""
    page = Paginator(selectors.payments(request.customer), PAGE_SIZE)
    return render(request, "portal/payments.html", {"page": page.get_page(request.GET.get("page"))})


@customer_view
def credit_receipt_download(request, payment_id: int):
    """The receipt of a payment that paid no invoice (kept as credit)."""
    payment = selectors.payment(request.customer, payment_id)
    receipt = payment.receipts.filter(invoice__isnull=True).first()
    if receipt is None:
        raise Http404("this payment has no receipt of its own")
    doc = credit_receipt_pdf(payment, receipt)
    return _pdf(doc.content, doc.filename)


@customer_view
def receipt_download(request, payment_id: int, number: str):
    payment = selectors.payment(request.customer, payment_id)
    invoice = selectors.invoice(request.customer, number)
    if not payment.allocations.filter(invoice=invoice).exists():
        raise Http404("this payment was not applied to that invoice")
    doc = receipt_pdf(invoice, payment)
    return _pdf(doc.content, doc.filename)


def _statement(request):
    form = StatementForm(request.GET or None, initial=StatementForm.default_period())
    if request.GET:
        if not form.is_valid():
            return form, None
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        period = StatementForm.default_period()
        start, end = period["start"], period["end"]
    return form, selectors.statement(request.customer, start, end)


@customer_view
def statement(request):
    form, result = _statement(request)
    return render(
        request,
        "portal/statement.html",
        {"form": form, "statement": result},
        status=200 if result else 400,
    )


@customer_view
def statement_download(request):
    form, result = _statement(request)
    if result is None:
        return render(request, "portal/statement.html", {"form": form}, status=400)
    filename = f"Statement-{request.customer.account_number}-{result.end.isoformat()}.pdf"
    return _pdf(statement_pdf(result), filename)
