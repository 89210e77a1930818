"""Paying the bill and the cards on file.

A new card is typed on the gateway's hosted form, never here: the browser
goes there and comes back with a one-time token and the ``state`` we gave
it (single use, kept in the session), so nobody else can plant a card or
a payment through the return address.
"""

from __future__ import annotations

import secrets
import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from isocnet.core.errors import BillingError
from isocnet.payments import card_payments
from isocnet.payments.cards import card_attach, card_set_default
from isocnet.payments.gateways import get_gateway
from isocnet.payments.models import CallStatus
from isocnet.payments.selectors import account_summary
from isocnet.portal import selectors
from isocnet.portal.access import customer_view, error_page, form_error
from isocnet.portal.forms import PayForm

_SESSION = "portal.card_form"


def _to_card_form(request, *, purpose: str, payload: dict, back: str):
    state = secrets.token_urlsafe(16)
    request.session[_SESSION] = {"state": state, "purpose": purpose, **payload}
    return redirect(get_gateway().card_form_url(return_path=reverse(back), state=state))


def _from_card_form(request, purpose: str) -> tuple[dict | None, str]:
    pending = request.session.pop(_SESSION, None)
    token, state = request.GET.get("token", ""), request.GET.get("state", "")
    if (
        not pending
        or pending.get("purpose") != purpose
        or not secrets.compare_digest(pending.get("state", ""), state)
        or not token
    ):
        return None, ""
    return pending, token


def _pay_context(customer, form, invoice) -> dict:
    summary = account_summary(customer)
    return {
        "form": form,
        "invoice": invoice,
        "owed": invoice.balance if invoice else summary.open_invoices,
        "summary": summary,
        "auto_debit": customer.auto_debit,
    }


@customer_view
@require_http_methods(["GET", "POST"])
def pay(request):
    customer = request.customer
    cards = selectors.cards(customer)
    number = request.POST.get("invoice") or request.GET.get("invoice") or ""
    invoice = selectors.invoice(customer, number) if number else None
    if request.method == "GET":
        context = _pay_context(customer, None, invoice)
        owed = context["owed"]
        context["form"] = PayForm(
            cards=cards,
            initial={
                "attempt": uuid.uuid4().hex,
                "invoice": number,
                "amount": owed.amount if owed.minor() > 0 else "",
                "card": str(cards[0].pk) if cards else "new",
                "save_card": True,
            },
        )
        return render(request, "portal/pay.html", context)
    form = PayForm(request.POST, cards=cards)
    if form.is_valid():
        data = form.cleaned_data
        if card_payments.attempt_seen(customer.pk, data["attempt"]):
            # Pay pressed again (or the page re-posted): show the first result.
            return redirect("portal:pay_result", attempt=data["attempt"])
        try:
            wanted = card_payments.payment_request_clean(
                customer_id=customer.pk,
                amount=data["amount"],
                invoice_number=number or None,
                add_credit=data["add_credit"],
                currency=customer.currency,
            )
            if data["card"] == "new":
                return _to_card_form(
                    request,
                    purpose="pay",
                    back="portal:pay_card_return",
                    payload={
                        "attempt": data["attempt"],
                        "amount": str(wanted.amount.amount),
                        "invoice": number,
                        "add_credit": data["add_credit"],
                        "save_card": data["save_card"],
                        "auto_debit": data["auto_debit"],
                    },
                )
            card = next(c for c in cards if str(c.pk) == data["card"])
            if not data["confirm"]:
                return render(
                    request,
                    "portal/pay_confirm.html",
                    {"data": data, "wanted": wanted, "card": card, "invoice": invoice},
                )
            card_payments.card_payment_make(
                actor=request.actor,
                customer_id=customer.pk,
                attempt=data["attempt"],
                request=wanted,
                card_id=card.pk,
                save_card=True,
                auto_debit=data["auto_debit"],
            )
            return redirect("portal:pay_result", attempt=data["attempt"])
        except BillingError as exc:
            form_error(form, exc)
    return render(request, "portal/pay.html", _pay_context(customer, form, invoice), status=400)


@customer_view
def pay_card_return(request):
    pending, token = _from_card_form(request, "pay")
    if pending is None:
        messages.error(request, "That card form has expired. Please start the payment again.")
        return redirect("portal:pay")
    customer = request.customer
    try:
        wanted = card_payments.payment_request_clean(
            customer_id=customer.pk,
            amount=pending["amount"],
            invoice_number=pending["invoice"] or None,
            add_credit=pending["add_credit"],
            currency=customer.currency,
        )
        card_payments.card_payment_make(
            actor=request.actor,
            customer_id=customer.pk,
            attempt=pending["attempt"],
            request=wanted,
            token=token,
            save_card=pending["save_card"],
            auto_debit=pending["auto_debit"] and pending["save_card"],
        )
    except BillingError as exc:
        return error_page(request, exc)
    return redirect("portal:pay_result", attempt=pending["attempt"])


@customer_view
def pay_result(request, attempt: str):
    key = card_payments.attempt_key(request.customer.pk, attempt)
    call = selectors.payment_attempt(request.customer, key)
    if call.status == CallStatus.SUCCEEDED:
        messages.success(
            request,
            "Thank you: your payment was received. A receipt is on its way to "
            f"{request.customer.email}.",
        )
        return redirect("portal:payment", payment_id=call.payment_id)
    retry = reverse("portal:pay")
    if call.invoice_id:
        retry += f"?invoice={call.invoice.number}"
    return render(
        request,
        "portal/pay_result.html",
        {
            "call": call,
            "in_flight": call.status in (CallStatus.PENDING, CallStatus.UNKNOWN),
            "retry": retry,
        },
    )


# Cards and auto debit --------------------------------------------------------


@customer_view
def cards(request):
    return render(
        request,
        "portal/cards.html",
        {"cards": selectors.cards(request.customer), "auto_debit": request.customer.auto_debit},
    )


@customer_view
@require_POST
def card_add(request):
    return _to_card_form(request, purpose="card", back="portal:card_return", payload={})


@customer_view
def card_return(request):
    pending, token = _from_card_form(request, "card")
    if pending is None:
        messages.error(request, "That card form has expired. Please add the card again.")
        return redirect("portal:cards")
    try:
        card = card_attach(
            actor=request.actor, customer_id=request.customer.pk, token=token, make_default=True
        )
    except BillingError as exc:
        messages.error(request, f"The card could not be added: {exc.message}")
    else:
        messages.success(request, f"{card} is saved and is now your default card.")
    return redirect("portal:cards")


@customer_view
@require_POST
def card_remove(request, card_id: int):
    card = selectors.card(request.customer, card_id)
    try:
        auto_debit_off = card_payments.customer_card_remove(
            actor=request.actor, customer_id=request.customer.pk, card_id=card.pk
        )
    except BillingError as exc:
        return error_page(request, exc)
    messages.success(request, f"{card} was removed.")
    if auto_debit_off:
        messages.info(
            request,
            "You have no card on file now, so auto debit is off: please pay your invoices "
            "online or by check.",
        )
    return redirect("portal:cards")


@customer_view
@require_POST
def card_default(request, card_id: int):
    card = selectors.card(request.customer, card_id)
    try:
        card_set_default(actor=request.actor, customer_id=request.customer.pk, card_id=card.pk)
    except BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{card} is now your default card.")
    return redirect("portal:cards")


@customer_view
@require_POST
def auto_debit(request):
    enabled = request.POST.get("enabled") == "1"
    try:
        card_payments.auto_debit_set(
            actor=request.actor, customer_id=request.customer.pk, enabled=enabled
        )
    except BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Auto debit is on: each invoice is charged to your default card on its due date."
            if enabled
            else "Auto debit is off: pay your invoices online or by check.",
        )
    return redirect("portal:cards")
