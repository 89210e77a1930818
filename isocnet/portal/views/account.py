"""Dashboard and contact information."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from isocnet.collections.promises import promise_create
from isocnet.core import formatting
from isocnet.core.errors import BillingError
from isocnet.core.money import Money
from isocnet.customers.portal_access import contact_update, email_change_confirm
from isocnet.portal import selectors
from isocnet.portal.access import customer_view, form_error
from isocnet.portal.forms import ContactForm, PromiseForm


@customer_view
def dashboard(request):
    return render(request, "portal/dashboard.html", selectors.dashboard(request.customer))


@customer_view
@require_http_methods(["GET", "POST"])
def promise(request):
    """Promise to pay by a date: notices, late fees and suspension wait."""
    customer = request.customer
    facts = selectors.promise_form_facts(customer)
    form = PromiseForm(
        request.POST or None,
        initial={"amount": facts["owed"].as_string(), "promised_on": facts["max_date"]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            made = promise_create(
                actor=request.actor,
                customer_id=customer.pk,
                amount=form.cleaned_data["amount"],
                promised_on=form.cleaned_data["promised_on"],
                source="portal",
            )
        except BillingError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"Thank you: we have noted your promise to pay {formatting.money(Money.from_minor(made.amount_minor, made.currency))} "
                f"by {formatting.date(made.promised_on)}. Your service stays on until then.",
            )
            return redirect("portal:dashboard")
    return render(request, "portal/promise.html", {"form": form, **facts})


_ADDRESS = ("line1", "line2", "city", "region", "postal_code", "country")


def _contact_initial(customer) -> dict:
    return {
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "phone": customer.phone,
        **customer.address(),
    }


@customer_view
@require_http_methods(["GET", "POST"])
def contact(request):
    customer = request.customer
    form = ContactForm(request.POST or None, initial=_contact_initial(customer))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in ("name", "company", "phone")}
        changes["address"] = {k: data[k] for k in _ADDRESS}
        try:
            pending = contact_update(
                actor=request.actor, customer_id=customer.pk, changes=changes, email=data["email"]
            )
            if pending:
                messages.info(
                    request,
                    f"We sent a confirmation link to {data['email']}. Your billing email changes "
                    "when you click it; until then we keep using "
                    f"{customer.email}.",
                )
        except BillingError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Your contact information is saved.")
            return redirect("portal:contact")
    return render(request, "portal/contact.html", {"form": form})


@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """From the link in the new mailbox. GET only shows a button: mail
    scanners open links, and a GET must not change anything."""
    if request.method == "POST":
        try:
            customer = email_change_confirm(actor=None, token=token)
        except BillingError as exc:
            return render(request, "portal/email_confirm.html", {"error": exc.message}, status=400)
        return render(request, "portal/email_confirm.html", {"done": customer.email})
    return render(request, "portal/email_confirm.html", {})
