"""The staff's daily work on a customer, one form per action, each calling
one service (which checks the staff member's role). Shown as buttons on the
customer's back-office page; /admin/customers/customer/<id>/do/<action>/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from isocnet.catalog.models import Plan, TaxRate
from isocnet.collections.late_fees import late_fee_waive
from isocnet.collections.models import Dispute, LateFee
from isocnet.collections.plans import plan_active, plan_cancel, plan_create
from isocnet.collections.promises import (
    dispute_open,
    dispute_resolve,
    promise_active,
    promise_cancel,
    promise_create,
)
from isocnet.core.actors import Actor
from isocnet.core.errors import InvalidInput, NotFound
from isocnet.core.formatting import money
from isocnet.core.money import Money
from isocnet.core.validation import clean_money
from isocnet.customers.models import Customer
from isocnet.customers.portal_access import portal_invite
from isocnet.invoicing.charges import charge_create
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.models import OPEN_STATUSES, Invoice, InvoiceStatus
from isocnet.invoicing.proration import subscription_change
from isocnet.invoicing.services import invoice_void
from isocnet.notifications.services import message_resend
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.charges import charge_invoice
from isocnet.payments.models import Payment, PaymentStatus, Refund
from isocnet.payments.refunds import refund_create
from isocnet.payments.services import credit_adjust, credit_apply
from isocnet.subscriptions.models import Subscription, SubscriptionStatus
from isocnet.subscriptions.services import subscription_create


def _open_invoices(customer) -> list[tuple[str, str]]:
    return [
        (inv.number, f"#{inv.number} — balance {money(inv.balance)}, due {inv.due_date}")
        for inv in Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by(
            "due_date"
        )
    ]


def _issued_invoices(customer) -> list[tuple[str, str]]:
    return [
        (inv.number, f"#{inv.number} — {inv.get_status_display()}, total {money(inv.total)}")
        for inv in Invoice.objects.filter(customer=customer)
        .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .order_by("-issue_date", "-id")[:100]
    ]


class ChargeForm(forms.Form):
    description = forms.CharField(max_length=300, help_text="As it will read on the invoice")
    unit_price = forms.CharField(max_length=20, label="Price", help_text="e.g. 75.00")
    quantity = forms.IntegerField(min_value=1, max_value=10000, initial=1)
    tax_rates = forms.ModelMultipleChoiceField(queryset=TaxRate.objects.none(), required=False)
    invoice_now = forms.BooleanField(
        required=False, label="Invoice it now (otherwise it goes on the next invoice)"
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rates"].queryset = TaxRate.objects.filter(active=True)


class InvoicePickForm(forms.Form):
    invoice = forms.ChoiceField()

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = self.invoice_choices(customer)

    def invoice_choices(self, customer):
        return _open_invoices(customer)


class ChargeCardForm(InvoicePickForm):
    amount = forms.CharField(
        max_length=20, required=False, help_text="Leave empty to charge the whole balance"
    )


class CreditNoteForm(InvoicePickForm):
    amount = forms.CharField(max_length=20)
    reason = forms.CharField(max_length=300, help_text="Printed on the credit note")

    def invoice_choices(self, customer):
        return _issued_invoices(customer)


class VoidForm(InvoicePickForm):
    reason = forms.CharField(max_length=300)

    def invoice_choices(self, customer):
        return [
            (inv.number, f"#{inv.number} — {money(inv.total)}, due {inv.due_date}")
            for inv in Invoice.objects.filter(
                customer=customer, status=InvoiceStatus.UNPAID, amount_paid_minor=0
            )
        ]


class ResendForm(InvoicePickForm):
    def invoice_choices(self, customer):
        return _issued_invoices(customer)


class ApplyCreditForm(InvoicePickForm):
    pass


class CreditForm(forms.Form):
    amount = forms.CharField(
        max_length=20, help_text="Positive grants credit, negative takes it away (e.g. -10.00)"
    )
    memo = forms.CharField(max_length=300)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)


class RefundForm(forms.Form):
    payment = forms.ChoiceField()
    amount = forms.CharField(max_length=20)
    destination = forms.ChoiceField(choices=Refund.Destination.choices)
    reason = forms.CharField(max_length=300)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment"].choices = [
            (
                str(p.pk),
                f"{p.received_on} — {money(p.amount)} {p.get_method_display()} {p.reference}",
            )
            for p in Payment.objects.filter(customer=customer, status=PaymentStatus.SUCCEEDED)[:100]
        ]


class ServiceForm(forms.Form):
    service = forms.ChoiceField()
    operation = forms.ChoiceField(
        choices=[
            ("suspend", "Suspend"),
            ("resume", "Resume (unsuspend)"),
            ("cancel", "Cancel at the end of the period"),
            ("cancel_now", "Cancel now (credit the unused part)"),
            ("plan", "Change to the plan below (from the next period)"),
            ("quantity", "Change the quantity to the one below"),
        ]
    )
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), required=False)
    quantity = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [
            (str(s.pk), f"{s.plan.name} {s.description} ({s.get_status_display()})")
            for s in Subscription.objects.filter(customer=customer)
            .exclude(status=SubscriptionStatus.CANCELLED)
            .select_related("plan")
        ]
        self.fields["plan"].queryset = Plan.objects.filter(active=True)


class AddServiceForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none())
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    quantity = forms.IntegerField(min_value=1, initial=1)
    description = forms.CharField(
        max_length=200, required=False, help_text="Service address, domain, IP …"
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(active=True)


class NoFields(forms.Form):
    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)


# What each action does ---------------------------------------------------


def _invoice_id(customer: Customer, number: str) -> int:
    return Invoice.objects.get(customer=customer, number=number).pk


def _charge(actor, customer, d):

    _charge_row, invoice = charge_create(
        actor=actor,
        customer_id=customer.pk,
        description=d["description"],
        unit_price=d["unit_price"],
        quantity=d["quantity"],
        tax_rate_ids=[t.pk for t in d["tax_rates"]],
        invoice_now=d["invoice_now"],
    )
    return f"Invoice #{invoice.number} issued." if invoice else "Charge added to the next invoice."


def _charge_card(actor, customer, d):

    amount = clean_money(d["amount"], "amount", customer.currency) if d["amount"] else None
    call = charge_invoice(
        actor=actor, invoice_id=_invoice_id(customer, d["invoice"]), amount=amount
    )
    if call is None:
        return "Nothing charged: no balance, or no card on file."
    return f"Card charge {call.get_status_display().lower()}: {call.message or money(call.payment.amount)}"


def _credit_note(actor, customer, d):

    note = credit_note_create(
        actor=actor, invoice_number=d["invoice"], amount=d["amount"], reason=d["reason"]
    )
    return f"Credit note #{note.number} issued for {money(note.amount)}."


def _void(actor, customer, d):

    invoice = invoice_void(
        actor=actor, invoice_id=_invoice_id(customer, d["invoice"]), reason=d["reason"]
    )
    return f"Invoice #{invoice.number} is void."


def _resend(actor, customer, d):

    message = (
        OutboxMessage.objects.filter(
            invoice__number=d["invoice"], kind=MessageKind.INVOICE, resend_of__isnull=True
        )
        .order_by("id")
        .first()
    )
    if message is None:
        raise NotFound("this invoice was never emailed", field="invoice")
    message_resend(actor=actor, message_id=message.pk)
    return f"The invoice email for #{d['invoice']} will be sent again."


def _apply_credit(actor, customer, d):

    applied = credit_apply(actor=actor, invoice_id=_invoice_id(customer, d["invoice"]))
    return f"{money(applied)} of account credit applied to #{d['invoice']}."


def _credit(actor, customer, d):

    entry = credit_adjust(actor=actor, customer_id=customer.pk, amount=d["amount"], memo=d["memo"])
    return f"Account credit {'granted' if entry.amount_minor > 0 else 'removed'}: {money(entry.amount)}."


def _refund(actor, customer, d):

    refund = refund_create(
        actor=actor,
        payment_id=int(d["payment"]),
        amount=d["amount"],
        destination=d["destination"],
        reason=d["reason"],
    )
    return f"Refund of {money(refund.amount)}: {refund.get_status_display().lower()}."


def _service(actor, customer, d):

    op = d["operation"]
    changes = {
        "suspend": {"status": "suspended"},
        "resume": {"status": "active"},
        "cancel": {"status": "cancelled"},
        "cancel_now": {"status": "cancelled", "immediate": True},
    }.get(op)
    if op == "plan":
        if not d["plan"]:
            raise InvalidInput("choose the new plan", field="plan")
        changes = {"plan": d["plan"].pk}
    elif op == "quantity":
        if not d["quantity"]:
            raise InvalidInput("give the new quantity", field="quantity")
        changes = {"quantity": d["quantity"]}
    sub = subscription_change(actor=actor, subscription_id=int(d["service"]), changes=changes)
    return f"{sub.plan.name}: {sub.get_status_display().lower()}."


def _add_service(actor, customer, d):

    sub = subscription_create(
        actor=actor,
        customer_id=customer.pk,
        plan_id=d["plan"].pk,
        start_date=d["start_date"],
        quantity=d["quantity"],
        description=d["description"],
    )
    return f"{sub.plan.name} added, first bill on {sub.next_due_date}."


def _invite(actor, customer, d):

    login = portal_invite(actor=actor, customer_id=customer.pk)
    return f"Portal invitation queued for {login.user.username}."


class PromiseForm(forms.Form):
    amount = forms.CharField(max_length=20, help_text="What the customer promised, e.g. 94.95")
    promised_on = forms.DateField(label="Promised by", help_text="YYYY-MM-DD")
    note = forms.CharField(max_length=300, required=False, help_text="e.g. called on Monday")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=250)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)


class DisputeForm(InvoicePickForm):
    reason = forms.CharField(max_length=300, help_text="What the customer disputes")


class ResolveDisputeForm(forms.Form):
    dispute = forms.ChoiceField()
    resolution = forms.CharField(max_length=300)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dispute"].choices = [
            (d.pk, f"#{d.invoice.number}: {d.reason}")
            for d in Dispute.objects.filter(customer=customer, resolved_at__isnull=True)
        ]


class WaiveFeeForm(forms.Form):
    late_fee = forms.ChoiceField()
    reason = forms.CharField(max_length=250)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["late_fee"].choices = [
            (
                f.pk,
                f"{money(Money.from_minor(f.amount_minor, f.currency))} on #{f.invoice.number} "
                f"({f.charged_on})",
            )
            for f in LateFee.objects.filter(customer=customer, waived_at__isnull=True)
        ]


class PlanForm(forms.Form):
    installments = forms.IntegerField(min_value=2, max_value=24, initial=3)
    first_on = forms.DateField(label="First payment on", help_text="YYYY-MM-DD; then monthly")
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)


def _plan(actor, customer, d):
    plan = plan_create(
        actor=actor,
        customer_id=customer.pk,
        installments=d["installments"],
        first_on=d["first_on"],
        note=d["note"],
    )
    parts = ", ".join(
        f"{money(Money.from_minor(i.amount_minor, plan.currency))} on {i.due_on}"
        for i in plan.installments.all()
    )
    return f"Payment plan recorded: {parts}."


def _cancel_plan(actor, customer, d):
    plan = plan_active(customer.pk)
    if plan is None:
        raise InvalidInput("this account has no payment plan", field="reason")
    plan_cancel(actor=actor, plan_id=plan.pk, reason=d["reason"])
    return "Payment plan cancelled: the collections steps resume."


def _promise(actor, customer, d):
    promise = promise_create(
        actor=actor,
        customer_id=customer.pk,
        amount=d["amount"],
        promised_on=d["promised_on"],
        note=d["note"],
    )
    return (
        f"Promise to pay {money(Money.from_minor(promise.amount_minor, promise.currency))} by "
        f"{promise.promised_on} recorded; notices, fees and suspension wait until then."
    )


def _cancel_promise(actor, customer, d):
    promise = promise_active(customer.pk)
    if promise is None:
        raise InvalidInput("this account has no promise to pay", field="reason")
    promise_cancel(actor=actor, promise_id=promise.pk, reason=d["reason"])
    return "Promise cancelled: the collections steps resume."


def _dispute(actor, customer, d):
    dispute_open(actor=actor, invoice_number=d["invoice"], reason=d["reason"])
    return f"Invoice #{d['invoice']} is disputed: held until resolved."


def _resolve_dispute(actor, customer, d):
    dispute = dispute_resolve(actor=actor, dispute_id=int(d["dispute"]), resolution=d["resolution"])
    return f"Dispute of #{dispute.invoice.number} resolved."


def _waive_fee(actor, customer, d):
    fee = late_fee_waive(actor=actor, late_fee_id=int(d["late_fee"]), reason=d["reason"])
    return f"Late fee on #{fee.invoice.number} waived."


@dataclass(frozen=True)
class StaffAction:
    name: str
    label: str
    form: type[forms.Form]
    run: Callable[[Actor, Customer, dict], str]
    help: str = ""


ACTIONS = {
    a.name: a
    for a in (
        StaffAction("charge", "Add a one-time charge", ChargeForm, _charge),
        StaffAction("charge-card", "Charge the card on file", ChargeCardForm, _charge_card),
        StaffAction("resend", "Send an invoice email again", ResendForm, _resend),
        StaffAction("credit-note", "Issue a credit note", CreditNoteForm, _credit_note),
        StaffAction("void", "Void an unpaid invoice", VoidForm, _void),
        StaffAction("refund", "Refund a payment", RefundForm, _refund),
        StaffAction("credit", "Grant or remove account credit", CreditForm, _credit),
        StaffAction(
            "apply-credit", "Apply account credit to an invoice", ApplyCreditForm, _apply_credit
        ),
        StaffAction(
            "service", "Suspend, resume, cancel or change a service", ServiceForm, _service
        ),
        StaffAction("add-service", "Add a service", AddServiceForm, _add_service),
        StaffAction("invite", "Send a client portal invitation", NoFields, _invite),
        StaffAction("promise", "Record a promise to pay", PromiseForm, _promise),
        StaffAction("cancel-promise", "Cancel the promise to pay", ReasonForm, _cancel_promise),
        StaffAction("plan", "Set up a payment plan", PlanForm, _plan),
        StaffAction("cancel-plan", "Cancel the payment plan", ReasonForm, _cancel_plan),
        StaffAction("dispute", "Mark an invoice disputed", DisputeForm, _dispute),
        StaffAction("resolve-dispute", "Resolve a dispute", ResolveDisputeForm, _resolve_dispute),
        StaffAction("waive-fee", "Waive a late fee", WaiveFeeForm, _waive_fee),
    )
}
