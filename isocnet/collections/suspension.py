"""Suspension for non-payment: the day an open invoice suspends its
customer's services (the policy's suspension day after due, never before
the final notice has had its warning days), and services brought back as
soon as nothing is past that day any more (a payment, a credit, a credit
note, a promise to pay: at once, not at the next run).

Never for an invoice that is held (a promise to pay, a dispute), and never
for an account that owes nothing once its account credit is counted."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum

from isocnet.collections.holds import not_held, scoped
from isocnet.collections.policy import current
from isocnet.core.actors import Actor
from isocnet.customers.services import customer_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.ledger.sums import available_credit_minor
from isocnet.subscriptions.models import Subscription, SubscriptionStatus
from isocnet.subscriptions.services import (
    subscriptions_resume_after_payment,
)


def suspension_date(due_date: dt.date) -> dt.date:
    """The day services are suspended for an invoice still open: the
    policy's suspension day, never before the final overdue notice (which
    names this date) has had its warning days to reach the customer."""
    return current().suspension_date(due_date)


def past_suspension(date: dt.date):
    """Open invoices past their suspension date that are not held."""
    days = current().suspension_days
    return not_held(
        Invoice.objects.filter(
            status__in=OPEN_STATUSES, due_date__lte=date - dt.timedelta(days=days)
        )
    )


def customers_past_suspension(date: dt.date, only: list[int] | None = None) -> list[int]:
    """Customers with an invoice past its suspension date who owe something
    once their account credit is counted (of ``only``, when given)."""
    ids = sorted(set(scoped(past_suspension(date), only).values_list("customer_id", flat=True)))
    return [customer_id for customer_id in ids if owes_minor(customer_id) > 0]


def owes_minor(customer_id: int) -> int:
    """What the account owes: its open invoices less its account credit."""
    open_minor = (
        Invoice.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES).aggregate(
            s=Sum("balance_minor")
        )["s"]
        or 0
    )
    return open_minor - available_credit_minor(customer_id)


def suspended_for_nonpayment(customer_ids):
    return Subscription.objects.filter(
        customer_id__in=customer_ids,
        status=SubscriptionStatus.SUSPENDED,
        suspended_for_nonpayment=True,
    )


def resume_many_if_paid_up(*, actor: Actor, customer_ids, date: dt.date) -> int:
    """``resume_if_paid_up`` for many customers: one look-up for them all,
    then each customer with a suspended service on its own."""
    with_suspended = set(
        suspended_for_nonpayment(list(customer_ids)).values_list("customer_id", flat=True)
    )
    return sum(
        _resume_if_nothing_past_suspension(actor=actor, customer_id=customer_id, date=date)
        for customer_id in sorted(with_suspended)
    )


def resume_if_paid_up(*, actor: Actor, customer_id: int, date: dt.date) -> int:
    """Resume services suspended for non-payment when no open invoice of the
    customer is past its suspension date. Call inside or outside a
    transaction; it locks the customer."""
    if not suspended_for_nonpayment([customer_id]).exists():
        return 0  # nearly every payment: nothing to resume, no lock needed
    return _resume_if_nothing_past_suspension(actor=actor, customer_id=customer_id, date=date)


def _resume_if_nothing_past_suspension(*, actor: Actor, customer_id: int, date: dt.date) -> int:
    """For a customer known to have a service suspended for non-payment."""
    with transaction.atomic():
        customer_lock(customer_id)
        if (
            past_suspension(date).filter(customer_id=customer_id).exists()
            and owes_minor(customer_id) > 0
        ):
            return 0
        return subscriptions_resume_after_payment(actor=actor, customer_id=customer_id)
