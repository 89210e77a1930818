"""Money received and account credit.

Every service here locks the customer row first (the per-account lock),
then the invoices it touches in id order, so concurrent payments on one
account serialise and never over-apply. Invariants kept:

- Σ allocations of a payment + the credit it created = the payment amount;
- an invoice's balance = total - allocations - credit applied, never < 0;
- available credit = Σ credit ledger, never < 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from isocnet.collections.received import holds_of, payment_received
from isocnet.collections.suspension import resume_if_paid_up, resume_many_if_paid_up
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_event, audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.events import events_emit
from isocnet.core.limits import check_amount
from isocnet.core.models import AuditEvent
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.validation import clean_choice, clean_line, clean_money, clean_payment_date
from isocnet.customers.models import Customer
from isocnet.customers.services import customer_lock
from isocnet.invoicing.balances import invoice_settle, invoices_settle
from isocnet.invoicing.credit import credit_apply_locked
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.invoicing.services import invoice_lock
from isocnet.ledger.entries import allocation_add, allocations_add, credit_entry_add
from isocnet.ledger.models import Allocation, CreditEntry, CreditKind
from isocnet.payments.models import Payment, PaymentKind
from isocnet.payments.receipts import receipt_for_credit, receipts_issue


@dataclass
class PaymentResult:
    payment: Payment
    allocations: list[Allocation] = field(default_factory=list)
    credit: Money | None = None  # credit created from the remainder

    @property
    def applied(self) -> Money:
        total = Money.zero(self.payment.currency)
        for allocation in self.allocations:
            total = total + allocation.amount
        return total


def payment_record(
    *,
    actor: Actor,
    customer_id: int | None = None,
    amount,
    method: str,
    reference: str = "",
    received_on=None,
    invoice_number: str | None = None,
) -> PaymentResult:
    """Record money received (check, money order, transfer, cash). With
    ``invoice_number`` it is applied to that invoice; otherwise to the
    customer's open invoices, oldest due first. Whatever is left becomes
    account credit. Card payments go through payments.collection."""
    require(actor, "payment.record")
    method = clean_choice(method, "method", PaymentKind)
    reference = clean_line(reference, "reference", max_length=120, required=False)
    with transaction.atomic():
        customer_id, invoice_id = resolve_target(
            customer_id=customer_id, invoice_number=invoice_number
        )
        customer = customer_lock(customer_id)
        received = (
            clean_payment_date(received_on, "date", not_before=clock.localdate(customer.created_at))
            if received_on is not None
            else clock.today()
        )
        money = clean_money(amount, "amount", customer.currency, allow_zero=False)
        return apply_payment_locked(
            actor=actor,
            customer=customer,
            money=money,
            method=method,
            reference=reference,
            received=received,
            invoice_id=invoice_id,
        )


def resolve_target(
    *, customer_id: int | None, invoice_number: str | None
) -> tuple[int, int | None]:
    if invoice_number is not None:
        target = (
            Invoice.objects.filter(number=invoice_number).values_list("pk", "customer_id").first()
        )
        if target is None:
            raise NotFound(f"no issued invoice numbered {invoice_number!r}", field="invoice")
        if customer_id is not None and customer_id != target[1]:
            raise InvalidInput("the invoice belongs to another customer", field="invoice")
        return target[1], target[0]
    if customer_id is None:
        raise InvalidInput("is required (or give an invoice)", field="customer")
    return customer_id, None


def apply_payment_locked(
    *,
    actor: Actor,
    customer: Customer,
    money: Money,
    method: str,
    reference: str,
    received,
    invoice_id: int | None,
    card=None,
    allow_closed_invoice: bool = False,
    first_invoice_id: int | None = None,
) -> PaymentResult:
    """Create the payment and apply it. The caller holds the customer lock.
    Queues one receipt per invoice the payment is applied to. It pays the
    invoice it names (``invoice_id``, or ``first_invoice_id``: the invoice a
    remittance slip names) first, if open, then the account's other open
    invoices, oldest due first; only what is left after them becomes account
    credit — money never waits as credit beside a due invoice."""
    if invoice_id is not None:
        named = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if named.status not in OPEN_STATUSES and not allow_closed_invoice:
            raise Conflict(
                f"invoice #{named.number} is {named.get_status_display().lower()}; "
                "record the payment on the account instead",
                field="invoice",
            )
        first_invoice_id = invoice_id
    invoices = list(
        Invoice.objects.select_for_update()
        .filter(customer=customer, status__in=OPEN_STATUSES)
        .order_by("due_date", "issue_date", "id")
    )
    invoices.sort(key=lambda invoice: invoice.pk != first_invoice_id)  # stable
    payment = Payment.objects.create(
        customer=customer,
        amount_minor=money.minor(),
        currency=customer.currency,
        method=method,
        reference=reference,
        received_on=received,
        recorded_by=actor.label,
        created_at=clock.now(),
        card=card,
    )
    result = PaymentResult(payment=payment)
    remaining = payment.amount_minor
    for invoice in invoices:
        if remaining == 0:
            break
        take = min(remaining, invoice.balance_minor)
        if take <= 0:
            continue
        allocation = allocation_add(
            payment=payment, invoice=invoice, amount_minor=take, created_at=payment.created_at
        )
        invoice_settle(invoice)
        result.allocations.append(allocation)
        remaining -= take
    receipts_issue(result.allocations)
    if remaining:
        credit_entry_add(
            actor=actor,
            customer_id=customer.pk,
            amount_minor=remaining,
            currency=customer.currency,
            kind=CreditKind.OVERPAYMENT,
            payment_id=payment.pk,
            memo=f"Unapplied part of payment {payment.pk}",
            created_at=payment.created_at,
        )
        result.credit = Money.from_minor(remaining, customer.currency)
        if not result.allocations:  # it paid no invoice: its receipt says where it went
            receipt_for_credit(payment, remaining)
    payment_received(
        actor=actor,
        customer_id=customer.pk,
        amount_minor=payment.amount_minor,
        applied=[(a.invoice_id, a.amount_minor) for a in result.allocations],
    )
    _resume_if_paid_up(actor=actor, customer_id=customer.pk)
    payments_event("payment.succeeded", [result])
    audit_record(
        actor=actor,
        action="payment.record",
        obj=payment,
        customer_id=customer.pk,
        after=_payment_audit(result),
    )
    return result


def payment_data(payment: Payment, allocations=()) -> dict:
    """What a payment event says to other systems (webhooks)."""
    return {
        "id": payment.pk,
        "customer_id": payment.customer_id,
        "amount": payment.amount.as_string(),
        "currency": payment.currency,
        "method": payment.method,
        "reference": payment.reference,
        "received_on": payment.received_on.isoformat(),
        "invoices": {a.invoice.number: a.amount.as_string() for a in allocations},
    }


def payments_event(type: str, results: list[PaymentResult]) -> None:
    if results:
        events_emit(
            type,
            lambda: [
                (r.payment.customer_id, payment_data(r.payment, r.allocations)) for r in results
            ],
        )


def _payment_audit(result: PaymentResult) -> dict:
    payment = result.payment
    return {
        "amount": payment.amount.as_string(),
        "method": payment.method,
        "reference": payment.reference,
        "received_on": payment.received_on.isoformat(),
        "allocations": {a.invoice.number: a.amount.as_string() for a in result.allocations},
        "credit": result.credit.as_string() if result.credit else "0",
    }


@dataclass
class PlainPayment:
    """Money received to be applied wholly to one invoice (a check with its
    slip, a card charge for an invoice): the bulk path's unit."""

    customer: Customer
    invoice_id: int
    money: Money
    method: str
    reference: str
    received: object  # date
    card: object = None  # PaymentMethod, for card payments


@dataclass
class CardCharge:
    """Money a card charge took, to be recorded against one invoice."""

    customer: Customer
    invoice_id: int
    money: Money
    card: object  # PaymentMethod: its str() is the payment's reference

    method = PaymentKind.CARD

    @property
    def reference(self) -> str:
        return str(self.card)

    @property
    def received(self):
        return clock.today()


def card_payments_apply_locked(*, actor: Actor, charges: list[CardCharge]) -> list[PaymentResult]:
    """Record and apply many card charges, each to its invoice, as
    ``apply_payment_locked(..., invoice_id=…, card=…, allow_closed_invoice=True)``
    does one: the same rows, receipts and audit. The plain case (an open
    invoice charged for no more than its balance, once here) takes a dozen
    statements for the lot; any other goes through ``apply_payment_locked``.
    The caller holds the customers' locks. Results are in ``charges`` order."""
    done = plain_payments_apply_locked(actor=actor, payments=charges)
    return [
        done.get(id(charge))
        or apply_payment_locked(
            actor=actor,
            customer=charge.customer,
            money=charge.money,
            method=PaymentKind.CARD,
            reference=str(charge.card),
            received=clock.today(),
            invoice_id=charge.invoice_id,
            card=charge.card,
            allow_closed_invoice=True,
        )
        for charge in charges
    ]


def plain_payments_apply_locked(*, actor: Actor, payments: list) -> dict[int, PaymentResult]:
    """The bulk path: of ``payments`` (PlainPayment or CardCharge), those
    that are plain — an open invoice paid no more than its balance, each
    invoice once here — are recorded and applied together (payments,
    allocations, settled invoices, receipts, resumed services and audit
    rows, a statement or two each), exactly as ``apply_payment_locked``
    would one by one. Returns their results keyed by id() of the payment;
    the others are left to the caller. The caller holds the customers'
    locks; the invoices are locked here, in id order."""
    if not payments:
        return {}
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .filter(pk__in=[p.invoice_id for p in payments])
        .order_by("pk")
    }
    times = Counter(p.invoice_id for p in payments)

    def plain(p) -> bool:
        invoice = invoices.get(p.invoice_id)
        return (
            invoice is not None
            and invoice.customer_id == p.customer.pk
            and times[p.invoice_id] == 1
            and invoice.status in OPEN_STATUSES
            and 0 < p.money.minor() <= invoice.balance_minor
        )

    return _plain_payments(actor, [p for p in payments if plain(p)], invoices)


def _plain_payments(
    actor: Actor, bulk: list, invoices: dict[int, Invoice]
) -> dict[int, PaymentResult]:
    if not bulk:
        return {}
    now = clock.now()
    payments = Payment.objects.bulk_create(
        [
            Payment(
                customer=p.customer,
                amount_minor=p.money.minor(),
                currency=p.customer.currency,
                method=p.method,
                reference=p.reference,
                received_on=p.received,
                recorded_by=actor.label,
                created_at=now,
                card=p.card,
            )
            for p in bulk
        ]
    )
    allocations = allocations_add(
        [
            Allocation(
                payment=payment,
                invoice=invoices[p.invoice_id],
                amount_minor=payment.amount_minor,
                created_at=now,
            )
            for p, payment in zip(bulk, payments, strict=True)
        ]
    )
    invoices_settle([invoices[p.invoice_id] for p in bulk])
    receipts_issue(allocations)
    holding = holds_of({p.customer.pk for p in bulk})
    for p in bulk:
        if p.customer.pk in holding:
            payment_received(
                actor=actor,
                customer_id=p.customer.pk,
                amount_minor=p.money.minor(),
                applied=[(p.invoice_id, p.money.minor())],
            )
    resume_many_if_paid_up(
        actor=actor, customer_ids={p.customer.pk for p in bulk}, date=clock.today()
    )
    done = {
        id(p): PaymentResult(payment=payment, allocations=[allocation])
        for p, payment, allocation in zip(bulk, payments, allocations, strict=True)
    }
    payments_event("payment.succeeded", list(done.values()))
    AuditEvent.objects.bulk_create(
        [
            audit_event(
                actor=actor,
                action="payment.record",
                obj=result.payment,
                customer_id=result.payment.customer_id,
                after=_payment_audit(result),
            )
            for result in done.values()
        ]
    )
    return done


def credit_apply(*, actor: Actor, invoice_id: int) -> Money:
    """Staff's "apply account credit to an invoice": what an overdue invoice
    then no longer owes may bring suspended services back."""
    require(actor, "credit.adjust")
    with transaction.atomic():
        invoice = invoice_lock(invoice_id)
        applied = credit_apply_locked(actor=actor, invoice=invoice)
        _resume_if_paid_up(actor=actor, customer_id=invoice.customer_id)
    return applied


def credit_adjust(*, actor: Actor, customer_id: int, amount, memo: str) -> CreditEntry:
    """Grant (positive) or withdraw (negative) account credit by hand."""
    require(actor, "credit.adjust")
    memo = clean_line(memo, "memo", max_length=300)
    with transaction.atomic():
        customer: Customer = customer_lock(customer_id)
        try:
            money = (
                Money.parse(amount, customer.currency, allow_negative=True)
                if isinstance(amount, str)
                else amount
            )
        except ValueError as exc:
            raise InvalidInput(str(exc), field="amount") from None
        if not money:
            raise InvalidInput("must not be zero", field="amount")
        check_amount(money, "amount")
        entry = credit_entry_add(  # refuses to take more credit than there is
            actor=actor,
            customer_id=customer.pk,
            amount_minor=money.minor(),
            currency=customer.currency,
            kind=CreditKind.ADJUSTMENT,
            memo=memo,
        )
        audit_record(
            actor=actor,
            action="credit.adjust",
            obj=entry,
            customer_id=customer.pk,
            after={"amount": money.as_string(), "memo": memo},
        )
    return entry


def _resume_if_paid_up(*, actor: Actor, customer_id: int) -> None:
    """Services suspended for non-payment come back as soon as the account
    has nothing left past its suspension date."""

    resume_if_paid_up(actor=actor, customer_id=customer_id, date=clock.today())


def payment_lock(payment_id) -> tuple[Customer, Payment]:
    """Lock the payment's customer, then the payment (always in that order).
    Call inside a transaction."""
    customer_id = (
        Payment.objects.filter(pk=payment_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        raise NotFound(f"no payment with id {payment_id}", field="payment")
    customer = customer_lock(customer_id)
    return customer, Payment.objects.select_for_update().get(pk=payment_id)
