"""Customers and portal users: created and changed through the customer services;
staff record payments from the customer page."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from isocnet.backoffice.actions import ACTIONS
from isocnet.backoffice.admin.base import ReadOnlyInline, money_column
from isocnet.backoffice.admin.customer_forms import (
    PAYMENT_FIELDS,
    CustomerForm,
    ImportForm,
    RecordPaymentForm,
    form_to_api,
)
from isocnet.backoffice.history import customer_history
from isocnet.backoffice.workqueue import with_overdue
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.money import Money
from isocnet.customers.models import ADDRESS_COLUMNS, Customer, PortalUser
from isocnet.customers.portal_access import portal_invite
from isocnet.customers.services import customer_create, customer_update
from isocnet.imports.services import run_import
from isocnet.invoicing.models import Invoice
from isocnet.operations.timeline import customer_timeline, next_step
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import Payment, PaymentMethod
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription


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


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["received_on", "method", "reference", "amount_display", "status"]
    readonly_fields = fields
    show_change_link = True
    amount_display = money_column("amount_minor", "Amount")


class CardInline(ReadOnlyInline):
    model = PaymentMethod
    fields = ["brand", "last4", "exp_month", "exp_year", "is_default", "removed_at"]
    readonly_fields = fields
    verbose_name = "card"


class MessageInline(ReadOnlyInline):
    model = OutboxMessage
    fk_name = "customer"
    fields = ["created_at", "kind", "subject", "status", "sent_at"]
    readonly_fields = fields
    show_change_link = True
    verbose_name = "message sent"
    verbose_name_plural = "messages sent"


class OverdueFilter(admin.SimpleListFilter):
    title = "days overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [
            ("any", "Overdue"),
            ("1-30", "1–30 days"),
            ("31-60", "31–60 days"),
            ("61+", "61 days or more"),
            ("none", "Not overdue"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(oldest_due__isnull=True)
        today = clock.today()
        if value == "any":
            return queryset.filter(oldest_due__isnull=False)
        low, _, high = value.partition("-")
        low = int(low.rstrip("+"))
        queryset = queryset.filter(oldest_due__lte=today - dt.timedelta(days=low))
        if high:
            queryset = queryset.filter(oldest_due__gt=today - dt.timedelta(days=int(high) + 1))
        return queryset


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
        "balance_column",
        "days_overdue_column",
    ]
    list_filter = [OverdueFilter, "status", "payment_method", "tax_exempt", "currency", "country"]

    def get_queryset(self, request):
        """With what each account owes on open invoices and its oldest
        overdue due date (the list's balance and days-overdue columns)."""
        return with_overdue(super().get_queryset(request), clock.today())

    @admin.display(description="Balance", ordering="balance")
    def balance_column(self, obj):
        """What the customer's page says: owed less account credit."""
        return Money.from_minor(obj.balance or 0, obj.currency).format()

    @admin.display(description="Days overdue", ordering="oldest_due")
    def days_overdue_column(self, obj):
        return (clock.today() - obj.oldest_due).days if obj.oldest_due else "—"

    search_fields = [
        "account_number",
        "name",
        "company",
        "email",
        "external_id",
        "phone",
        "=invoices__number",
        "=payments__reference",
    ]
    readonly_fields = ["account_number", "external_id", "created_at", "updated_at"]
    inlines = [SubscriptionInline, InvoiceInline, PaymentInline, CardInline, MessageInline]
    actions = ["send_portal_invitation"]

    @admin.action(description="Send a client portal invitation (set-password link)")
    def send_portal_invitation(self, request, queryset):
        from django.contrib import messages

        sent = 0
        for customer in queryset:
            try:
                portal_invite(actor=Actor.staff(request.user), customer_id=customer.pk)
                sent += 1
            except BillingError as exc:
                self.message_user(request, f"{customer}: {exc.message}", messages.WARNING)
        if sent:
            self.message_user(request, f"Portal invitation queued for {sent} customer(s).")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # a new customer has nothing to list yet

    def get_fieldsets(self, request, obj=None):
        contact = ("Contact", {"fields": ["name", "company", "email", "phone"]})
        address = ("Billing address", {"fields": list(ADDRESS_COLUMNS.values())})
        billing = (
            "Billing",
            {"fields": ["payment_method", "currency", "tax_exempt", "status", "notes"]},
        )
        if obj is None:
            return [contact, address, billing]
        account = (
            "Account",
            {"fields": ["account_number", "account_summary_display", "external_id"]},
        )
        record = ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]})
        return [account, contact, address, billing, record]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "account_summary_display"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The history goes below the invoices and payments (the change form
        template shows it after the inlines), in words a clerk reads."""

        customer = self.get_object(request, object_id)
        events = customer_timeline(customer.pk) if customer else []
        extra_context = {
            **(extra_context or {}),
            "history": customer_history(customer) if customer else [],
            "timeline": events,
            "next_step": next_step(events, to_staff=True),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Account")
    def account_summary_display(self, obj):
        from django.utils.html import format_html_join

        summary = account_summary(obj)
        url = reverse("admin:customers_record_payment", args=[obj.pk])
        buttons = format_html_join(
            " ",
            '<a class="button" style="margin:2px 0;display:inline-block" href="{}">{}</a>',
            (
                (reverse("admin:customers_action", args=[obj.pk, a.name]), a.label)
                for a in ACTIONS.values()
            ),
        )
        return format_html(
            "Open invoices {} · credit {} · balance <strong>{}</strong> · "
            '<a class="button" href="{}">Record a payment</a><br><br>{}',
            summary.open_invoices.format(),
            summary.credit.format(),
            summary.balance.format(),
            url,
            buttons,
        )

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_csv),
                name="customers_import",
            ),
            path(
                "<int:customer_id>/do/<str:action>/",
                self.admin_site.admin_view(self.staff_action),
                name="customers_action",
            ),
            path(
                "<int:customer_id>/record-payment/",
                self.admin_site.admin_view(self.record_payment),
                name="customers_record_payment",
            ),
            *super().get_urls(),
        ]

    def staff_action(self, request, customer_id, action):

        customer = Customer.objects.filter(pk=customer_id).first()
        spec = ACTIONS.get(action)
        if customer is None or spec is None:
            raise Http404("no such customer or action")
        form = spec.form(request.POST if request.method == "POST" else None, customer=customer)
        if request.method == "POST" and form.is_valid():
            try:
                done = spec.run(Actor.staff(request.user), customer, form.cleaned_data)
            except BillingError as exc:
                field = (exc.field or "").split(".")[0]
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                self.message_user(request, done)
                return redirect("admin:customers_customer_change", customer.pk)
        return TemplateResponse(
            request,
            "backoffice/action.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{spec.label} — {customer}",
                "customer": customer,
                "form": form,
            },
        )

    def import_csv(self, request):

        if not request.user.has_perm("customers.add_customer"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                text = data["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "the file is not UTF-8 text (save it as CSV UTF-8)")
            else:
                report = run_import(
                    actor=Actor.staff(request.user),
                    kind=data["kind"] or None,
                    text=text,
                    dry_run=data["dry_run"],
                    welcome=data["welcome"],
                )
        return TemplateResponse(
            request,
            "backoffice/import.html",
            {
                **self.admin_site.each_context(request),
                "title": "Import from the previous billing system",
                "form": form,
                "report": report,
            },
        )

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
                    PAYMENT_FIELDS.get(exc.field) if exc.field in PAYMENT_FIELDS else None,
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
        data = form_to_api(form.cleaned_data)
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
