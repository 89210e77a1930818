"""Promises to pay and disputes: holds on the collections policy.

A promise covers the customer's open invoices when it is made: no notices,
late fees or suspension for them until the promised date (and a service
suspended for them comes back at once). Payments count towards it
(``promise_payments_received``, called by payments in the payment's
transaction); paid in full, or its invoices paid off, it is kept. The day
after the promised date, unpaid, the run breaks it: the customer is told,
and the policy resumes at the step it would have reached by then.

Staff may promise up to PROMISE_STAFF_MAX_DAYS ahead; a customer in the
portal up to the policy's ``promise_max_days``, one at a time, and not
within PORTAL_PROMISE_COOLDOWN_DAYS of a broken one. In the portal a
promise is at least what is overdue (what is owed when nothing is overdue
yet) — a promise of $0.01 holds nothing back — and a customer makes at most
the policy's ``portal_promises_max`` in any ``portal_promises_days``."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from isocnet.collections.hold_states import hold_cancel, hold_move, holds_settle
from isocnet.collections.models import PROMISE_TRANSITIONS, Dispute, Promise, PromiseStatus
from isocnet.collections.policy import current
from isocnet.collections.suspension import owes_minor, resume_if_paid_up, suspension_date
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.validation import clean_date, clean_line, clean_money
from isocnet.customers.services import customer_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue

PROMISE_STAFF_MAX_DAYS = 90
PORTAL_PROMISE_COOLDOWN_DAYS = 180
SOURCES = ("staff", "portal", "api")


def _move(promise: Promise, new: str) -> None:
    """The one writer of a promise's status (PROMISE_TRANSITIONS)."""
    hold_move(promise, new, PROMISE_TRANSITIONS, what="a promise")


def promise_create(
    *,
    actor: Actor,
    customer_id: int,
    amount,
    promised_on,
    source: str = "staff",
    note: str = "",
) -> Promise:
    """Record a promise to pay ``amount`` by ``promised_on``."""
    require(actor, "promise")
    if source not in SOURCES:
        raise InvalidInput(f"must be one of {', '.join(SOURCES)}", field="source")
    promised_on = clean_date(promised_on, "promised_on")
    note = clean_line(note, "note", max_length=300) if note else ""
    today = clock.today()
    _check_date(promised_on, today, source)
    with transaction.atomic():
        customer = customer_lock(customer_id)
        money = clean_money(amount, "amount", customer.currency, allow_zero=False)
        _check_may_promise(customer, money, source)
        promise = Promise.objects.create(
            customer=customer,
            amount_minor=money.minor(),
            currency=customer.currency,
            promised_on=promised_on,
            source=source,
            note=note,
            created_at=clock.now(),
            created_by=actor.label,
        )
        covered = list(
            Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by("id")
        )
        promise.invoices.set(covered)
        audit_record(
            actor=actor,
            action="promise.create",
            obj=promise,
            customer_id=customer.pk,
            after={
                "amount": money.as_string(),
                "promised_on": promised_on.isoformat(),
                "source": source,
                "invoices": [i.number for i in covered],
                "note": note,
            },
        )
        notice_queue(
            kind=MessageKind.PROMISE_MADE,
            key=f"promise_made:{promise.pk}",
            customer_id=customer.pk,
            invoice_id=covered[0].pk,
            context={"promise": promise.pk},
            known_new=True,
        )
    resume_if_paid_up(actor=actor, customer_id=customer_id, date=today)
    return promise


def _check_date(promised_on: dt.date, today: dt.date, source: str) -> None:
    limit = current().promise_max_days if source == "portal" else PROMISE_STAFF_MAX_DAYS
    if promised_on < today:
        raise InvalidInput("must be today or later", field="promised_on")
    if promised_on > today + dt.timedelta(days=limit):
        raise InvalidInput(f"must be within {limit} days of today", field="promised_on")


def overdue_minor(customer_id: int) -> int:
    """What is past its due date on the account, less its account credit."""
    today = clock.today()
    past = sum(
        Invoice.objects.filter(
            customer_id=customer_id, status__in=OPEN_STATUSES, due_date__lt=today
        ).values_list("balance_minor", flat=True)
    )
    return max(min(past, owes_minor(customer_id)), 0)


def _check_portal_promise(customer, money: Money, owed: int) -> None:
    policy = current()
    at_least = overdue_minor(customer.pk) or owed
    if money.minor() < at_least:
        what = "overdue" if overdue_minor(customer.pk) else "owed"
        raise InvalidInput(
            f"must be at least what is {what} "
            f"({Money.from_minor(at_least, customer.currency).format()})",
            field="amount",
        )
    since = clock.now() - dt.timedelta(days=policy.portal_promises_days)
    made = Promise.objects.filter(customer=customer, source="portal", created_at__gte=since)
    if made.count() >= policy.portal_promises_max:
        raise Conflict(
            f"at most {policy.portal_promises_max} promise(s) to pay can be made here in "
            f"{policy.portal_promises_days} days; please call us to arrange a payment",
            field="promised_on",
        )


def _check_may_promise(customer, money: Money, source: str) -> None:
    """Under the customer's lock: something is owed, no more than that is
    promised, one promise at a time, and (in the portal) none soon after a
    broken one."""
    owed = owes_minor(customer.pk)
    if owed <= 0:
        raise Conflict("this account owes nothing: there is nothing to promise", field="amount")
    if money.minor() > owed:
        raise InvalidInput(
            f"is more than the account owes ({Money.from_minor(owed, customer.currency).as_string()})",
            field="amount",
        )
    if Promise.objects.filter(customer=customer, status=PromiseStatus.ACTIVE).exists():
        raise Conflict(
            "this account already has a promise to pay; it must be kept or cancelled first",
            field="promised_on",
        )
    if source == "portal":
        _check_portal_promise(customer, money, owed)
    if (
        source == "portal"
        and Promise.objects.filter(
            customer=customer,
            status=PromiseStatus.BROKEN,
            closed_at__gte=clock.now() - dt.timedelta(days=PORTAL_PROMISE_COOLDOWN_DAYS),
        ).exists()
    ):
        raise Conflict(
            "a promise to pay was broken recently; please call us to arrange a payment",
            field="promised_on",
        )


def promise_payments_received(*, actor: Actor, customer_id: int, amount_minor: int) -> None:
    """A payment of ``amount_minor`` was applied on the account (the caller
    holds the customer lock, in the payment's transaction): it counts
    towards an active promise, which is kept once paid in full."""
    promise = (
        Promise.objects.select_for_update()
        .filter(customer_id=customer_id, status=PromiseStatus.ACTIVE)
        .first()
    )
    if promise is None:
        return
    promise.paid_minor += amount_minor
    promise.save(update_fields=["paid_minor"])
    if promise.paid_minor >= promise.amount_minor or not _still_open(promise):
        _keep(promise, actor)


def _still_open(promise: Promise) -> bool:
    return promise.invoices.filter(status__in=OPEN_STATUSES).exists()


def _keep(promise: Promise, actor: Actor) -> None:
    _move(promise, PromiseStatus.KEPT)
    audit_record(
        actor=actor,
        action="promise.kept",
        obj=promise,
        customer_id=promise.customer_id,
        after={"paid": Money.from_minor(promise.paid_minor, promise.currency).as_string()},
    )


def promises_check(
    *, date: dt.date, actor: Actor, only: list[int] | None = None
) -> tuple[int, int]:
    """The run's look at promises due: each kept (paid, or its invoices
    closed) or broken (the day after its date). Returns (kept, broken)."""

    def decide(promise: Promise) -> str | None:
        if promise.paid_minor >= promise.amount_minor or not _still_open(promise):
            _keep(promise, actor)
            return PromiseStatus.KEPT
        if promise.promised_on < date:
            _break(promise, actor, date)
            return PromiseStatus.BROKEN
        return None

    answers = holds_settle(Promise, only=only, decide=decide)
    return answers.count(PromiseStatus.KEPT), answers.count(PromiseStatus.BROKEN)


def _break(promise: Promise, actor: Actor, date: dt.date) -> None:
    _move(promise, PromiseStatus.BROKEN)
    audit_record(
        actor=actor,
        action="promise.broken",
        obj=promise,
        customer_id=promise.customer_id,
        after={
            "promised": Money.from_minor(promise.amount_minor, promise.currency).as_string(),
            "paid": Money.from_minor(promise.paid_minor, promise.currency).as_string(),
            "promised_on": promise.promised_on.isoformat(),
        },
    )
    invoice = promise.invoices.filter(status__in=OPEN_STATUSES).order_by("id").first()
    notice_queue(
        kind=MessageKind.PROMISE_BROKEN,
        key=f"promise_broken:{promise.pk}",
        customer_id=promise.customer_id,
        invoice_id=invoice.pk,
        context={
            "promise": promise.pk,
            # the final notice still has its warning days before suspension
            "suspension_date": max(
                suspension_date(invoice.due_date),
                date + dt.timedelta(days=current().suspension_warning_days),
            ).isoformat(),
        },
        known_new=True,
    )


def promise_cancel(*, actor: Actor, promise_id: int, reason: str) -> Promise:
    """Staff withdraw a promise (the customer called back): the policy
    resumes at once, without a broken-promise notice."""
    return hold_cancel(
        actor=actor,
        model=Promise,
        hold_id=promise_id,
        reason=reason,
        move=_move,
        cancelled=PromiseStatus.CANCELLED,
        what="promise",
        field="promise",
        action="promise.cancel",
    )


def promise_active(customer_id: int) -> Promise | None:
    return Promise.objects.filter(customer_id=customer_id, status=PromiseStatus.ACTIVE).first()


def dispute_open(*, actor: Actor, invoice_number: str, reason: str) -> Dispute:
    """The customer disputes an invoice: it is held until resolved."""
    require(actor, "promise")
    reason = clean_line(reason, "reason", max_length=300)
    invoice_id = Invoice.objects.filter(number=invoice_number).values_list("pk", flat=True).first()
    if invoice_id is None:
        raise NotFound(f"no issued invoice numbered {invoice_number!r}", field="invoice")
    with transaction.atomic():
        invoice = Invoice.objects.get(pk=invoice_id)
        customer_lock(invoice.customer_id)
        if invoice.status not in OPEN_STATUSES:
            raise Conflict(
                f"invoice #{invoice.number} is {invoice.get_status_display().lower()}",
                field="invoice",
            )
        if Dispute.objects.filter(invoice=invoice, resolved_at__isnull=True).exists():
            raise Conflict(f"invoice #{invoice.number} is already disputed", field="invoice")
        dispute = Dispute.objects.create(
            invoice=invoice,
            customer_id=invoice.customer_id,
            reason=reason,
            opened_at=clock.now(),
            opened_by=actor.label,
        )
        audit_record(
            actor=actor,
            action="dispute.open",
            obj=dispute,
            customer_id=invoice.customer_id,
            after={"invoice": invoice.number, "reason": reason},
        )
    resume_if_paid_up(actor=actor, customer_id=invoice.customer_id, date=clock.today())
    return dispute


def dispute_resolve(*, actor: Actor, dispute_id: int, resolution: str) -> Dispute:
    """Staff settle a dispute (often with a credit note first): the policy
    resumes for what is still owed."""
    require(actor, "promise")
    resolution = clean_line(resolution, "resolution", max_length=300)
    customer_id = (
        Dispute.objects.filter(pk=dispute_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        raise NotFound(f"no dispute {dispute_id}", field="dispute")
    with transaction.atomic():
        customer_lock(customer_id)
        dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
        if dispute.resolved_at:
            raise Conflict("this dispute is already resolved", field="dispute")
        dispute.resolved_at = clock.now()
        dispute.resolved_by = actor.label
        dispute.resolution = resolution
        dispute.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit_record(
            actor=actor,
            action="dispute.resolve",
            obj=dispute,
            customer_id=customer_id,
            after={"invoice": dispute.invoice.number, "resolution": resolution},
        )
    return dispute
