"""Suspension for non-payment, as invoicing knows it: the day an open
invoice suspends its customer's services (due + SUSPEND_AFTER_DAYS, never
before the final notice has had SUSPENSION_WARNING_DAYS), and services
brought back as soon as nothing is past that day any more (a payment, a
credit, a credit note: at once, not at the next run)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from isocnet.core.actors import Actor
from isocnet.customers.services import customer_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.subscriptions.models import Subscription, SubscriptionStatus
from isocnet.subscriptions.services import (
    subscriptions_resume_after_payment,
)


def suspension_date(due_date: dt.date) -> dt.date:
    """The day services are suspended for an invoice still open: after
    SUSPEND_AFTER_DAYS, and never before the final overdue notice (which names
    this date) has had SUSPENSION_WARNING_DAYS to reach the customer."""
    days = max(
        settings.SUSPEND_AFTER_DAYS,
        settings.OVERDUE_NOTICE_DAYS[-1] + settings.SUSPENSION_WARNING_DAYS,
    )
    return due_date + dt.timedelta(days=days)


def past_suspension(date: dt.date):
    days = (suspension_date(date) - date).days
    return Invoice.objects.filter(
        status__in=OPEN_STATUSES, due_date__lte=date - dt.timedelta(days=days)
    )


def customers_past_suspension(date: dt.date) -> list[int]:
    return sorted(set(past_suspension(date).values_list("customer_id", flat=True)))


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
        if past_suspension(date).filter(customer_id=customer_id).exists():
            return 0
        return subscriptions_resume_after_payment(actor=actor, customer_id=customer_id)
