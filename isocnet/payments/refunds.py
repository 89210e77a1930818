"""Refunds: money of a payment given back.

- ``card``: back to the card the payment was charged to, through the
  gateway (pending call with key ``refund:<id>`` committed first, settled
  after). The money comes out of the payment's account credit that is still
  unspent first, then out of the invoices it paid, newest first (they
  reopen: issue a credit note as well when the customer no longer owes them).
- ``credit``: the payment is moved from the invoices it paid (newest first)
  to account credit, which pays the next invoices.

Either way: payment amount = its net allocations + the credit it created or
moved + what went back to the card (tests/invariants.py).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.events import event_emit
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.validation import clean_choice, clean_line, clean_money
from isocnet.customers.services import customer_lock
from isocnet.invoicing.balances import invoice_settle
from isocnet.invoicing.models import Invoice
from isocnet.ledger.entries import allocation_add, credit_entry_add
from isocnet.ledger.models import CreditKind
from isocnet.ledger.sums import available_credit_minor
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue
from isocnet.payments.calls import gateway_call_new
from isocnet.payments.gateways import get_gateway
from isocnet.payments.gateways.base import GatewayError, GatewayTimeout
from isocnet.payments.models import CallStatus, GatewayCall, Payment, PaymentKind, Refund
from isocnet.payments.returns import _take_back_credit
from isocnet.payments.services import payment_lock
from isocnet.payments.settling import call_status_move


def _sum(qs, field="amount_minor") -> int:
    return qs.aggregate(s=Sum(field))["s"] or 0


def _net_allocated(payment: Payment) -> int:
    return _sum(payment.allocations.all())


def refund_create(
    *, actor: Actor, payment_id: int, amount, destination: str, reason: str
) -> Refund:
    require(actor, "refund")
    destination = clean_choice(destination, "destination", Refund.Destination)
    reason = clean_line(reason, "reason", max_length=300)
    with transaction.atomic():
        customer, payment = payment_lock(payment_id)
        if payment.status != "succeeded":
            raise Conflict("a returned payment cannot be refunded", field="payment")
        money = clean_money(amount, "amount", payment.currency, allow_zero=False)
        refunded = _sum(payment.refunds.exclude(status=Refund.Status.FAILED))
        limit = (
            payment.amount_minor - refunded if destination == "card" else _net_allocated(payment)
        )
        if money.minor() > limit:
            raise InvalidInput(
                f"at most {Money.from_minor(max(limit, 0), payment.currency).as_string()} of this payment can be "
                f"refunded {'to the card' if destination == 'card' else 'to account credit'}",
                field="amount",
            )
        call = None
        if destination == "card":
            charge = GatewayCall.objects.filter(
                payment=payment, status=CallStatus.SUCCEEDED
            ).first()
            if payment.method != PaymentKind.CARD or charge is None:
                raise Conflict("only card payments can be refunded to a card", field="destination")
            if GatewayCall.objects.filter(refund_of=payment, status=CallStatus.PENDING).exists():
                raise Conflict("a refund of this payment is already in progress", field="payment")
        refund = Refund.objects.create(
            payment=payment,
            customer=customer,
            amount_minor=money.minor(),
            currency=payment.currency,
            destination=destination,
            reason=reason,
            created_at=clock.now(),
            created_by=actor.label,
        )
        if destination == "credit":
            _account(refund, actor)
            return refund
        call = gateway_call_new(
            actor=actor,
            kind=GatewayCall.Kind.REFUND,
            key=f"refund:{refund.pk}",
            customer=customer,
            card=charge.card,
            money=money,
            charge_id=charge.charge_id,
            refund_of=payment,
            refund=refund,
        )
        call.save(force_insert=True)
    try:
        result = get_gateway().refund(
            charge_id=call.charge_id,
            amount_minor=call.amount_minor,
            idempotency_key=call.idempotency_key,
        )
        outcome = (result.status == "succeeded", result.refund_id, result.message)
    except GatewayTimeout:
        return refund  # stays pending; the gateway's answer to the same key settles it later
    except GatewayError as exc:
        outcome = (False, "", str(exc))
    return refund_settle(
        actor=actor,
        refund_id=refund.pk,
        succeeded=outcome[0],
        reference=outcome[1],
        message=outcome[2],
    )


def refund_settle(
    *, actor: Actor, refund_id: int, succeeded: bool, reference: str = "", message: str = ""
) -> Refund:
    with transaction.atomic():
        customer_id = Refund.objects.values_list("customer_id", flat=True).get(pk=refund_id)
        customer_lock(customer_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        call = GatewayCall.objects.select_for_update().get(refund=refund)
        call_status_move(call, CallStatus.SUCCEEDED if succeeded else CallStatus.FAILED)
        call.completed_at = clock.now()
        call.message = (reference or message)[:300]
        call.response = {"succeeded": succeeded, "refund_id": reference, "message": message}
        call.save(update_fields=["status", "completed_at", "message", "response"])
        if not succeeded:
            refund.status = Refund.Status.FAILED
            refund.message = message[:300]
            refund.completed_at = clock.now()
            refund.save(update_fields=["status", "message", "completed_at"])
            audit_record(
                actor=actor,
                action="refund.failed",
                obj=refund,
                customer_id=customer_id,
                after={"message": message},
            )
            return refund
        _account(refund, actor)
    return refund


def _account(refund: Refund, actor: Actor) -> None:
    """The bookkeeping of a refund that happened. Caller holds the lock.
    A refund to the card comes first out of the credit this payment left,
    then off its invoices (re-opening them), then out of credit it paid
    for elsewhere; a refund to credit moves the payment off its invoices
    into account credit."""
    payment = refund.payment
    customer = payment.customer
    now = clock.now()
    remaining = refund.amount_minor
    if refund.destination == "card":
        remaining -= _refund_from_own_credit(refund, actor, remaining, now)
    reopened, remaining = _refund_off_invoices(refund, remaining, now)
    if refund.destination == "credit":
        credit_entry_add(
            actor=actor,
            customer_id=customer.pk,
            amount_minor=refund.amount_minor,
            currency=refund.currency,
            kind=CreditKind.REFUND_TO_CREDIT,
            payment_id=payment.pk,
            refund_id=refund.pk,
            memo=f"Payment {payment.pk} moved to account credit (refund {refund.pk})",
            created_at=now,
        )
    elif remaining > 0:
        # the payment's credit was spent on other invoices: take it back from them
        _take_back_credit(
            actor=actor,
            customer=customer,
            amount_minor=remaining,
            payment=payment,
            kind=CreditKind.REFUND,
            refund=refund,
        )
    refund.status = Refund.Status.SUCCEEDED
    refund.completed_at = now
    refund.save(update_fields=["status", "completed_at"])
    event_emit(
        "payment.refunded",
        customer_id=customer.pk,
        data={
            "payment_id": payment.pk,
            "refund_id": refund.pk,
            "customer_id": customer.pk,
            "amount": refund.amount.as_string(),
            "currency": refund.currency,
            "destination": refund.destination,
            "reason": refund.reason,
        },
    )
    if refund.destination == "card":
        _refund_notice(refund)
    audit_record(
        actor=actor,
        action="refund.succeeded",
        obj=refund,
        customer_id=customer.pk,
        after={
            "payment": payment.pk,
            "amount": refund.amount.as_string(),
            "destination": refund.destination,
            "reopened": reopened,
        },
    )


def _refund_from_own_credit(refund: Refund, actor: Actor, remaining: int, now) -> int:
    """Take a card refund first out of the account credit this payment left
    (and that is still there); returns the minor units taken."""
    payment = refund.payment
    own_credit = _sum(
        payment.credit_entries.filter(
            kind__in=[CreditKind.OVERPAYMENT, CreditKind.REFUND_TO_CREDIT, CreditKind.REFUND]
        )
    )
    taken = min(remaining, max(own_credit, 0), available_credit_minor(payment.customer_id))
    if taken:
        credit_entry_add(
            actor=actor,
            customer_id=payment.customer_id,
            amount_minor=-taken,
            currency=refund.currency,
            kind=CreditKind.REFUND,
            payment_id=payment.pk,
            refund_id=refund.pk,
            memo=f"Refunded to the card (refund {refund.pk})",
            created_at=now,
        )
    return taken


def _refund_off_invoices(refund: Refund, remaining: int, now) -> tuple[list[str], int]:
    """Take the refund off the payment's invoices, newest first, re-opening
    them; returns the invoice numbers re-opened and what is left to take."""
    payment = refund.payment
    reopened = []
    per_invoice = (
        payment.allocations.values("invoice_id")
        .annotate(net=Sum("amount_minor"))
        .order_by("-invoice_id")
    )
    for row in per_invoice:
        if remaining <= 0:
            break
        take = min(remaining, row["net"])
        if take <= 0:
            continue
        invoice = Invoice.objects.select_for_update().get(pk=row["invoice_id"])
        allocation_add(
            payment=payment, invoice=invoice, amount_minor=-take, refund=refund, created_at=now
        )
        invoice_settle(invoice)
        reopened.append(invoice.number)
        remaining -= take
    return reopened, remaining


def _refund_notice(refund: Refund) -> None:
    """The customer's "refund sent to your card" email, about the payment's
    latest invoice (none when the payment only ever paid account credit)."""
    payment = refund.payment
    invoice = Invoice.objects.filter(allocations__payment=payment).order_by("-id").first()
    if invoice is not None:
        notice_queue(
            kind=MessageKind.REFUND,
            key=f"refund:{refund.pk}",
            customer_id=payment.customer_id,
            invoice_id=invoice.pk,
            context={"refund": refund.pk},
            known_new=True,
        )
