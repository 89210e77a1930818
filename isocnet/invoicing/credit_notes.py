"""Credit notes: corrections of issued invoices, never edits."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.permissions import require
from isocnet.core.sequences import sequence_take
from isocnet.core.validation import clean_line, clean_money
from isocnet.invoicing.balances import invoice_settle
from isocnet.invoicing.models import CreditNote, Invoice, InvoiceStatus
from isocnet.invoicing.services import invoice_lock
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditKind
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue


def credit_note_create(*, actor: Actor, invoice_number: str, amount, reason: str) -> CreditNote:
    """Credit (part of) an issued invoice. What the customer still owed on
    it is reduced; any excess (the invoice was already paid) becomes account
    credit. The invoice itself is not changed."""
    require(actor, "credit_note")
    reason = clean_line(reason, "reason", max_length=300)
    invoice_id = Invoice.objects.filter(number=invoice_number).values_list("pk", flat=True).first()
    if invoice_id is None:
        raise NotFound(f"no issued invoice numbered {invoice_number!r}", field="invoice")
    with transaction.atomic():
        invoice = invoice_lock(invoice_id)
        if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            raise Conflict(
                f"a {invoice.get_status_display().lower()} invoice cannot be credited",
                field="invoice",
            )
        money = clean_money(amount, "amount", invoice.currency, allow_zero=False)
        _check_creditable(invoice, money)
        applied = min(money.minor(), invoice.balance_minor)
        today = clock.today()
        number, series, seq = _credit_note_number(today)
        note = CreditNote.objects.create(
            number=number,
            series=series,
            sequence=seq,
            invoice=invoice,
            customer_id=invoice.customer_id,
            amount_minor=money.minor(),
            applied_minor=applied,
            to_credit_minor=money.minor() - applied,
            currency=invoice.currency,
            reason=reason,
            issue_date=today,
            created_at=clock.now(),
            created_by=actor.label,
        )
        if note.applied_minor:
            invoice_settle(invoice)
        if note.to_credit_minor:
            credit_entry_add(
                actor=actor,
                customer_id=invoice.customer_id,
                amount_minor=note.to_credit_minor,
                currency=invoice.currency,
                kind=CreditKind.CREDIT_NOTE,
                memo=f"Credit note #{note.number}",
                created_at=note.created_at,
            )
        notice_queue(
            kind=MessageKind.CREDIT_NOTE,
            key=f"credit_note:{note.pk}",
            customer_id=invoice.customer_id,
            invoice_id=invoice.pk,
            context={"credit_note": note.pk},
            known_new=True,
        )
        audit_record(
            actor=actor,
            action="credit_note.create",
            obj=note,
            customer_id=invoice.customer_id,
            after={
                "number": note.number,
                "invoice": invoice.number,
                "amount": money.as_string(),
                "reason": reason,
                "applied": str(note.applied_minor),
                "to_credit": str(note.to_credit_minor),
            },
        )
    return note


def _check_creditable(invoice: Invoice, money) -> None:
    """An invoice is credited at most its total, over all its credit notes."""
    already = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("amount_minor"))["s"] or 0
    creditable = invoice.total_minor - already
    if money.minor() > creditable:
        raise InvalidInput(
            f"at most {type(money).from_minor(creditable, invoice.currency).as_string()} of this invoice "
            "can still be credited",
            field="amount",
        )


def _credit_note_number(today) -> tuple[str, str, int]:
    """The next credit note number of CREDIT_NOTE_NUMBER_FORMAT's gapless
    series (one per year when the format has {year})."""
    series = (
        f"credit-note-{today.year}"
        if "{year}" in settings.CREDIT_NOTE_NUMBER_FORMAT
        else "credit-note"
    )
    (seq,) = sequence_take(series)
    return settings.CREDIT_NOTE_NUMBER_FORMAT.format(year=today.year, seq=seq), series, seq
