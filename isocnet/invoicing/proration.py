"""Money consequences of changing a service in the middle of a billed
period: ``subscription_change`` here is the door's way to change a service
(subscriptions owns the service; this adds what the change costs, inside
its transaction, the customer locked).

- Same billing cycle: a negative charge for the unused part of the old price
  and a charge for the new price over the rest of the period, both on the
  next invoice (PRORATE_CHANGES=next_invoice) or invoiced at once
  (PRORATE_CHANGES=immediate; a net credit then goes to account credit).
- A change of cycle (monthly to annual): the unused part is credited and the
  service restarts today on its new cycle.
- Immediate cancellation: the unused part becomes account credit.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.money import Money
from isocnet.invoicing.engine.proration import remainder_charge, unused_part
from isocnet.invoicing.issuing import invoice_charges_now
from isocnet.invoicing.models import Charge, InvoiceLine, InvoiceStatus, LineKind
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditKind
from isocnet.subscriptions import services
from isocnet.subscriptions.models import SubscriptionStatus
from isocnet.subscriptions.services import ServiceBefore, service_label


def current_billed_line(subscription, today: dt.date) -> InvoiceLine | None:
    return (
        InvoiceLine.objects.filter(
            subscription=subscription,
            kind__in=[LineKind.SERVICE, LineKind.PRORATION],
            period_start__lte=today,
            period_end__gt=today,
        )
        .exclude(invoice__status=InvoiceStatus.VOID)
        .select_related("invoice")
        .first()
    )


def _period_text(start: dt.date, end: dt.date) -> str:
    return f"({start:%m/%d/%Y} – {end - dt.timedelta(days=1):%m/%d/%Y})"


def _charge(
    sub, *, description: str, amount: Money, actor: Actor, start, end, kind=LineKind.ADJUSTMENT
) -> Charge:
    return Charge.objects.create(
        customer_id=sub.customer_id,
        subscription=sub,
        kind=kind,
        description=description[:300],
        quantity=1,
        unit_price_minor=amount.minor(),
        amount_minor=amount.minor(),
        currency=amount.currency,
        taxes=[
            {"name": t.name, "percent": f"{t.rate.normalize():f}"}
            for t in sub.plan.tax_rates.all()
            if t.active
        ],
        period_start=start,
        period_end=end,
        created_at=clock.now(),
        created_by=actor.label,
    )


def _credit(sub, amount: Money, memo: str, actor: Actor) -> None:
    if amount:
        credit_entry_add(
            actor=actor,
            customer_id=sub.customer_id,
            amount_minor=amount.minor(),
            currency=amount.currency,
            kind=CreditKind.ADJUSTMENT,
            memo=memo,
        )


def prorate_change(*, sub, old_label: str, old_cycle: str, actor: Actor) -> dict:
    """``sub`` carries the new plan/quantity/price (not yet saved). Returns
    what was done, for the audit row."""
    today = clock.today()
    line = current_billed_line(sub, today)
    if line is None:
        return {}
    start, end = max(today, line.period_start), line.period_end
    credit = unused_part(
        billed=line.amount, period_start=line.period_start, period_end=end, today=today
    )
    if sub.plan.cycle != old_cycle:
        _credit(sub, credit, f"Unused {old_label} {_period_text(start, end)}", actor)
        sub.next_due_date = today
        sub.anchor_day = settings.BILLING_DAY or today.day
        return {"credit": credit.as_string(), "restarts": today.isoformat()}
    new = remainder_charge(
        unit_price=sub.unit_price,
        quantity=sub.quantity,
        period_end=end,
        cycle=sub.plan.cycle,
        anchor_day=sub.anchor_day,
        today=today,
    )
    if settings.PRORATE_CHANGES == "immediate" and new < credit:
        _credit(
            sub,
            credit - new,
            f"Change of {old_label} to {service_label(sub)} {_period_text(start, end)}",
            actor,
        )
        return {"credit": (credit - new).as_string()}
    charges = [
        _charge(
            sub,
            description=f"Unused {old_label} {_period_text(start, end)}",
            amount=-credit,
            actor=actor,
            start=start,
            end=end,
        ),
        _charge(
            sub,
            description=f"{service_label(sub)} {_period_text(start, end)}",
            amount=new,
            actor=actor,
            start=start,
            end=end,
        ),
    ]
    done = {"unused_credit": credit.as_string(), "new_charge": new.as_string()}
    if settings.PRORATE_CHANGES == "immediate":
        invoice = invoice_charges_now(customer_id=sub.customer_id, charges=charges, actor=actor)
        done["invoice"] = invoice.number
    return done


def prorate_cancellation(*, sub, actor: Actor) -> dict:
    today = clock.today()
    line = current_billed_line(sub, today)
    if line is None:
        return {}
    credit = unused_part(
        billed=line.amount, period_start=line.period_start, period_end=line.period_end, today=today
    )
    _credit(
        sub, credit, f"Unused {service_label(sub)} {_period_text(today, line.period_end)}", actor
    )
    return {"credit": credit.as_string()} if credit else {}


def subscription_change(*, actor: Actor, subscription_id, changes: dict):
    """Change a service (subscriptions.services.subscription_change) with
    what it costs: a plan, price or quantity change in a billed period
    prorated, an immediate cancellation credited. The doors call this."""
    return services.subscription_change(
        actor=actor,
        subscription_id=subscription_id,
        changes=changes,
        consequences=_consequences,
    )


def _consequences(*, sub, before: ServiceBefore, actor: Actor) -> dict:
    if sub.status == SubscriptionStatus.ACTIVE and (sub.unit_price, sub.quantity) != before.price:
        return prorate_change(sub=sub, old_label=before.label, old_cycle=before.cycle, actor=actor)
    if sub.status == SubscriptionStatus.CANCELLED and before.status != SubscriptionStatus.CANCELLED:
        return prorate_cancellation(sub=sub, actor=actor)
    return {}
