"""Invoices (read-only; PDF and notice previews), billing runs with their items,
pending charges and credit notes."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from isocnet.backoffice.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    money_column,
)
from isocnet.core import clock, formatting
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.documents.invoices import invoice_pdf
from isocnet.invoicing.models import (
    BillingRun,
    BillingRunItem,
    Charge,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTaxLine,
)
from isocnet.ledger.models import Allocation
from isocnet.notifications.previews import previewable
from isocnet.operations.billing_run import billing_run
from isocnet.outbox.models import MessageKind


# -- invoicing ------------------------------------------------------------
class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = [
        "position",
        "description",
        "period_display",
        "quantity_display",
        "unit_display",
        "tax_names",
        "amount_display",
    ]
    readonly_fields = fields
    unit_display = money_column("unit_price_minor", "Unit price", "invoice__currency")
    amount_display = money_column("amount_minor", "Amount", "invoice__currency")

    @admin.display(description="Service period")
    def period_display(self, obj):
        if not obj.period_start:
            return "—"
        return f"{date_format(obj.period_start)} – {date_format(obj.period_last_day)}"

    @admin.display(description="Quantity")
    def quantity_display(self, obj):
        return formatting.quantity(obj.quantity)


class InvoiceTaxLineInline(ReadOnlyInline):
    model = InvoiceTaxLine
    fields = ["name", "percent", "taxable_display", "tax_display"]
    readonly_fields = fields
    taxable_display = money_column("taxable_minor", "Taxable", "invoice__currency")
    tax_display = money_column("tax_minor", "Tax", "invoice__currency")


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "invoice"
    fields = ["payment", "amount_display", "created_at"]
    readonly_fields = fields
    amount_display = money_column("amount_minor", "Amount", "invoice__currency")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    fields = [
        "customer",
        "number",
        "status",
        "issue_date",
        "due_date",
        "currency",
        "bill_to_display",
        "subtotal_minor",
        "tax_minor",
        "total_minor",
        "issued_balance_minor",
        "amount_paid_minor",
        "credit_applied_minor",
        "credited_minor",
        "balance_minor",
        "overdue_since",
        "notes",
        "billing_run",
        "issued_at",
        "voided_at",
        "void_reason",
        "series",
        "sequence",
        "documents_links",
    ]
    readonly_fields = ["documents_links", "bill_to_display"]
    issued_balance_minor_money = money_column("issued_balance_minor", "Amount due at issue")
    credited_minor_money = money_column("credited_minor", "Credit notes")

    @admin.display(description="Bill to")
    def bill_to_display(self, obj):
        """The customer's name and address as printed on the invoice."""
        bill_to = obj.bill_to or {}
        lines = [
            bill_to.get("name", ""),
            bill_to.get("company", ""),
            *bill_to.get("address", []),
            bill_to.get("email", ""),
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines if line))

    @admin.display(description="PDF and notices")
    def documents_links(self, obj):
        if obj.status == "draft":
            return "—"
        links = [
            format_html('<a href="{}">Invoice PDF</a>', reverse("admin:invoice_pdf", args=[obj.pk]))
        ]
        for kind in map(MessageKind, previewable(obj)):
            url = reverse("admin:notifications_preview", args=[obj.pk, kind.value])
            links.append(format_html('<a href="{}">Preview {}</a>', url, kind.label.lower()))
        return format_html_join(" · ", "{}", ((link,) for link in links))

    def get_urls(self):
        return [
            path("<int:invoice_id>/pdf/", self.admin_site.admin_view(self.pdf), name="invoice_pdf"),
            *super().get_urls(),
        ]

    def pdf(self, request, invoice_id):
        invoice = Invoice.objects.filter(pk=invoice_id).exclude(status="draft").first()
        if invoice is None:
            raise Http404("no such invoice")
        doc = invoice_pdf(invoice)
        response = HttpResponse(bytes(doc.content), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{doc.filename}"'
        return response

    list_display = [
        "number",
        "customer",
        "status",
        "issue_date",
        "due_date",
        "total_display",
        "balance_display",
    ]
    list_filter = ["status", "issue_date", "due_date", "currency"]
    search_fields = ["number", "customer__name", "customer__account_number", "customer__email"]
    list_select_related = ["customer"]
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline, InvoiceTaxLineInline, AllocationInline]
    total_display = money_column("total_minor", "Total")
    balance_display = money_column("balance_minor", "Balance")


# -- billing runs and notices --------------------------------------------------
class BillingRunItemInline(ReadOnlyInline):
    model = BillingRunItem
    fields = ["customer", "outcome", "invoice", "lines", "total_display", "message"]
    readonly_fields = fields
    total_display = money_column("total_minor", "Total", "run__currency")


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "date",
        "status",
        "started_at",
        "finished_at",
        "customers_seen",
        "invoices_created",
        "total_display",
        "refused",
        "errors",
        "marked_overdue",
        "notices_queued",
        "suspended",
    ]
    list_filter = ["status", "date"]
    date_hierarchy = "date"
    inlines = [BillingRunItemInline]
    total_display = money_column("invoices_total_minor", "Total invoiced")
    fields = [
        "date",
        "status",
        "started_at",
        "finished_at",
        "started_by",
        "customers_seen",
        "invoices_created",
        "total_display",
        "refused",
        "errors",
        "marked_overdue",
        "notices_queued",
        "suspended",
        "reactivated",
        "to_collect",
        "charged",
        "declined",
        "reconciled",
    ]
    readonly_fields = fields
    change_list_template = "backoffice/billingrun_change_list.html"

    def get_urls(self):
        from django.urls import path

        return [
            path("start/", self.admin_site.admin_view(self.start), name="billing_run_start"),
            *super().get_urls(),
        ]

    def start(self, request):
        """Preview (anyone) or run (billing managers) the billing for a day."""
        from django import forms
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        class RunForm(forms.Form):
            date = forms.DateField(
                initial=clock.today, widget=forms.DateInput(attrs={"type": "date"})
            )
            preview = forms.BooleanField(
                required=False, initial=True, label="Preview only (nothing is written)"
            )

        form = RunForm(request.POST or None)
        summary = None
        if request.method == "POST" and form.is_valid():
            try:
                summary = billing_run(
                    date=form.cleaned_data["date"],
                    actor=Actor.staff(request.user),
                    dry_run=form.cleaned_data["preview"],
                )
            except BillingError as exc:
                form.add_error(None, exc.message)
            else:
                if summary.run is not None:
                    self.message_user(
                        request,
                        f"Billing run done: {summary.invoices} invoices, {summary.total.format()}.",
                    )
                    return redirect("admin:invoicing_billingrun_change", summary.run.pk)
        return TemplateResponse(
            request,
            "backoffice/billing_run_start.html",
            {
                **self.admin_site.each_context(request),
                "title": "Run billing",
                "form": form,
                "summary": summary,
                "rows": [_preview_row(item) for item in summary.preview] if summary else [],
                "total": formatting.money(summary.total) if summary and summary.total else "",
            },
        )


def _preview_row(item: dict) -> dict:
    """A dry run's invoice (BillingPlan.as_preview) with its money as money:
    the lines, the tax lines, the total, the credit applied, the amount due."""

    currency = Customer.objects.values_list("currency", flat=True).get(pk=item["customer"])

    def show(text):
        return formatting.money(Money.parse(text, currency, allow_negative=True)) if text else ""

    credit = show(item.get("credit_applied")) if item.get("credit_applied") else ""
    due = ""
    if item.get("total"):
        owed = Money.parse(item["total"], currency, allow_negative=True)
        if item.get("credit_applied"):
            owed = owed - Money.parse(item["credit_applied"], currency)
        due = formatting.money(owed)
    return {
        **item,
        "due_date": formatting.date(dt.date.fromisoformat(item["due_date"]))
        if item.get("due_date")
        else "",
        "lines": [{**line, "amount": show(line["amount"])} for line in item["lines"]],
        "subtotal": show(item.get("subtotal")),
        "taxes": [
            {
                "label": f"{t['name']} ({t['percent']}% of {show(t['taxable'])})",
                "amount": show(t["amount"]),
            }
            for t in item.get("taxes", [])
        ],
        "total": show(item.get("total")),
        "credit": credit,
        "due": due,
    }


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "customer",
        "description",
        "amount_display",
        "invoice_line",
        "created_by",
    ]
    search_fields = ["description", "customer__name", "customer__account_number"]
    list_select_related = ["customer", "invoice_line"]
    amount_display = money_column("amount_minor", "Amount")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "issue_date", "customer", "invoice", "amount_display", "reason"]
    search_fields = ["number", "invoice__number", "customer__name", "customer__account_number"]
    amount_display = money_column("amount_minor", "Amount")
