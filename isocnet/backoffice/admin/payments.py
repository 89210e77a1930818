"""Payments (returned-check action), account credit, cards (removal action),
gateway calls, refunds and webhook events."""

from __future__ import annotations

from django.contrib import admin

from isocnet.backoffice.admin.base import ReadOnlyAdmin, money_column
from isocnet.backoffice.admin.invoicing import AllocationInline
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.ledger.models import CreditEntry
from isocnet.payments.cards import card_remove
from isocnet.payments.models import (
    GatewayCall,
    Payment,
    PaymentMethod,
    Receipt,
    Refund,
    WebhookEvent,
)
from isocnet.payments.returns import payment_return


# -- payments -------------------------------------------------------------
class PaymentAllocationInline(AllocationInline):
    fk_name = "payment"
    fields = ["invoice", "amount_display", "created_at"]
    readonly_fields = fields


class DepositedFilter(admin.SimpleListFilter):
    """Whether a payment is in a deposit (posted from a deposit batch or a
    bank file) or still to be taken to the bank (recorded by hand)."""

    title = "deposit"
    parameter_name = "deposited"

    def lookups(self, request, model_admin):
        return [("yes", "In a deposit"), ("no", "Not in a deposit (to deposit)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deposit_item__isnull=False)
        if self.value() == "no":
            return queryset.filter(deposit_item__isnull=True)
        return queryset


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
    list_filter = ["method", "status", DepositedFilter, "received_on"]
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


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["number", "issue_date", "customer", "invoice", "payment", "amount_display"]
    search_fields = ["number", "invoice__number", "customer__name", "customer__account_number"]
    list_select_related = ["customer", "invoice", "payment"]
    date_hierarchy = "issue_date"
    amount_display = money_column("amount_minor", "Amount applied")


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


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "gateway", "event_id", "type", "outcome"]
    list_filter = ["gateway", "type"]
    search_fields = ["event_id"]
