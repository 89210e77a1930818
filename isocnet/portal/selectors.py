"""What the portal shows: reads only, always scoped to one customer. Every
look-up by id or number filters on the customer, so another account's
records answer "not found" (tests/portal/test_access.py sweeps them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404

from isocnet.collections.policy import current
from isocnet.collections.promises import promise_active
from isocnet.collections.suspension import owes_minor
from isocnet.core import clock, formatting
from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.documents.invoices import company, invoice_document_data
from isocnet.invoicing.models import OPEN_STATUSES, CreditNote, Invoice, InvoiceStatus
from isocnet.ledger.models import CreditEntry, CreditKind
from isocnet.operations.timeline import customer_timeline, next_step
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import (
    GatewayCall,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Receipt,
    Refund,
)
from isocnet.payments.returns import shortfall_minor
from isocnet.payments.selectors import account_summary, auto_debit_states
from isocnet.subscriptions.models import Subscription

VISIBLE = ~Q(status__in=[InvoiceStatus.DRAFT])
STATUS_FILTERS = {
    "unpaid": Q(status__in=OPEN_STATUSES),
    "paid": Q(status=InvoiceStatus.PAID),
    "all": Q(),
}


def dashboard(customer: Customer) -> dict:
    open_invoices = list(
        Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by(
            "due_date", "id"
        )
    )
    services = list(
        Subscription.objects.filter(customer=customer)
        .exclude(status="cancelled")
        .select_related("plan")
        .order_by("id")
    )
    promise = promise_active(customer.pk)
    overdue = [inv for inv in open_invoices if inv.due_date < clock.today()]
    return {
        "summary": account_summary(customer, open_invoices=open_invoices),
        "next_step": next_step_of(customer, open_invoices) if overdue and not promise else "",
        "promise": promise,
        "may_promise": bool(overdue) and promise is None,
        "open_invoices": open_invoices,
        "next_due": open_invoices[0] if open_invoices else None,
        "services": services,
        "card": PaymentMethod.objects.default_of(customer.pk),
        "card_refused": card_refused(customer) if customer.auto_debit else None,
        "recent_payments": list(
            Payment.objects.filter(customer=customer).order_by("-received_on", "-id")[:5]
        ),
    }


def next_step_of(customer: Customer, open_invoices: list[Invoice]) -> str:
    """What will happen next to an overdue account, in one sentence ("Your
    service will be suspended on December 19 unless $94.95 is paid"), from
    its timeline (operations.timeline: the daily run's own code run ahead,
    a few hundred queries). Kept for the day while nothing on the account
    changes, so an overdue customer's dashboard costs that once a day."""
    last_message = (
        OutboxMessage.objects.filter(customer=customer)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    # (asked only while no promise stands: the dashboard shows the promise instead)
    fingerprint = (tuple((inv.pk, inv.balance_minor) for inv in open_invoices), last_message)
    key = f"portal-next-step:{customer.pk}:{clock.today().isoformat()}:{hash(fingerprint)}"
    found = cache.get(key)
    if found is None:
        found = next_step(customer_timeline(customer.pk))
        cache.set(key, found, timeout=24 * 3600)
    return found


def promise_form_facts(customer: Customer) -> dict:
    """What the portal's promise form offers: up to the policy's days, for
    what the account owes."""
    return {
        "max_date": clock.today() + dt.timedelta(days=current().promise_max_days),
        "owed": Money.from_minor(max(owes_minor(customer.pk), 0), customer.currency),
    }


def invoices(customer: Customer, *, status: str, search: str):
    qs = Invoice.objects.filter(VISIBLE, customer=customer).filter(STATUS_FILTERS.get(status, Q()))
    if search:
        qs = qs.filter(
            Q(number__icontains=search) | Q(lines__description__icontains=search)
        ).distinct()
    return qs.order_by("-issue_date", "-id")


def invoice(customer: Customer, number: str) -> Invoice:
    found = (
        Invoice.objects.filter(VISIBLE, customer=customer, number=number)
        .prefetch_related("lines", "tax_lines")
        .first()
    )
    if found is None:
        raise Http404("no such invoice")
    return found


def invoice_payments(invoice: Invoice) -> list[Receipt]:
    """The receipts of the payments applied to this invoice (each with its
    payment and the amount applied), oldest first; returned payments left out."""
    return list(
        Receipt.objects.filter(invoice=invoice, payment__status=PaymentStatus.SUCCEEDED)
        .select_related("payment", "payment__card", "payment__gateway_call")
        .order_by("payment__received_on", "payment_id")
    )


def invoice_page(invoice: Invoice) -> dict:
    """What the portal's invoice page shows: the invoice as issued (its
    lines and totals, as on the PDF), then where it stands now: what was
    applied since, the balance due today, and how it was (or will be) paid."""
    doc = invoice_document_data(invoice)
    fmt = formatting.money
    receipts = invoice_payments(invoice)
    applied = []
    if invoice.credit_applied_minor:
        applied.append(("Account credit applied", fmt(-invoice.credit_applied)))
    if invoice.amount_paid_minor:
        applied.append(("Payments received", fmt(-invoice.amount_paid)))
    if invoice.credited_minor:
        applied.append(("Credit notes", fmt(-invoice.credited)))
    customer = invoice.customer
    card = PaymentMethod.objects.default_of(customer.pk) if customer.auto_debit else None
    autopay = auto_debit_states([invoice.pk]).get(invoice.pk)
    due = formatting.date(invoice.due_date)
    balance = fmt(invoice.balance)
    if invoice.status == InvoiceStatus.VOID:
        title, how = "Voided", ["This invoice was voided: nothing is owed on it."]
    elif invoice.status in OPEN_STATUSES and invoice.balance_minor:
        title = "How to pay"
        if autopay and autopay.state == "in_flight":
            how = [
                f"Your payment of {fmt(autopay.amount)} is being taken from your {autopay.card}."
            ]
        elif customer.auto_debit and card:
            how = [
                f"The balance of {balance} will be charged automatically to your {card} on {due}."
            ]
            if autopay and autopay.state == "declined":
                how = [
                    f"We could not charge your {autopay.card} on {formatting.date(autopay.on)}: "
                    "please pay now, or update your card, to avoid an interruption."
                ]
        else:
            how = [
                f"Pay {balance} online with the Pay now button, or by check or money order payable "
                f"to {settings.COMPANY_CHECKS_PAYABLE_TO}.",
                f"Please write invoice number {invoice.number} on your check and mail it to "
                f"{', '.join([settings.COMPANY_NAME, *company()['address']])}.",
            ]
    else:
        title = "How it was paid"
        how = [
            f"{formatting.date(r.payment.received_on)}: {fmt(r.amount)} by "
            f"{_paid_by(r.payment)} (receipt #{r.number})."
            for r in receipts
        ]
        if invoice.credit_applied_minor:
            how.append(f"{fmt(invoice.credit_applied)} from your account credit.")
        if invoice.credited_minor:
            how.append(f"{fmt(invoice.credited)} by credit note.")
        if invoice.status == InvoiceStatus.PAID:
            how.insert(0, "Paid in full. Thank you!")
    return {
        "doc": doc,
        "applied": applied,
        "balance": balance,
        "how_title": title,
        "how": how,
        "receipts": receipts,
    }


def _paid_by(payment: Payment) -> str:
    if payment.method == "card":
        call = getattr(payment, "gateway_call", None)
        auto = ", taken automatically" if call and not call.customer_initiated else ""
        return f"credit card ({payment.reference or 'card'}{auto})"
    ref = f" {payment.reference}" if payment.reference else ""
    return f"{payment.get_method_display().lower()}{ref}"


def payments(customer: Customer):
    """The account's payments, newest first, with their receipts (one per
    invoice paid, or one for a payment kept as credit)."""
    return (
        Payment.objects.filter(customer=customer)
        .prefetch_related("receipts__invoice")
        .order_by("-received_on", "-id")
    )


def payment(customer: Customer, payment_id: int) -> Payment:
    found = (
        Payment.objects.filter(customer=customer, pk=payment_id)
        .prefetch_related("allocations__invoice", "credit_entries")
        .first()
    )
    if found is None:
        raise Http404("no such payment")
    return found


def payment_attempt(customer: Customer, key: str) -> GatewayCall:
    found = (
        GatewayCall.objects.filter(customer=customer, idempotency_key=key)
        .select_related("card", "payment", "invoice")
        .first()
    )
    if found is None:
        raise Http404("no such payment attempt")
    return found


def card(customer: Customer, card_id: int) -> PaymentMethod:
    found = PaymentMethod.objects.filter(
        customer=customer, pk=card_id, removed_at__isnull=True
    ).first()
    if found is None:
        raise Http404("no such card")
    return found


def cards(customer: Customer) -> list[PaymentMethod]:
    """The cards a customer may pay with (not removed, not refused for good)."""
    return list(
        PaymentMethod.objects.filter(
            customer=customer, removed_at__isnull=True, refused_at__isnull=True
        ).order_by("-is_default", "id")
    )


def card_refused(customer: Customer) -> PaymentMethod | None:
    """The default card the gateway refused for good, while no usable card
    has taken its place: auto debit waits for a new one."""
    if PaymentMethod.objects.default_of(customer.pk) is not None:
        return None
    return (
        PaymentMethod.objects.filter(
            customer=customer, removed_at__isnull=True, refused_at__isnull=False
        )
        .order_by("-refused_at")
        .first()
    )


# Statements of account ------------------------------------------------------


@dataclass
class StatementLine:
    date: dt.date
    description: str
    charges: Money | None
    payments: Money | None
    balance: Money | None = None
    posted: dt.datetime | None = None  # when it was recorded: same-day entries in that order


@dataclass
class Statement:
    customer: Customer
    start: dt.date
    end: dt.date
    opening: Money
    closing: Money
    lines: list[StatementLine] = field(default_factory=list)
    charges: Money | None = None
    payments: Money | None = None


def _ledger(customer: Customer, until: dt.date) -> list[StatementLine]:
    """Every movement of what the customer owes, up to ``until``: invoices
    (+), payments, credit notes and credit granted (-), returned payments
    and refunds to the card (+). Moves between invoices and account credit
    change nothing owed and are not listed."""
    cur = customer.currency
    out = [
        *_invoice_lines(customer, until),
        *_payment_lines(customer, until),
        *_credit_note_lines(customer, until),
        *_refund_lines(customer, until),
        *_credit_lines(customer, until),
    ]
    for line in out:
        for attr in ("charges", "payments"):
            value = getattr(line, attr)
            if value is not None and value.currency != cur:
                raise ValueError("mixed currencies on one account")
    # in the order they happened: by day, and within a day in the order posted
    out.sort(key=lambda ln: (ln.date, ln.posted or dt.datetime.min.replace(tzinfo=dt.UTC)))
    return out


def _invoice_lines(customer: Customer, until: dt.date):
    for inv in Invoice.objects.filter(customer=customer, issue_date__lte=until).exclude(
        status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID]
    ):
        yield StatementLine(
            inv.issue_date, f"Invoice #{inv.number}", inv.total, None, posted=inv.issued_at
        )


def _payment_lines(customer: Customer, until: dt.date):
    """Payments, and a returned one charged back on the day it came back
    (less credit of it already removed, which comes back on an invoice)."""
    for pay in Payment.objects.filter(customer=customer, received_on__lte=until):
        ref = f" ({pay.reference})" if pay.reference else ""
        yield StatementLine(
            pay.received_on,
            f"Payment, {pay.get_method_display().lower()}{ref}",
            None,
            pay.amount,
            posted=pay.created_at,
        )
        if pay.status == PaymentStatus.VOIDED and pay.voided_at:
            day = clock.localdate(pay.voided_at)
            back = pay.amount - Money.from_minor(shortfall_minor(pay), customer.currency)
            if day <= until and back.minor():
                yield StatementLine(day, f"Payment returned{ref}", back, None, posted=pay.voided_at)


def _credit_note_lines(customer: Customer, until: dt.date):
    for note in CreditNote.objects.filter(customer=customer, issue_date__lte=until):
        yield StatementLine(
            note.issue_date,
            f"Credit note #{note.number}",
            None,
            note.amount,
            posted=note.created_at,
        )


def _refund_lines(customer: Customer, until: dt.date):
    for refund in Refund.objects.filter(
        customer=customer,
        destination=Refund.Destination.CARD,
        status=Refund.Status.SUCCEEDED,
        completed_at__date__lte=until,
    ):
        yield StatementLine(
            clock.localdate(refund.completed_at),
            "Refund to your card",
            refund.amount,
            None,
            posted=refund.completed_at,
        )


def _credit_lines(customer: Customer, until: dt.date):
    """Credit granted or taken by staff, and an opening balance."""
    for entry in CreditEntry.objects.filter(
        customer=customer,
        kind__in=[CreditKind.ADJUSTMENT, CreditKind.OPENING_BALANCE],
        created_at__date__lte=until,
    ):
        label = "Opening credit" if entry.kind == CreditKind.OPENING_BALANCE else "Account credit"
        amount = entry.amount
        yield StatementLine(
            clock.localdate(entry.created_at),
            f"{label}: {entry.memo}" if entry.memo else label,
            -amount if amount.minor() < 0 else None,
            amount if amount.minor() > 0 else None,
            posted=entry.created_at,
        )


def statement(customer: Customer, start: dt.date, end: dt.date) -> Statement:
    zero = Money.zero(customer.currency)
    running = zero
    result = Statement(customer=customer, start=start, end=end, opening=zero, closing=zero)
    charges = payments = zero
    for line in _ledger(customer, end):
        running = running + (line.charges or zero) - (line.payments or zero)
        if line.date < start:
            result.opening = running
            continue
        line.balance = running
        charges = charges + (line.charges or zero)
        payments = payments + (line.payments or zero)
        result.lines.append(line)
    result.closing = running
    result.charges, result.payments = charges, payments
    return result
