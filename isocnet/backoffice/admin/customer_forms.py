"""The customer page's forms: the customer's details (validated by the
same cleaner as the API), recording a payment, importing a CSV."""

from __future__ import annotations

from django import forms

from isocnet.core.errors import BillingError
from isocnet.customers.models import ADDRESS_COLUMNS, DETAIL_FIELDS, Customer
from isocnet.customers.services import customer_input_clean
from isocnet.invoicing.models import (
    Invoice,
)
from isocnet.payments.models import PaymentKind

# -- customers ------------------------------------------------------------
_FORM_TO_API = {column: f"address.{part}" for part, column in ADDRESS_COLUMNS.items()}
API_TO_FORM = {v: k for k, v in _FORM_TO_API.items()}
EDITABLE = [field for field in DETAIL_FIELDS if field != "cc_emails"]


def form_to_api(cleaned: dict) -> dict:
    data = {k: v for k, v in cleaned.items() if k not in _FORM_TO_API}
    data["address"] = {
        api.split(".")[1]: cleaned.get(form, "") for form, api in _FORM_TO_API.items()
    }
    return data


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = EDITABLE

    def clean(self):
        cleaned = super().clean()
        try:
            customer_input_clean(form_to_api(cleaned), partial=self.instance.pk is not None)
        except BillingError as exc:
            self.add_error(
                API_TO_FORM.get(exc.field, exc.field if exc.field in self.fields else None),
                exc.message,
            )
        return cleaned


PAYMENT_FIELDS = {
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


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, with a header row")
    kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Guess from the header"),
            ("customers", "Customers"),
            ("subscriptions", "Services (subscriptions)"),
            ("balances", "Opening balances"),
        ],
    )
    dry_run = forms.BooleanField(required=False, label="Only check (import nothing)")
    welcome = forms.BooleanField(
        required=False, label="Send new customers the client portal welcome email"
    )
