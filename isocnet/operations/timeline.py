"""A customer's next days, as the daily runs will make them: the same code
the billing run uses (billing, the collections policy's steps, auto debit),
run day by day for this customer alone on the moved clock, inside a
transaction that is rolled back (core.simulation). What it assumes:
nobody pays by check or in the portal in the meantime, and the card on
file is charged successfully when auto debit comes; invoice numbers are
not known ahead (a real invoice takes the next free number when issued).

``events_of`` reads what happened to an account between two points, and
is used both here and by the tests that run the real days and compare.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from isocnet.collections.models import (
    Installment,
    LateFee,
    PaymentPlan,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from isocnet.collections.plans import PLAN_GRACE_DAYS
from isocnet.collections.policy import current, pinned
from isocnet.collections.suspension import owes_minor, past_suspension
from isocnet.core import clock, formatting, simulation
from isocnet.core.actors import Actor
from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.invoicing.models import OPEN_STATUSES, BillingRun, Charge, Invoice
from isocnet.operations.auto_debit import collect_due
from isocnet.operations.billing_run import bill_customer, due_customer_ids
from isocnet.operations.dunning import overdue_step
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.models import CallStatus, GatewayCall
from isocnet.subscriptions.models import Subscription, SubscriptionStatus

TIMELINE_DAYS = 60
SIMULATION = Actor("timeline")

# The notices a customer would see coming, in words.
NOTICE_WORDS = {
    MessageKind.REMINDER: "Payment reminder",
    MessageKind.OVERDUE_1: "First overdue notice",
    MessageKind.OVERDUE_2: "Second overdue notice",
    MessageKind.OVERDUE_3: "Final notice",
    MessageKind.SUSPENSION: "Suspension notice",
    MessageKind.PROMISE_BROKEN: "Missed-promise notice",
    MessageKind.CARD_NEEDED: "Card needed notice",
}


@dataclass(frozen=True)
class Event:
    date: dt.date
    kind: str  # invoice, card_charge, notice, late_fee, suspended, restored, promise_due, promise_kept, promise_broken
    text: str
    amount: str = ""  # "49.95" in the account's currency, when money is involved
    invoice_due: dt.date | None = None  # which invoice it concerns (numbers are not known ahead)
    currency: str = ""

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "text": self.text,
            "amount": self.amount or None,
            "invoice_due_date": self.invoice_due.isoformat() if self.invoice_due else None,
            "currency": self.currency or None,
        }


@dataclass
class Mark:
    """Where an account stood: the last row of each kind seen, and its
    services' status."""

    invoice: int
    message: int
    fee: int
    call: int
    suspended: bool
    promises: dict
    plans: dict


def mark(customer_id: int) -> Mark:
    def last(model) -> int:
        return (
            model.objects.filter(customer_id=customer_id)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0
        )

    return Mark(
        invoice=last(Invoice),
        message=last(OutboxMessage),
        fee=last(LateFee),
        call=last(GatewayCall),
        suspended=_suspended(customer_id),
        promises=dict(Promise.objects.filter(customer_id=customer_id).values_list("pk", "status")),
        plans=dict(PaymentPlan.objects.filter(customer_id=customer_id).values_list("pk", "status")),
    )


def _suspended(customer_id: int) -> bool:
    return Subscription.objects.filter(
        customer_id=customer_id, status=SubscriptionStatus.SUSPENDED, suspended_for_nonpayment=True
    ).exists()


def events_of(customer_id: int, since: Mark, date: dt.date) -> tuple[list[Event], Mark]:
    """What happened to the account since ``since`` (on ``date``)."""
    now = mark(customer_id)
    currency = Customer.objects.values_list("currency", flat=True).get(pk=customer_id)
    events = [
        *_invoice_events(customer_id, since, date, currency),
        *_charge_events(customer_id, since, date, currency),
        *_fee_events(customer_id, since, date, currency),
        *_notice_events(customer_id, since, date),
        *_status_events(customer_id, since, now, date, currency),
    ]
    return events, now


def _invoice_events(customer_id: int, since: Mark, date: dt.date, currency: str):
    for invoice in Invoice.objects.filter(
        customer_id=customer_id, pk__gt=since.invoice, issue_date__isnull=False
    ).order_by("pk"):
        yield Event(
            date,
            "invoice",
            f"Invoice of {formatting.money(invoice.total)}, due {formatting.date(invoice.due_date)}",
            invoice.total.as_string(),
            invoice.due_date,
            currency,
        )


def _charge_events(customer_id: int, since: Mark, date: dt.date, currency: str):
    for call in GatewayCall.objects.filter(
        customer_id=customer_id, pk__gt=since.call, kind=GatewayCall.Kind.CHARGE
    ).select_related("invoice", "card"):
        money = Money.from_minor(call.amount_minor, call.currency)
        ok = call.status == CallStatus.SUCCEEDED
        yield Event(
            date,
            "card_charge",
            f"{formatting.money(money)} charged to your {call.card}"
            if ok
            else f"Charge of {formatting.money(money)} to your {call.card} refused",
            money.as_string(),
            call.invoice.due_date if call.invoice else None,
            currency,
        )


def _fee_events(customer_id: int, since: Mark, date: dt.date, currency: str):
    for fee in LateFee.objects.filter(customer_id=customer_id, pk__gt=since.fee).select_related(
        "invoice"
    ):
        money = Money.from_minor(fee.amount_minor, fee.currency)
        yield Event(
            date,
            "late_fee",
            f"Late fee of {formatting.money(money)} for the invoice due "
            f"{formatting.date(fee.invoice.due_date)}",
            money.as_string(),
            fee.invoice.due_date,
            currency,
        )


def _notice_events(customer_id: int, since: Mark, date: dt.date):
    for message in OutboxMessage.objects.filter(
        customer_id=customer_id, pk__gt=since.message, kind__in=list(NOTICE_WORDS)
    ).select_related("invoice"):
        due = message.invoice.due_date if message.invoice else None
        yield Event(
            date,
            "notice",
            NOTICE_WORDS[message.kind]
            + (f" for the invoice due {formatting.date(due)}" if due else ""),
            invoice_due=due,
        )


def _status_events(customer_id: int, since: Mark, now: Mark, date: dt.date, currency: str):
    """Suspended or restored; promises and plans kept or broken."""
    if now.suspended and not since.suspended:
        # what would have kept the service on: the invoices past their suspension date
        past = (
            past_suspension(date).filter(customer_id=customer_id).aggregate(s=Sum("balance_minor"))
        )
        owed = Money.from_minor(min(past["s"] or 0, owes_minor(customer_id)), currency)
        yield Event(
            date,
            "suspended",
            f"Services suspended for non-payment ({formatting.money(owed)} owed)",
            owed.as_string(),
            currency=currency,
        )
    if since.suspended and not now.suspended:
        yield Event(date, "restored", "Services restored")
    for pk, status in now.plans.items():
        if since.plans.get(pk) == PlanStatus.ACTIVE and status in (
            PlanStatus.KEPT,
            PlanStatus.BROKEN,
        ):
            yield Event(date, f"plan_{status}", f"Payment plan {status}")
    for pk, status in now.promises.items():
        if since.promises.get(pk) == PromiseStatus.ACTIVE and status in (
            PromiseStatus.KEPT,
            PromiseStatus.BROKEN,
        ):
            yield Event(date, f"promise_{status}", f"Promise to pay {status}")


def customer_day(*, customer_id: int, date: dt.date, actor: Actor, run: BillingRun) -> None:
    """One daily run for one customer: billing, the policy's steps, auto
    debit — the functions the billing run calls, for this customer alone."""
    only = [customer_id]
    if due_customer_ids(date, only):
        bill_customer(customer_id=customer_id, date=date, run=run, actor=actor)
    overdue_step(date=date, actor=actor, only=only)
    collect_due(actor=actor, date=date, only=only)


class _RollBack(Exception):
    pass


def next_day_to_run(customer_id: int, *, after: dt.date, end: dt.date) -> dt.date | None:
    """The next day before ``end`` on which a daily run could do anything
    for this account (None: none): every day the policy names for its open
    invoices, a final notice's warning ending, a card retry, a promise's
    end, a service's next billing (lead days ahead), start or end, and the
    day after a charge waiting for the next run. Days between them would
    change nothing, so the timeline skips them; the tests that run every
    real day and compare hold this list complete."""
    policy = current()
    days: set[dt.date] = set()
    for due in Invoice.objects.filter(
        customer_id=customer_id, status__in=OPEN_STATUSES
    ).values_list("due_date", flat=True):
        offsets = [
            -policy.reminder_days_before_due,
            0,
            1,
            *policy.notice_days,
            policy.suspension_days,
        ]
        days.update(due + dt.timedelta(days=o) for o in offsets)
        n = 0
        while policy.late_fees and (fee_day := policy.late_fee_date(due, n)) < end:
            days.add(fee_day)
            n += 1
    for queued in OutboxMessage.objects.filter(
        customer_id=customer_id, kind=MessageKind.OVERDUE_3
    ).values_list("created_at", flat=True):
        days.add(clock.localdate(queued) + dt.timedelta(days=policy.suspension_warning_days))
    days.update(
        GatewayCall.objects.filter(
            customer_id=customer_id, next_retry_on__isnull=False
        ).values_list("next_retry_on", flat=True)
    )
    days.update(
        promised + dt.timedelta(days=1)
        for promised in Promise.objects.filter(
            customer_id=customer_id, status=PromiseStatus.ACTIVE
        ).values_list("promised_on", flat=True)
    )
    for due_on in Installment.objects.filter(
        plan__customer_id=customer_id, plan__status=PlanStatus.ACTIVE
    ).values_list("due_on", flat=True):
        days.update({due_on, due_on + dt.timedelta(days=PLAN_GRACE_DAYS + 1)})
    lead = dt.timedelta(days=settings.INVOICE_LEAD_DAYS)
    for next_due, started, cancelled in Subscription.objects.filter(
        customer_id=customer_id
    ).values_list("next_due_date", "start_date", "cancellation_date"):
        days.update(d for d in (next_due and next_due - lead, started, cancelled) if d)
    if Charge.objects.filter(
        customer_id=customer_id, invoice_line__isnull=True, with_next_invoice=False
    ).exists():
        days.add(after + dt.timedelta(days=1))
    later = [d for d in days if after < d < end]
    return min(later) if later else None


def customer_timeline(
    customer_id: int, *, start: dt.date | None = None, days: int = TIMELINE_DAYS
) -> list[Event]:
    """The next ``days`` days of this account from ``start`` (today)."""
    start = start or clock.today()
    events: list[Event] = []
    for promise in Promise.objects.filter(
        customer_id=customer_id, status=PromiseStatus.ACTIVE, promised_on__gte=start
    ):
        money = Money.from_minor(promise.amount_minor - promise.paid_minor, promise.currency)
        events.append(
            Event(
                promise.promised_on,
                "promise_due",
                f"Promised payment of {formatting.money(money)} due",
                money.as_string(),
                currency=promise.currency,
            )
        )
    for installment in Installment.objects.filter(
        plan__customer_id=customer_id, plan__status=PlanStatus.ACTIVE, due_on__gte=start
    ).select_related("plan"):
        money = Money.from_minor(installment.amount_minor, installment.plan.currency)
        events.append(
            Event(
                installment.due_on,
                "installment_due",
                f"Payment plan installment of {formatting.money(money)} due",
                money.as_string(),
                currency=installment.plan.currency,
            )
        )
    with simulation.simulating(), pinned():
        try:
            with transaction.atomic():
                run = BillingRun.objects.create(
                    date=start,
                    started_at=clock.now(),
                    started_by=SIMULATION.label,
                    currency=settings.CURRENCY,
                )
                seen = mark(customer_id)
                end = start + dt.timedelta(days=days)
                day = start
                while day is not None:
                    with clock.frozen_at(day):
                        customer_day(customer_id=customer_id, date=day, actor=SIMULATION, run=run)
                        happened, seen = events_of(customer_id, seen, day)
                    events.extend(happened)
                    day = next_day_to_run(customer_id, after=day, end=end)
                raise _RollBack
        except _RollBack:
            pass
    order = {
        "promise_due": 0,
        "installment_due": 0,
        "invoice": 1,
        "card_charge": 2,
        "notice": 3,
        "late_fee": 4,
    }
    return sorted(events, key=lambda e: (e.date, order.get(e.kind, 5)))


def next_step(events: list[Event], *, to_staff: bool = False) -> str:
    """The one sentence a customer should read first: the next thing that
    will happen to the account unless it is paid (none: ""). ``to_staff``:
    the same said about the customer ("The services …"), not to them."""
    for event in events:
        if event.kind == "suspended":
            owed = formatting.money(Money.parse(event.amount, event.currency))
            whose = "The customer's services" if to_staff else "Your service"
            return (
                f"{whose} will be suspended on {formatting.date(event.date)} unless {owed} is paid."
            )
        if event.kind == "late_fee":
            fee = formatting.money(Money.parse(event.amount, event.currency))
            return (
                f"A late fee of {fee} will be added on {formatting.date(event.date)} unless the "
                "balance is paid by then."
            )
    return ""
