"""The back office, first cut: the Django admin over every model.

Staff change customers through the same services as the API (validated,
audited). Money records (invoices, payments, credit, audit) are read-only
here: they change only through services, and issued invoices never change.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from isocnet.api.models import ApiToken
from isocnet.catalog.models import Plan, TaxRate
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.models import AuditEvent, Sequence
from isocnet.core.money import Money
from isocnet.customers.models import Customer, PortalUser
from isocnet.customers.services import customer_create, customer_input_clean, customer_update
from isocnet.documents.invoices import invoice_pdf
from isocnet.documents.models import StoredDocument
from isocnet.invoicing.models import (
    BillingRun,
    BillingRunItem,
    Charge,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTaxLine,
)
from isocnet.notifications.models import MessageKind, OutboxMessage
from isocnet.notifications.rendering import render as render_notice
from isocnet.notifications.services import message_resend
from isocnet.payments.cards import card_remove
from isocnet.payments.models import (
    Allocation,
    CreditEntry,
    GatewayCall,
    Payment,
    PaymentKind,
    PaymentMethod,
    Refund,
    WebhookEvent,
)
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record, payment_return
from isocnet.subscriptions.models import Subscription


def money_column(attr: str, label: str, currency_attr: str = "currency"):
    """A list column showing integer minor units as "$49.95"."""

    def column(model_admin, obj):
        value = getattr(obj, attr)
        if value is None:
            return "—"
        currency = obj
        for part in currency_attr.split("__"):
            currency = getattr(currency, part)
        return Money.from_minor(value, currency).format()

    column.short_description = label
    column.admin_order_field = attr
    return column


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# -- customers ------------------------------------------------------------
_FORM_TO_API = {
    "address_line1": "address.line1",
    "address_line2": "address.line2",
    "city": "address.city",
    "region": "address.region",
    "postal_code": "address.postal_code",
    "country": "address.country",
}
_API_TO_FORM = {v: k for k, v in _FORM_TO_API.items()}
_EDITABLE = [
    "name",
    "company",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "currency",
    "tax_exempt",
    "payment_method",
    "status",
    "notes",
]


def _api_data(cleaned: dict) -> dict:
    data = {k: v for k, v in cleaned.items() if k not in _FORM_TO_API}
    data["address"] = {
        api.split(".")[1]: cleaned.get(form, "") for form, api in _FORM_TO_API.items()
    }
    return data


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = _EDITABLE

    def clean(self):
        cleaned = super().clean()
        try:
            customer_input_clean(_api_data(cleaned), partial=self.instance.pk is not None)
        except BillingError as exc:
            self.add_error(
                _API_TO_FORM.get(exc.field, exc.field if exc.field in self.fields else None),
                exc.message,
            )
        return cleaned


_PAYMENT_FIELDS = {
    "amount": "amount",
    "method": "method",
    "reference": "reference",
    "date": "date",
    "invoice": "invoice",
}


class RecordPaymentForm(forms.Form):
    invoice = forms.ChoiceField(
        required=False, help_text="Leave empty to pay the oldest open invoices first"
    )
    amount = forms.CharField(help_text="e.g. 49.95")
    method = forms.ChoiceField(choices=[c for c in PaymentKind.choices if c[0] != "card"])
    reference = forms.CharField(required=False, help_text="Check number, money order number, ...")
    date = forms.DateField(required=False, help_text="Received on (default: today)")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        open_invoices = Invoice.objects.filter(
            customer=customer, status__in=["unpaid", "partially_paid"]
        ).order_by("due_date")
        self.fields["invoice"].choices = [("", "Oldest open invoices first")] + [
            (inv.number, f"#{inv.number} — balance {inv.balance.format()}, due {inv.due_date}")
            for inv in open_invoices
        ]


class SubscriptionInline(ReadOnlyInline):
    model = Subscription
    fields = ["plan", "description", "quantity", "status", "next_due_date"]
    readonly_fields = fields


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fields = ["number", "status", "issue_date", "due_date", "total_display", "balance_display"]
    readonly_fields = fields
    show_change_link = True
    total_display = money_column("total_minor", "Total")
    balance_display = money_column("balance_minor", "Balance")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = [
        "account_number",
        "name",
        "company",
        "email",
        "payment_method",
        "status",
        "currency",
    ]
    list_filter = ["status", "payment_method", "tax_exempt", "currency", "country"]
    search_fields = ["account_number", "name", "company", "email", "external_id", "phone"]
    readonly_fields = ["account_number", "external_id", "created_at", "updated_at"]
    inlines = [SubscriptionInline, InvoiceInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "account_summary_display"] if obj else self.readonly_fields

    @admin.display(description="Account")
    def account_summary_display(self, obj):
        summary = account_summary(obj)
        url = reverse("admin:customers_record_payment", args=[obj.pk])
        return format_html(
            "Open invoices {} · credit {} · balance <strong>{}</strong> · "
            '<a class="button" href="{}">Record a payment</a>',
            summary.open_invoices.format(),
            summary.credit.format(),
            summary.balance.format(),
            url,
        )

    def get_urls(self):
        return [
            path(
                "<int:customer_id>/record-payment/",
                self.admin_site.admin_view(self.record_payment),
                name="customers_record_payment",
            ),
            *super().get_urls(),
        ]

    def record_payment(self, request, customer_id):
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise Http404("no such customer")
        form = RecordPaymentForm(request.POST or None, customer=customer)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                result = payment_record(
                    actor=Actor.staff(request.user),
                    customer_id=customer.pk,
                    amount=data["amount"],
                    method=data["method"],
                    reference=data["reference"],
                    received_on=data["date"],
                    invoice_number=data["invoice"] or None,
                )
            except BillingError as exc:
                form.add_error(
                    _PAYMENT_FIELDS.get(exc.field) if exc.field in _PAYMENT_FIELDS else None,
                    exc.message,
                )
            else:
                credit = f", {result.credit.format()} to account credit" if result.credit else ""
                self.message_user(
                    request,
                    f"Payment of {result.payment.amount.format()} recorded: "
                    f"{result.applied.format()} applied{credit}. A receipt is on its way.",
                )
                return redirect("admin:customers_customer_change", customer.pk)
        return TemplateResponse(
            request,
            "backoffice/record_payment.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Record a payment — {customer}",
                "customer": customer,
                "form": form,
            },
        )

    def save_model(self, request, obj, form, change):
        actor = Actor.staff(request.user)
        data = _api_data(form.cleaned_data)
        if change:
            saved = customer_update(actor=actor, customer_id=obj.pk, changes=data)
        else:
            data.pop("status", None)
            saved = customer_create(actor=actor, **data)
        obj.pk = saved.pk
        obj.account_number = saved.account_number


@admin.register(PortalUser)
class PortalUserAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "created_at"]
    search_fields = ["user__username", "user__email", "customer__name", "customer__account_number"]
    raw_id_fields = ["user", "customer"]
    readonly_fields = ["created_at"]


# -- catalog --------------------------------------------------------------
@admin.register(TaxRate)
class TaxRateAdmin(ReadOnlyAdmin):
    list_display = ["name", "rate", "active"]
    list_filter = ["active"]


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "cycle", "price_display", "setup_fee_display", "active"]
    list_filter = ["cycle", "active"]
    search_fields = ["name", "code", "description"]
    price_display = money_column("price_minor", "Price")
    setup_fee_display = money_column("setup_fee_minor", "Setup fee")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "customer",
        "plan",
        "description",
        "quantity",
        "status",
        "next_due_date",
        "anchor_day",
    ]
    list_filter = ["status", "plan__cycle", "plan"]
    search_fields = ["description", "customer__name", "customer__account_number"]
    list_select_related = ["customer", "plan"]
    date_hierarchy = "next_due_date"


# -- invoicing ------------------------------------------------------------
class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = [
        "position",
        "description",
        "period_start",
        "period_last_day",
        "quantity",
        "unit_display",
        "tax_names",
        "amount_display",
    ]
    readonly_fields = fields
    unit_display = money_column("unit_price_minor", "Unit price", "invoice__currency")
    amount_display = money_column("amount_minor", "Amount", "invoice__currency")


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
    readonly_fields = ["documents_links"]

    @admin.display(description="PDF and notices")
    def documents_links(self, obj):
        if obj.status == "draft":
            return "—"
        links = [
            format_html('<a href="{}">Invoice PDF</a>', reverse("admin:invoice_pdf", args=[obj.pk]))
        ]
        for kind in MessageKind:
            if kind != MessageKind.RECEIPT:
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


# -- payments -------------------------------------------------------------
class PaymentAllocationInline(AllocationInline):
    fk_name = "payment"
    fields = ["invoice", "amount_display", "created_at"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    actions = ["mark_returned"]

    @admin.action(description="Returned by the bank (bounced): void and reopen the invoices")
    def mark_returned(self, request, queryset):
        for payment in queryset:
            try:
                payment_return(
                    actor=Actor.staff(request.user),
                    payment_id=payment.pk,
                    reason="Returned by the bank",
                )
            except BillingError as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc.message}", level="error")
            else:
                self.message_user(
                    request, f"Payment {payment.pk} voided; the customer is notified."
                )

    list_display = [
        "id",
        "received_on",
        "customer",
        "method",
        "reference",
        "amount_display",
        "status",
        "recorded_by",
    ]
    list_filter = ["method", "status", "received_on"]
    search_fields = [
        "reference",
        "customer__name",
        "customer__account_number",
        "allocations__invoice__number",
    ]
    list_select_related = ["customer"]
    date_hierarchy = "received_on"
    inlines = [PaymentAllocationInline]
    amount_display = money_column("amount_minor", "Amount")


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "customer",
        "kind",
        "amount_display",
        "invoice",
        "memo",
        "recorded_by",
    ]
    list_filter = ["kind"]
    search_fields = ["customer__name", "customer__account_number", "memo"]
    list_select_related = ["customer", "invoice"]
    amount_display = money_column("amount_minor", "Amount")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    actions = ["remove_cards"]

    @admin.action(description="Remove the selected cards")
    def remove_cards(self, request, queryset):
        for card in queryset.filter(removed_at__isnull=True):
            card_remove(
                actor=Actor.staff(request.user), customer_id=card.customer_id, card_id=card.pk
            )
        self.message_user(request, "Cards removed.")

    list_display = [
        "customer",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "removed_at",
    ]
    list_filter = ["brand", "is_default"]
    search_fields = ["customer__name", "customer__account_number", "last4"]
    exclude = ["token"]


# -- core -----------------------------------------------------------------
@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id", "customer_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "action", "object_id"]
    date_hierarchy = "created_at"


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_value"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "customer",
        "invoice",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["kind", "status"]
    search_fields = [
        "customer__name",
        "customer__account_number",
        "invoice__number",
        "dedupe_key",
        "to_email",
    ]
    list_select_related = ["customer", "invoice"]
    fields = [
        "kind",
        "status",
        "customer",
        "invoice",
        "to_email",
        "cc_emails",
        "subject",
        "created_at",
        "rendered_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "last_error",
        "message_id",
        "attachment_link",
        "body_text_display",
        "body_html_display",
        "resend_of",
    ]
    readonly_fields = fields
    actions = ["resend"]

    def has_change_permission(self, request, obj=None):
        return (
            False
            if obj is not None and request.method == "POST"
            else super().has_view_permission(request, obj)
        )

    @admin.display(description="Text")
    def body_text_display(self, obj):
        return format_html(
            '<pre style="white-space:pre-wrap;max-width:60em">{}</pre>', obj.body_text
        )

    @admin.display(description="HTML")
    def body_html_display(self, obj):
        if not obj.body_html:
            return "—"
        return format_html(
            '<iframe sandbox="" style="width:100%;max-width:700px;height:600px;border:1px solid #ccc" '
            'srcdoc="{}"></iframe>',
            obj.body_html,
        )

    @admin.display(description="Attachment")
    def attachment_link(self, obj):
        if not obj.document_id:
            return "—"
        url = reverse("admin:documents_download", args=[obj.document_id])
        return format_html(
            '<a href="{}">{}</a> (SHA-256 {})', url, obj.document.filename, obj.document.sha256
        )

    @admin.action(description="Send the selected messages again")
    def resend(self, request, queryset):
        actor = Actor.staff(request.user)
        done = 0
        for message in queryset:
            try:
                message_resend(actor=actor, message_id=message.pk)
                done += 1
            except BillingError as exc:
                self.message_user(request, f"{message}: {exc.message}", level="error")
        self.message_user(request, f"{done} message(s) queued again.")

    def get_urls(self):
        return [
            path(
                "document/<int:doc_id>/",
                self.admin_site.admin_view(self.download),
                name="documents_download",
            ),
            path(
                "preview/<int:invoice_id>/<str:kind>/",
                self.admin_site.admin_view(self.preview),
                name="notifications_preview",
            ),
            *super().get_urls(),
        ]

    def download(self, request, doc_id):
        doc = StoredDocument.objects.filter(pk=doc_id).first()
        if doc is None:
            raise Http404("no such document")
        response = HttpResponse(bytes(doc.content), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{doc.filename}"'
        return response

    def preview(self, request, invoice_id, kind):
        invoice = Invoice.objects.filter(pk=invoice_id).exclude(status="draft").first()
        if invoice is None or kind not in MessageKind.values or kind == MessageKind.RECEIPT:
            raise Http404("no such invoice or notice")
        rendered = render_notice(kind, invoice, store_pdf=False)
        if request.GET.get("pdf") and rendered.attachment:
            return HttpResponse(rendered.attachment[1], content_type="application/pdf")
        return TemplateResponse(
            request,
            "backoffice/notice_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Preview: {rendered.subject}",
                "invoice": invoice,
                "rendered": rendered,
                "kinds": [k for k in MessageKind if k != MessageKind.RECEIPT],
            },
        )


@admin.register(GatewayCall)
class GatewayCallAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "customer",
        "invoice",
        "amount_display",
        "status",
        "attempt",
        "decline_code",
        "next_retry_on",
        "idempotency_key",
    ]
    list_filter = ["kind", "status", "gateway", "hard_decline"]
    search_fields = [
        "idempotency_key",
        "charge_id",
        "customer__name",
        "customer__account_number",
        "invoice__number",
    ]
    list_select_related = ["customer", "invoice"]
    amount_display = money_column("amount_minor", "Amount")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "customer",
        "payment",
        "amount_display",
        "destination",
        "status",
        "reason",
    ]
    list_filter = ["destination", "status"]
    search_fields = ["customer__name", "customer__account_number", "reason"]
    amount_display = money_column("amount_minor", "Amount")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "issue_date", "customer", "invoice", "amount_display", "reason"]
    search_fields = ["number", "invoice__number", "customer__name", "customer__account_number"]
    amount_display = money_column("amount_minor", "Amount")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "gateway", "event_id", "type", "outcome"]
    list_filter = ["gateway", "type"]
    search_fields = ["event_id"]
