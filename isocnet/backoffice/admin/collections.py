"""Collections in the back office: promises, disputes and late fees (read
here, changed through the customer page's actions), and the collections
policy (its own page: backoffice.collections_views)."""

from __future__ import annotations

from django.contrib import admin

from isocnet.backoffice.admin.base import ReadOnlyAdmin, money_column
from isocnet.collections.models import Dispute, Installment, LateFee, PaymentPlan, Promise


@admin.register(Promise)
class PromiseAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "amount_display",
        "paid_display",
        "promised_on",
        "status",
        "source",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "source", "promised_on"]
    search_fields = ["customer__name", "customer__account_number"]
    date_hierarchy = "promised_on"
    amount_display = money_column("amount_minor", "Promised")
    paid_display = money_column("paid_minor", "Paid")


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "customer", "reason", "opened_at", "opened_by", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["invoice__number", "customer__name", "customer__account_number"]


@admin.register(LateFee)
class LateFeeAdmin(ReadOnlyAdmin):
    list_display = [
        "invoice",
        "customer",
        "charged_on",
        "amount_display",
        "fee_invoice",
        "waived_at",
        "waive_reason",
    ]
    list_filter = ["charged_on", ("waived_at", admin.EmptyFieldListFilter)]
    search_fields = ["invoice__number", "customer__name", "customer__account_number"]
    date_hierarchy = "charged_on"
    amount_display = money_column("amount_minor", "Fee")


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = ["sequence", "due_on", "amount_display"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    amount_display = money_column("amount_minor", "Amount", "plan__currency")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "total_display",
        "paid_display",
        "status",
        "created_by",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["customer__name", "customer__account_number"]
    inlines = [InstallmentInline]
    total_display = money_column("total_minor", "Total")
    paid_display = money_column("paid_minor", "Paid")
