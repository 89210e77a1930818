"""Returned payments: a check, money order or transfer that came back
unpaid is voided, the invoices it paid reopen, and the credit it created is
taken back (from the invoices that used it, if need be)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.states import transition
from isocnet.core.validation import clean_line
from isocnet.customers.models import Customer
from isocnet.invoicing.balances import invoice_settle
from isocnet.invoicing.models import Charge, Invoice
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditEntry, CreditKind
from isocnet.ledger.sums import available_credit_minor
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue
from isocnet.payments.models import PAYMENT_TRANSITIONS, Payment, PaymentKind, PaymentStatus
from isocnet.payments.services import payment_lock

RETURNABLE = (PaymentKind.CHECK, PaymentKind.MONEY_ORDER, PaymentKind.BANK_TRANSFER)


def payment_return(
    *, actor: Actor, payment_id: int, reason: str = "Returned by the bank"
) -> Payment:
    """A check (or money order, or transfer) came back unpaid: the payment is
    voided, the invoices it paid are open again, the credit it created is
    taken back (from the invoices that used it, if need be), the customer is
    told, and RETURNED_PAYMENT_FEE (if set) is charged on the next invoice."""
    require(actor, "payment.return")
    reason = clean_line(reason, "reason", max_length=300)
    with transaction.atomic():
        customer, payment = payment_lock(payment_id)
        _void(payment, reason)
        invoice_ids = sorted(set(payment.allocations.values_list("invoice_id", flat=True)))
        invoices = list(
            Invoice.objects.select_for_update().filter(pk__in=invoice_ids).order_by("id")
        )
        for invoice in invoices:
            invoice_settle(invoice)
        # all the account credit this payment still stands behind: what it
        # overpaid, and what a refund to credit moved there, less what went
        # back to the card
        overpaid = (
            payment.credit_entries.filter(
                kind__in=[CreditKind.OVERPAYMENT, CreditKind.REFUND_TO_CREDIT, CreditKind.REFUND]
            ).aggregate(s=Sum("amount_minor"))["s"]
            or 0
        )
        shortfall = 0
        if overpaid > 0:
            shortfall = _take_back_credit(
                actor=actor, customer=customer, amount_minor=overpaid, payment=payment
            )
        fee = _returned_payment_fee(actor, customer, payment)
        _return_notice(customer, payment, invoices, fee)
        audit_record(
            actor=actor,
            action="payment.return",
            obj=payment,
            customer_id=customer.pk,
            before={"status": "succeeded"},
            after={
                "status": "voided",
                "reason": reason,
                "reopened": [i.number for i in invoices],
                "credit_taken_back": str(overpaid - shortfall),
                "credit_already_used_charged": str(shortfall),
                "fee": fee.as_string(),
            },
        )
    return payment


def _void(payment: Payment, reason: str) -> None:
    if payment.status != PaymentStatus.SUCCEEDED:
        raise Conflict("this payment was already returned", field="payment")
    if payment.method not in RETURNABLE:
        raise Conflict(
            "only checks, money orders and bank transfers can be returned; refund a card payment",
            field="payment",
        )
    payment.status = transition(
        payment.status, PaymentStatus.VOIDED, PAYMENT_TRANSITIONS, what="a payment"
    )
    payment.voided_at = clock.now()
    payment.void_reason = reason
    payment.save(update_fields=["status", "voided_at", "void_reason"])


def _returned_payment_fee(actor: Actor, customer: Customer, payment: Payment) -> Money:
    """RETURNED_PAYMENT_FEE as a charge waiting for the next invoice (zero:
    none)."""
    fee = Money.parse(settings.RETURNED_PAYMENT_FEE, customer.currency)
    if fee:
        Charge.objects.create(
            customer=customer,
            kind="charge",
            description=f"Returned payment fee ({payment.reference or payment.get_method_display()})",
            quantity=1,
            unit_price_minor=fee.minor(),
            amount_minor=fee.minor(),
            currency=customer.currency,
            created_at=clock.now(),
            created_by=actor.label,
        )
    return fee


def _return_notice(customer: Customer, payment: Payment, invoices: list, fee: Money) -> None:
    """The "your payment was returned" email, about the first invoice it
    paid (or the latest invoice, for a payment that only bought credit)."""
    notice_invoice = (
        invoices[0]
        if invoices
        else Invoice.objects.filter(customer=customer)
        .exclude(status="draft")
        .order_by("-id")
        .first()
    )
    if notice_invoice is not None:
        notice_queue(
            kind=MessageKind.PAYMENT_RETURNED,
            key=f"payment_returned:{payment.pk}",
            customer_id=customer.pk,
            invoice_id=notice_invoice.pk,
            context={"payment": payment.pk, "fee": fee.as_string() if fee else ""},
        )


def _take_back_credit(
    *,
    actor: Actor,
    customer: Customer,
    amount_minor: int,
    payment: Payment,
    kind: str = CreditKind.REVERSAL,
    refund=None,
) -> int:
    """Remove ``amount_minor`` of account credit; where it has been spent on
    invoices, un-apply it from the newest first (they reopen). Returns what
    could not be taken back and became a charge (0 mostly)."""
    short = amount_minor - available_credit_minor(customer.pk)
    if short > 0:
        for entry in CreditEntry.objects.filter(
            customer=customer, kind=CreditKind.APPLIED
        ).order_by("-id"):
            if short <= 0:
                break
            invoice = Invoice.objects.select_for_update().get(pk=entry.invoice_id)
            still_applied = invoice.credit_applied_minor
            take = min(short, still_applied)
            if take <= 0:
                continue
            credit_entry_add(
                actor=actor,
                customer_id=customer.pk,
                amount_minor=take,
                currency=customer.currency,
                kind=CreditKind.UNAPPLIED,
                invoice_id=invoice.pk,
                payment_id=payment.pk,
                memo=f"Credit from returned payment {payment.pk} taken back",
            )
            invoice_settle(invoice)
            short -= take
    if short > 0:
        # Some of that credit was removed by hand, so there is nothing left
        # to take it back from: the customer owes it, on the next invoice.
        # (Account credit never goes below zero.)

        Charge.objects.create(
            customer=customer,
            kind="charge",
            description=shortfall_description(payment),
            quantity=1,
            unit_price_minor=short,
            amount_minor=short,
            currency=customer.currency,
            created_at=clock.now(),
            created_by=actor.label,
        )
        amount_minor -= short
    shortfall = max(short, 0)
    if amount_minor <= 0:
        return shortfall
    credit_entry_add(
        actor=actor,
        customer_id=customer.pk,
        amount_minor=-amount_minor,
        currency=customer.currency,
        kind=kind,
        refund_id=refund.pk if refund else None,
        payment_id=payment.pk,
        memo=f"Returned payment {payment.pk}",
    )
    return shortfall


def shortfall_description(payment: Payment) -> str:
    return f"Payment {payment.pk} returned or refunded: account credit already used"


def shortfall_minor(payment: Payment) -> int:
    """What of a returned or refunded payment became a charge because its
    credit had been removed meanwhile (see _take_back_credit)."""

    return (
        Charge.objects.filter(
            customer_id=payment.customer_id, description=shortfall_description(payment)
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
