"""The price list and customers' services (read-only here; created through the API)."""

from __future__ import annotations

from django.contrib import admin

from isocnet.backoffice.admin.base import ReadOnlyAdmin, money_column
from isocnet.catalog.models import Plan, TaxRate
from isocnet.subscriptions.models import Subscription


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
