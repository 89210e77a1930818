"""Previews of an invoice's notices for staff (the invoice's admin page):
each kind rendered with the facts it speaks of — the last message of that
kind actually queued for the invoice (what the customer got), else the
invoice's latest credit note, returned payment, refund, promise or payment
plan. A kind whose facts the invoice does not have (a refund notice for an
invoice never refunded) has no preview; account notices (welcome, password
reset, email change) are about a login, not an invoice, and have none here."""

from __future__ import annotations

import datetime as dt

from isocnet.collections.models import PaymentPlan, Promise
from isocnet.collections.policy import current
from isocnet.core import clock
from isocnet.invoicing.models import CreditNote, Invoice
from isocnet.notifications.message import Rendered
from isocnet.notifications.rendering import render
from isocnet.outbox.models import ACCOUNT_KINDS, MessageKind, OutboxMessage
from isocnet.payments.models import Payment, PaymentStatus, Refund

_LATEST = {
    MessageKind.CREDIT_NOTE: lambda inv: {
        "credit_note": CreditNote.objects.filter(invoice=inv)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    },
    MessageKind.PAYMENT_RETURNED: lambda inv: {
        "payment": Payment.objects.filter(allocations__invoice=inv, status=PaymentStatus.VOIDED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    },
    MessageKind.REFUND: lambda inv: {
        "refund": Refund.objects.filter(payment__allocations__invoice=inv)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    },
    MessageKind.PROMISE_MADE: lambda inv: {"promise": _latest(Promise, inv)},
    MessageKind.PROMISE_BROKEN: lambda inv: {"promise": _latest(Promise, inv, "broken")},
    MessageKind.PLAN_MADE: lambda inv: {"plan": _latest(PaymentPlan, inv)},
    MessageKind.PLAN_BROKEN: lambda inv: {"plan": _latest(PaymentPlan, inv, "broken")},
}


def _latest(model, invoice: Invoice, status: str | None = None) -> int | None:
    rows = model.objects.filter(invoices=invoice)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-pk").values_list("pk", flat=True).first()


def preview_context(kind: str, invoice: Invoice) -> dict | None:
    """The facts to render ``kind`` with for ``invoice``, or None when the
    invoice has nothing that notice could speak of."""
    if kind not in MessageKind.values or kind in ACCOUNT_KINDS or kind == MessageKind.RECEIPT:
        return None
    sent = (
        OutboxMessage.objects.filter(invoice=invoice, kind=kind)
        .order_by("-pk")
        .values_list("context", "created_at")
        .first()
    )
    if sent is not None:
        context, queued = sent
        return {"as_of": clock.localdate(queued).isoformat(), **dict(context)}
    if kind in _LATEST:
        facts = _LATEST[kind](invoice)
        return facts if all(v is not None for v in facts.values()) else None
    day = _notice_day(kind, invoice)
    return {"as_of": day.isoformat()} if day else {}


def _notice_day(kind: str, invoice: Invoice):
    """The day the policy sends a dunning notice of this invoice (a
    preview's "days past due" counts from it, not from today)."""
    policy = current()
    steps = {
        MessageKind.REMINDER: -policy.reminder_days_before_due,
        MessageKind.OVERDUE_1: policy.notice_days[0],
        MessageKind.OVERDUE_2: policy.notice_days[1],
        MessageKind.OVERDUE_3: policy.notice_days[2],
        MessageKind.SUSPENSION: policy.suspension_days,
    }
    if kind not in steps:
        return None
    return invoice.due_date + dt.timedelta(days=steps[kind])


def previewable(invoice: Invoice) -> list[str]:
    """The kinds the invoice's page offers a preview of."""
    return [kind for kind in MessageKind.values if preview_context(kind, invoice) is not None]


def notice_preview(kind: str, invoice: Invoice) -> Rendered | None:
    context = preview_context(kind, invoice)
    if context is None:
        return None
    return render(kind, invoice, store_pdf=False, context=context)
