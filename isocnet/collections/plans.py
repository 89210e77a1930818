"""Payment plans: what an account owes, split into installments whose
amounts add up to it exactly (to the cent: the first installments carry
the remainder). While the plan is kept, the invoices it covers are held —
no notices, late fees or suspension, and a suspended service comes back at
once. What payments pay on those invoices counts towards it
(``plan_payments_received``, called by payments in the payment's
transaction); card payers' installments are
charged by auto debit on their dates (operations.auto_debit), check payers
mail them. Paid in full, it is kept; an installment still short
PLAN_GRACE_DAYS after its date breaks it: the customer is told and the
policy resumes at the step the invoices have reached."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from isocnet.collections.hold_states import hold_cancel, hold_move, holds_settle
from isocnet.collections.holds import scoped
from isocnet.collections.models import (
    PLAN_TRANSITIONS,
    Installment,
    PaymentPlan,
    PlanStatus,
)
from isocnet.collections.policy import current
from isocnet.collections.suspension import owes_minor, resume_if_paid_up, suspension_date
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.money import Money
from isocnet.core.periods import add_months
from isocnet.core.permissions import require
from isocnet.core.validation import clean_date, clean_line
from isocnet.customers.services import customer_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue

PLAN_GRACE_DAYS = 3
PLAN_MAX_INSTALLMENTS = 24


def split_exactly(total_minor: int, count: int) -> list[int]:
    """``count`` amounts adding up to ``total_minor`` exactly, as equal as
    cents allow (the first ones carry the remainder)."""
    base, remainder = divmod(total_minor, count)
    return [base + (1 if i < remainder else 0) for i in range(count)]


def _move(plan: PaymentPlan, new: str) -> None:
    """The one writer of a plan's status (PLAN_TRANSITIONS)."""
    hold_move(plan, new, PLAN_TRANSITIONS, what="a payment plan")


def plan_create(
    *, actor: Actor, customer_id: int, installments: int, first_on, note: str = ""
) -> PaymentPlan:
    """Split what the account owes into ``installments`` monthly payments,
    the first on ``first_on``."""
    require(actor, "promise")
    if isinstance(installments, bool) or not isinstance(installments, int):
        raise InvalidInput("must be a whole number", field="installments")
    if not 2 <= installments <= PLAN_MAX_INSTALLMENTS:
        raise InvalidInput(f"must be from 2 to {PLAN_MAX_INSTALLMENTS}", field="installments")
    first_on = clean_date(first_on, "first_on")
    today = clock.today()
    if not today <= first_on <= today + dt.timedelta(days=31):
        raise InvalidInput("must be within a month from today", field="first_on")
    note = clean_line(note, "note", max_length=300) if note else ""
    with transaction.atomic():
        customer = customer_lock(customer_id)
        owed = owes_minor(customer.pk)
        if owed <= 0:
            raise Conflict(
                "this account owes nothing: there is nothing to split", field="installments"
            )
        if owed < installments:
            raise InvalidInput("is more than the cents owed", field="installments")
        if PaymentPlan.objects.filter(customer=customer, status=PlanStatus.ACTIVE).exists():
            raise Conflict("this account already has a payment plan", field="installments")
        plan = PaymentPlan.objects.create(
            customer=customer,
            total_minor=owed,
            currency=customer.currency,
            note=note,
            created_at=clock.now(),
            created_by=actor.label,
        )
        Installment.objects.bulk_create(
            [
                Installment(
                    plan=plan,
                    sequence=n,
                    due_on=add_months(first_on, n, first_on.day),
                    amount_minor=amount,
                )
                for n, amount in enumerate(split_exactly(owed, installments))
            ]
        )
        covered = list(
            Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by("id")
        )
        plan.invoices.set(covered)
        audit_record(
            actor=actor,
            action="plan.create",
            obj=plan,
            customer_id=customer.pk,
            after={
                "total": Money.from_minor(owed, customer.currency).as_string(),
                "installments": [
                    [
                        i.due_on.isoformat(),
                        Money.from_minor(i.amount_minor, plan.currency).as_string(),
                    ]
                    for i in plan.installments.all()
                ],
                "invoices": [i.number for i in covered],
            },
        )
        notice_queue(
            kind=MessageKind.PLAN_MADE,
            key=f"plan_made:{plan.pk}",
            customer_id=customer.pk,
            invoice_id=covered[0].pk,
            context={"plan": plan.pk},
            known_new=True,
        )
    resume_if_paid_up(actor=actor, customer_id=customer_id, date=today)
    return plan


def due_by_minor(plan: PaymentPlan, date: dt.date) -> int:
    """What the plan asks for by ``date`` (its installments due then)."""
    return sum(i.amount_minor for i in plan.installments.all() if i.due_on <= date)


def plan_payments_received(
    *, actor: Actor, customer_id: int, applied: list[tuple[int, int]]
) -> None:
    """A payment was applied on the account (caller holds the customer
    lock): what it paid on the invoices an active plan covers
    (``applied``: invoice id, minor units) counts towards the plan, kept
    once paid in full or once those invoices are paid off."""
    plan = (
        PaymentPlan.objects.select_for_update()
        .filter(customer_id=customer_id, status=PlanStatus.ACTIVE)
        .first()
    )
    if plan is None:
        return
    covered = set(plan.invoices.values_list("pk", flat=True))
    paid = sum(amount for invoice_id, amount in applied if invoice_id in covered)
    if paid:
        plan.paid_minor += paid
        plan.save(update_fields=["paid_minor"])
    if (
        plan.paid_minor >= plan.total_minor
        or not plan.invoices.filter(status__in=OPEN_STATUSES).exists()
    ):
        _keep(plan, actor)


def _keep(plan: PaymentPlan, actor: Actor) -> None:
    _move(plan, PlanStatus.KEPT)
    audit_record(
        actor=actor,
        action="plan.kept",
        obj=plan,
        customer_id=plan.customer_id,
        after={"paid": Money.from_minor(plan.paid_minor, plan.currency).as_string()},
    )


def installments_to_charge(
    date: dt.date, only: list[int] | None = None
) -> list[tuple[int, int, Money]]:
    """(customer, plan, amount) for card payers' plans with an installment
    due by ``date`` not yet paid: what auto debit charges today (reads only;
    a charge that succeeds pays the plan, so a retry finds nothing due)."""
    out = []
    for plan in scoped(
        PaymentPlan.objects.filter(status=PlanStatus.ACTIVE, customer__payment_method="card"), only
    ).prefetch_related("installments"):
        due_today = [i for i in plan.installments.all() if i.due_on == date]
        short = due_by_minor(plan, date) - plan.paid_minor
        if due_today and short > 0:
            out.append((plan.customer_id, plan.pk, Money.from_minor(short, plan.currency)))
    return out


def plans_check(*, date: dt.date, actor: Actor, only: list[int] | None = None) -> tuple[int, int]:
    """The run's look at plans: kept (paid, or its invoices closed) or broken
    (an installment still short PLAN_GRACE_DAYS after its date)."""
    last_grace_day = date - dt.timedelta(days=PLAN_GRACE_DAYS + 1)

    def decide(plan: PaymentPlan) -> str | None:
        if (
            plan.paid_minor >= plan.total_minor
            or not plan.invoices.filter(status__in=OPEN_STATUSES).exists()
        ):
            _keep(plan, actor)
            return PlanStatus.KEPT
        if due_by_minor(plan, last_grace_day) > plan.paid_minor:
            _break(plan, actor, date)
            return PlanStatus.BROKEN
        return None

    answers = holds_settle(PaymentPlan, only=only, decide=decide)
    return answers.count(PlanStatus.KEPT), answers.count(PlanStatus.BROKEN)


def _break(plan: PaymentPlan, actor: Actor, date: dt.date) -> None:
    _move(plan, PlanStatus.BROKEN)
    audit_record(
        actor=actor,
        action="plan.broken",
        obj=plan,
        customer_id=plan.customer_id,
        after={
            "total": Money.from_minor(plan.total_minor, plan.currency).as_string(),
            "paid": Money.from_minor(plan.paid_minor, plan.currency).as_string(),
        },
    )
    invoice = plan.invoices.filter(status__in=OPEN_STATUSES).order_by("id").first()
    notice_queue(
        kind=MessageKind.PLAN_BROKEN,
        key=f"plan_broken:{plan.pk}",
        customer_id=plan.customer_id,
        invoice_id=invoice.pk,
        context={
            "plan": plan.pk,
            "suspension_date": max(
                suspension_date(invoice.due_date),
                date + dt.timedelta(days=current().suspension_warning_days),
            ).isoformat(),
        },
        known_new=True,
    )


def plan_cancel(*, actor: Actor, plan_id: int, reason: str) -> PaymentPlan:
    """Staff withdraw a plan: the policy resumes at once, without a notice."""
    return hold_cancel(
        actor=actor,
        model=PaymentPlan,
        hold_id=plan_id,
        reason=reason,
        move=_move,
        cancelled=PlanStatus.CANCELLED,
        what="payment plan",
        field="plan",
        action="plan.cancel",
    )


def plan_active(customer_id: int) -> PaymentPlan | None:
    return PaymentPlan.objects.filter(customer_id=customer_id, status=PlanStatus.ACTIVE).first()
