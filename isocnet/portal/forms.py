from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django import forms

from isocnet.core import clock
from isocnet.core.validation import _countries


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    from babel import Locale

    names = Locale("en").territories
    return sorted(((code, names[code]) for code in _countries()), key=lambda c: c[1])


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, label="Full name")
    company = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(
        max_length=254,
        label="Billing email",
        help_text="Invoices and receipts go here. A new address is used once you confirm it "
        "from that mailbox.",
    )
    phone = forms.CharField(max_length=40, required=False)
    line1 = forms.CharField(max_length=200, label="Street address")
    line2 = forms.CharField(max_length=200, required=False, label="Apartment, suite, unit")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, label="State / region")
    postal_code = forms.CharField(max_length=20, label="ZIP / postal code")
    country = forms.ChoiceField(choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()
        autocomplete = {
            "name": "name",
            "company": "organization",
            "email": "email",
            "phone": "tel",
            "line1": "address-line1",
            "line2": "address-line2",
            "city": "address-level2",
            "region": "address-level1",
            "postal_code": "postal-code",
            "country": "country",
        }
        for name, value in autocomplete.items():
            self.fields[name].widget.attrs["autocomplete"] = value


class PayForm(forms.Form):
    attempt = forms.CharField(widget=forms.HiddenInput)
    invoice = forms.CharField(required=False, widget=forms.HiddenInput)
    amount = forms.CharField(
        max_length=20,
        label="Amount to pay",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    add_credit = forms.BooleanField(
        required=False, label="If I pay more than I owe, keep the rest as account credit"
    )
    card = forms.ChoiceField(label="Pay with", widget=forms.RadioSelect, choices=())
    save_card = forms.BooleanField(required=False, label="Save the new card for next time")
    auto_debit = forms.BooleanField(
        required=False, label="Pay my invoices automatically with this card (auto debit)"
    )
    # Set by the confirmation page: a saved card is charged only once the
    # customer has seen the amount and the card and pressed "Pay … now".
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, cards=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card"].choices = [
            (str(c.pk), f"{c.brand} ending in {c.last4} (expires {c.exp_month:02d}/{c.exp_year})")
            for c in cards
        ] + [("new", "A new card")]


class StatementForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def default_period() -> dict:
        today = clock.today()
        return {"start": today - dt.timedelta(days=90), "end": today}

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "must not be before the start of the period")
        if end and end > clock.today():
            self.add_error("end", "must not be in the future")
        if start and end and (end - start).days > 3 * 366:
            self.add_error("start", "a statement covers at most three years")
        return data


class PromiseForm(forms.Form):
    amount = forms.CharField(max_length=20, label="Amount you will pay", help_text="e.g. 94.95")
    promised_on = forms.DateField(
        label="Date you will pay by",
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
