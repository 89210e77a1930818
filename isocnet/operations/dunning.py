"""After invoices are issued, the collections policy's steps
(collections.policy): promises kept or broken, overdue marking, reminders,
the three overdue notices, late fees, suspension for non-payment and
reactivation once paid. None of them for an invoice that is held (a
promise to pay, a dispute: collections.holds).

Every notice is queued with a dedupe key (``overdue_2:<invoice id>``), so a
run repeated the same day, or a missed day caught up, sends each notice once;
when several steps have come due at once, only the latest is sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from isocnet.collections.holds import not_held, scoped
from isocnet.collections.late_fees import fee_base, late_fees_charge
from isocnet.collections.models import LateFee
from isocnet.collections.plans import plans_check
from isocnet.collections.policy import Policy, pinned
from isocnet.collections.promises import promises_check
from isocnet.collections.suspension import (
    customers_past_suspension,
    past_suspension,
    resume_if_paid_up,
)
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.customers.models import PaymentPreference
from isocnet.customers.services import customer_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.outbox.queue import notice_queue
from isocnet.subscriptions.models import Subscription, SubscriptionStatus
from isocnet.subscriptions.services import (
    subscriptions_suspend_for_nonpayment,
)

OVERDUE_KINDS = (MessageKind.OVERDUE_1, MessageKind.OVERDUE_2, MessageKind.OVERDUE_3)


@dataclass
class DunningCounts:
    marked_overdue: int = 0
    notices: int = 0
    late_fees: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    plans_kept: int = 0
    plans_broken: int = 0
    suspended_customers: int = 0
    reactivated_customers: int = 0
    to_collect: int = 0


def _invoice_context(invoice: Invoice, date: dt.date, policy: Policy) -> dict:
    """What a dunning notice states. The suspension date it names is the
    calendar's (due + the policy's days) or, when runs were missed and the
    final notice goes out late, the warning days after today: the customer
    always has the warning that long. A late fee still to come is named
    with its amount and day."""
    warned = date + dt.timedelta(days=policy.suspension_warning_days)
    context = {
        "number": invoice.number,
        "balance": invoice.balance.as_string(),
        "due_date": invoice.due_date.isoformat(),
        "suspension_date": max(policy.suspension_date(invoice.due_date), warned).isoformat(),
    }
    if policy.late_fees:
        fee_day = policy.late_fee_date(invoice.due_date)
        fee = policy.late_fee_amount(fee_base(invoice))
        if (
            fee_day > date
            and fee.minor() > 0
            and not LateFee.objects.filter(invoice=invoice).exists()
        ):
            context.update(late_fee=fee.as_string(), late_fee_date=fee_day.isoformat())
    return context


def _final_notice_matured(invoice_ids: list[int], date: dt.date, policy: Policy) -> set[int]:
    """The invoices whose final notice was queued at least the policy's
    warning days before ``date``: only those may suspend."""
    latest = date - dt.timedelta(days=policy.suspension_warning_days)
    return {
        invoice_id
        for invoice_id, queued in OutboxMessage.objects.filter(
            invoice_id__in=invoice_ids, kind=MessageKind.OVERDUE_3
        ).values_list("invoice_id", "created_at")
        if clock.localdate(queued) <= latest
    }


def overdue_step(
    *, date: dt.date, actor: Actor, dry_run: bool = False, only: list[int] | None = None
) -> DunningCounts:
    """The run's collections for ``date``, step by step (each idempotent).
    ``only``: these customers alone (a customer's timeline: operations.timeline)."""
    with pinned() as policy:
        return _overdue_step(date=date, actor=actor, dry_run=dry_run, only=only, policy=policy)


def _overdue_step(
    *, date: dt.date, actor: Actor, dry_run: bool, only: list[int] | None, policy: Policy
) -> DunningCounts:
    counts = DunningCounts()
    if not dry_run:
        counts.promises_kept, counts.promises_broken = promises_check(
            date=date, actor=actor, only=only
        )
        counts.plans_kept, counts.plans_broken = plans_check(date=date, actor=actor, only=only)
    open_invoices = not_held(
        scoped(Invoice.objects.filter(status__in=OPEN_STATUSES), only).select_related("customer")
    )
    _mark_overdue(date, counts, dry_run, only)
    _reminders(open_invoices, date, counts, dry_run, policy)
    _overdue_notices(open_invoices, date, counts, dry_run, policy)
    if not dry_run:
        counts.late_fees = late_fees_charge(date=date, actor=actor, only=only)
    suspended = _suspend(date, actor, counts, dry_run, policy, only)
    _reactivate(date, actor, counts, dry_run, skip=suspended, only=only)
    # auto-debit invoices due: collection (operations.auto_debit) charges them
    counts.to_collect = (
        scoped(Invoice.objects.filter(status__in=OPEN_STATUSES), only)
        .filter(due_date__lte=date, customer__payment_method=PaymentPreference.CARD)
        .count()
    )
    return counts


def _mark_overdue(date: dt.date, counts: DunningCounts, dry_run: bool, only) -> None:
    for invoice_id, due_date in scoped(
        Invoice.objects.filter(
            status__in=OPEN_STATUSES, due_date__lt=date, overdue_since__isnull=True
        ),
        only,
    ).values_list("pk", "due_date"):
        counts.marked_overdue += 1
        if not dry_run:
            Invoice.objects.filter(pk=invoice_id, overdue_since__isnull=True).update(
                overdue_since=due_date + dt.timedelta(days=1)
            )


def _reminders(
    open_invoices, date: dt.date, counts: DunningCounts, dry_run: bool, policy: Policy
) -> None:
    """A reminder before the due date (check payers; card payers are charged)."""
    if not policy.reminder_days_before_due:
        return
    window_start = date + dt.timedelta(days=1)
    window_end = date + dt.timedelta(days=policy.reminder_days_before_due)
    for invoice in open_invoices.filter(
        due_date__gte=window_start, due_date__lte=window_end
    ).exclude(customer__payment_method=PaymentPreference.CARD):
        reminder_day = invoice.due_date - dt.timedelta(days=policy.reminder_days_before_due)
        if invoice.issue_date >= reminder_day:
            continue  # issued inside the window: the invoice itself is the reminder
        counts.notices += _queue(
            invoice, MessageKind.REMINDER, f"reminder:{invoice.pk}", dry_run, date, policy
        )


def _overdue_notices(
    open_invoices, date: dt.date, counts: DunningCounts, dry_run: bool, policy: Policy
) -> None:
    """The latest overdue notice that has come due, once per invoice."""
    first_day = policy.notice_days[0]
    overdue = list(open_invoices.filter(due_date__lte=date - dt.timedelta(days=first_day)))
    sent = _sent_overdue_steps([inv.pk for inv in overdue])
    for invoice in overdue:
        days_late = (date - invoice.due_date).days
        step = max(i for i, d in enumerate(policy.notice_days) if days_late >= d)
        if sent.get(invoice.pk, -1) >= step:
            continue
        counts.notices += _queue(
            invoice,
            OVERDUE_KINDS[step],
            f"{OVERDUE_KINDS[step]}:{invoice.pk}",
            dry_run,
            date,
            policy,
        )


def _suspend(
    date: dt.date, actor: Actor, counts: DunningCounts, dry_run: bool, policy: Policy, only
) -> list[int]:
    """Suspension for non-payment: past the suspension date, and the final
    notice queued the warning days ago at least (after missed runs the
    calendar may say so before the customer was ever warned); never for an
    account that owes nothing once its credit is counted, nor for held
    invoices. Returns the customers past their suspension date."""
    customers_due = customers_past_suspension(date, only)
    due = list(
        past_suspension(date).filter(customer_id__in=customers_due).values_list("pk", "customer_id")
    )
    matured = _final_notice_matured([pk for pk, _ in due], date, policy)
    for customer_id in sorted({customer_id for pk, customer_id in due if pk in matured}):
        if dry_run:
            counts.suspended_customers += Subscription.objects.filter(
                customer_id=customer_id, status=SubscriptionStatus.ACTIVE
            ).exists()
            continue
        with transaction.atomic():
            customer_lock(customer_id)
            if subscriptions_suspend_for_nonpayment(actor=actor, customer_id=customer_id):
                counts.suspended_customers += 1
            for invoice in past_suspension(date).filter(customer_id=customer_id):
                counts.notices += notice_queue(
                    kind=MessageKind.SUSPENSION,
                    key=f"suspension:{invoice.pk}",
                    customer_id=customer_id,
                    invoice_id=invoice.pk,
                    context=_invoice_context(invoice, date, policy),
                )
    return customers_due


def _reactivate(
    date: dt.date, actor: Actor, counts: DunningCounts, dry_run: bool, *, skip: list[int], only
) -> None:
    """Accounts paid up come back (payments also do this at once)."""
    waiting = set(
        scoped(
            Subscription.objects.filter(
                status=SubscriptionStatus.SUSPENDED, suspended_for_nonpayment=True
            ),
            only,
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )
    for customer_id in sorted(waiting - set(skip)):
        if dry_run:
            counts.reactivated_customers += 1
            continue
        counts.reactivated_customers += bool(
            resume_if_paid_up(actor=actor, customer_id=customer_id, date=date)
        )


def _queue(
    invoice: Invoice, kind: str, key: str, dry_run: bool, date: dt.date, policy: Policy
) -> int:
    if dry_run:
        return int(not OutboxMessage.objects.filter(dedupe_key=key).exists())
    with transaction.atomic():
        return int(
            notice_queue(
                kind=kind,
                key=key,
                customer_id=invoice.customer_id,
                invoice_id=invoice.pk,
                context=_invoice_context(invoice, date, policy),
            )
        )


def _sent_overdue_steps(invoice_ids: list[int]) -> dict[int, int]:
    steps: dict[int, int] = {}
    for invoice_id, kind in OutboxMessage.objects.filter(
        invoice_id__in=invoice_ids, kind__in=OVERDUE_KINDS
    ).values_list("invoice_id", "kind"):
        steps[invoice_id] = max(steps.get(invoice_id, -1), OVERDUE_KINDS.index(kind))
    return steps
