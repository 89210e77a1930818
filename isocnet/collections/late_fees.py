"""Late fees: charged by the daily run for an overdue invoice, the
policy's grace days after its due date, once (or monthly while it stays
overdue, never more often), as a fee line on the customer's next invoice or
as an invoice of its own. Never on an invoice that is paid, voided, held
(a promise, a dispute) or itself a late-fee invoice, and never a fee on a
fee: the overdue balance it is computed on leaves late-fee lines out.

Waived by staff with a reason: a fee still waiting for the next invoice
is taken off; one already invoiced is credited (a credit note)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from isocnet.catalog.models import TaxRate
from isocnet.collections.holds import held_ids, not_held, scoped
from isocnet.collections.models import LateFee, LateFeeOn, LateFeeRepeat
from isocnet.collections.policy import Policy, current
from isocnet.core import clock, formatting
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, NotFound
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.validation import clean_line
from isocnet.customers.services import customer_lock
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.issuing import invoice_charges_now
from isocnet.invoicing.models import OPEN_STATUSES, Charge, Invoice, InvoiceLine, LineKind


def fee_sequence_due(policy: Policy, due_date: dt.date, date: dt.date) -> int | None:
    """Which fee of an invoice due ``due_date`` has come due by ``date``:
    0 for the first, n for the n-th month after it (monthly), None if none
    yet. After missed runs only the latest is charged."""
    if policy.late_fee_date(due_date) > date:
        return None
    if policy.late_fee_repeat != LateFeeRepeat.MONTHLY:
        return 0
    n = 0
    while policy.late_fee_date(due_date, n + 1) <= date:
        n += 1
    return n


def fee_base(invoice: Invoice) -> Money:
    """The overdue balance a fee is computed on: the invoice's balance,
    less any late fees on it (no fee on a fee)."""
    fees_on_it = (
        InvoiceLine.objects.filter(invoice=invoice, kind=LineKind.LATE_FEE).aggregate(
            s=Sum("amount_minor")
        )["s"]
        or 0
    )
    return Money.from_minor(
        max(0, min(invoice.balance_minor, invoice.total_minor - fees_on_it)), invoice.currency
    )


def _candidates(policy: Policy, date: dt.date, only: list[int] | None):
    first_day = date - dt.timedelta(days=policy.late_fee_grace_days)
    fee_invoices = LateFee.objects.exclude(fee_invoice=None).values("fee_invoice_id")
    return (
        not_held(
            scoped(Invoice.objects.filter(status__in=OPEN_STATUSES, due_date__lte=first_day), only)
        )
        .exclude(pk__in=fee_invoices)
        .order_by("customer_id", "id")
    )


def late_fees_due(
    date: dt.date, policy: Policy | None = None, only: list[int] | None = None
) -> list[tuple[Invoice, int, Money]]:
    """(invoice, fee sequence, amount) for each fee the run would charge on
    ``date``. Reads only."""
    policy = policy or current()
    if not policy.late_fees:
        return []
    out = []
    candidates = list(_candidates(policy, date, only))
    charged: dict[int, int] = {}
    for invoice_id, sequence in LateFee.objects.filter(
        invoice_id__in=[i.pk for i in candidates]
    ).values_list("invoice_id", "sequence"):
        charged[invoice_id] = max(charged.get(invoice_id, -1), sequence)
    for invoice in candidates:
        sequence = fee_sequence_due(policy, invoice.due_date, date)
        if sequence is None or charged.get(invoice.pk, -1) >= sequence:
            continue
        amount = policy.late_fee_amount(fee_base(invoice))
        if amount.minor() > 0:
            out.append((invoice, sequence, amount))
    return out


def late_fees_charge(*, date: dt.date, actor: Actor, only: list[int] | None = None) -> int:
    """The run's late fees for ``date``: each in its own transaction under
    the customer's lock, re-checked there. Returns how many were charged."""
    policy = current()
    charged = 0
    for invoice, sequence, _ in late_fees_due(date, policy, only):
        charged += _charge_one(invoice.pk, sequence, date, actor, policy) is not None
    return charged


def _charge_one(invoice_id: int, sequence: int, date: dt.date, actor: Actor, policy: Policy):
    invoice = Invoice.objects.get(pk=invoice_id)
    try:
        with transaction.atomic():
            customer = customer_lock(invoice.customer_id)
            invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
            if invoice.status not in OPEN_STATUSES or held_ids([invoice_id]):
                return None  # paid or held since the look-up
            base = fee_base(invoice)
            amount = policy.late_fee_amount(base)
            if amount.minor() <= 0:
                return None
            now = clock.now()
            taxes = []
            if policy.late_fee_tax_rate_id and not customer.tax_exempt:
                rate = TaxRate.objects.get(pk=policy.late_fee_tax_rate_id)
                taxes = [{"name": rate.name, "percent": f"{rate.rate.normalize():f}"}]
            charge = Charge.objects.create(
                customer=customer,
                kind=LineKind.LATE_FEE,
                description=f"Late fee, invoice #{invoice.number} (due {formatting.date(invoice.due_date)})",
                quantity=1,
                unit_price_minor=amount.minor(),
                amount_minor=amount.minor(),
                currency=invoice.currency,
                taxes=taxes,
                with_next_invoice=policy.late_fee_on == LateFeeOn.NEXT_INVOICE,
                created_at=now,
                created_by=actor.label,
            )
            fee = LateFee.objects.create(
                invoice=invoice,
                customer=customer,
                sequence=sequence,
                charged_on=date,
                base_minor=base.minor(),
                amount_minor=amount.minor(),
                currency=invoice.currency,
                charge=charge,
                created_at=now,
            )
            if policy.late_fee_on == LateFeeOn.OWN_INVOICE:
                fee.fee_invoice = invoice_charges_now(
                    customer_id=customer.pk, charges=[charge], actor=actor
                )
                fee.save(update_fields=["fee_invoice"])
            audit_record(
                actor=actor,
                action="late_fee.charge",
                obj=fee,
                customer_id=customer.pk,
                after={
                    "invoice": invoice.number,
                    "sequence": sequence,
                    "overdue_balance": base.as_string(),
                    "amount": amount.as_string(),
                    "on": fee.fee_invoice.number if fee.fee_invoice else "next invoice",
                },
            )
            return fee
    except IntegrityError:
        return None  # another run charged this step first (late_fee_once_per_step)


def late_fee_waive(*, actor: Actor, late_fee_id: int, reason: str) -> LateFee:
    """Waive a late fee: off the next invoice if it is still waiting, else
    a credit note for it on the invoice that carries it. Audited."""
    require(actor, "late_fee.waive")
    reason = clean_line(reason, "reason", max_length=250)
    customer_id = (
        LateFee.objects.filter(pk=late_fee_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        raise NotFound(f"no late fee {late_fee_id}", field="late_fee")
    with transaction.atomic():
        customer_lock(customer_id)
        fee = LateFee.objects.select_for_update().get(pk=late_fee_id)
        if fee.waived_at:
            raise Conflict("this late fee was already waived", field="late_fee")
        charge = fee.charge
        credit_note = None
        if charge is not None and charge.invoice_line_id is None:
            fee.charge = None
            fee.save(update_fields=["charge"])
            charge.delete()
        elif charge is not None:
            line = charge.invoice_line
            credit_note = credit_note_create(
                actor=actor,
                invoice_number=line.invoice.number,
                amount=_with_tax(line).as_string(),
                reason=f"Late fee waived: {reason}",
            )
        fee.waived_at = clock.now()
        fee.waived_by = actor.label
        fee.waive_reason = reason
        fee.save(update_fields=["waived_at", "waived_by", "waive_reason"])
        audit_record(
            actor=actor,
            action="late_fee.waive",
            obj=fee,
            customer_id=customer_id,
            after={
                "invoice": fee.invoice.number,
                "amount": Money.from_minor(fee.amount_minor, fee.currency).as_string(),
                "reason": reason,
                "credit_note": credit_note.number if credit_note else None,
            },
        )
    return fee


def _with_tax(line: InvoiceLine) -> Money:
    """A fee line's amount with the tax it carries (at the line's rates)."""
    amount = line.amount
    tax = Money.zero(amount.currency)
    for rate in line.taxes or []:
        tax = tax + (amount * (Decimal(rate["percent"]) / 100)).quantize()
    return amount + tax
