"""Services (subscriptions): start, change, suspend, cancel.

What a change costs (proration) is the billing run's business; these
services record what the customer has and from when.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from isocnet.catalog.models import BillingCycle, Plan
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_changes, audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.events import events_emit
from isocnet.core.jobs import job_queue, jobs_queue
from isocnet.core.limits import check_amount
from isocnet.core.money import Money
from isocnet.core.periods import next_anchor_after
from isocnet.core.permissions import require
from isocnet.core.states import transition
from isocnet.core.validation import clean_date, clean_line, clean_money, clean_positive_int
from isocnet.customers.models import Customer, CustomerStatus
from isocnet.customers.services import customer_lock
from isocnet.subscriptions.models import SUBSCRIPTION_TRANSITIONS, Subscription, SubscriptionStatus

AUDITED = (
    "plan_id",
    "quantity",
    "price_override_minor",
    "description",
    "status",
    "next_due_date",
    "cancel_at_period_end",
    "cancellation_date",
)


def _snapshot(sub: Subscription) -> dict:
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k in AUDITED
        for v in [getattr(sub, k)]
    }


def _plan(plan_id, field: str = "plan") -> Plan:
    if isinstance(plan_id, Plan):
        return plan_id
    try:
        plan = Plan.objects.get(pk=plan_id)
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"no plan with id {plan_id}", field=field) from None
    if not plan.active:
        raise Conflict("this plan is no longer sold", field=field)
    return plan


def _price_override(price, customer: Customer, plan: Plan) -> int | None:
    if price is None:
        if plan.currency != customer.currency:
            raise InvalidInput(
                f"the plan is priced in {plan.currency} but the customer pays in {customer.currency}; "
                f"give a price in {customer.currency}",
                field="price",
            )
        return None
    return clean_money(price, "price", customer.currency).minor()


NETWORK_SYNC = "network.sync"  # core.jobs kind: the network follows the status (isocnet.network)
_EVENT_OF = {
    SubscriptionStatus.SUSPENDED: "service.suspended",
    SubscriptionStatus.CANCELLED: "service.cancelled",
}


def services_event(moves: list[tuple[Subscription, str, str]]) -> None:
    """service.suspended / resumed / cancelled / activated, for webhooks
    (the payloads are made only when someone listens)."""
    by_type: dict[str, list] = defaultdict(list)
    for sub, old, new in moves:
        if new == SubscriptionStatus.ACTIVE:
            kind = "service.resumed" if old == SubscriptionStatus.SUSPENDED else "service.activated"
        else:
            kind = _EVENT_OF.get(new)
        if kind:
            by_type[kind].append((sub, old, new))
    for kind, subs in by_type.items():
        events_emit(kind, lambda subs=subs: [_service_data(*move) for move in subs])


def _service_data(sub: Subscription, old: str, new: str) -> tuple[int, dict]:
    return (
        sub.customer_id,
        {
            "id": sub.pk,
            "customer_id": sub.customer_id,
            "plan": sub.plan.code,
            "description": sub.description,
            "status": new,
            "previous_status": old,
        },
    )


def _set_status(sub: Subscription, new: str) -> None:
    """The one way a service's status moves (this module owns it). The
    network is told in the same transaction (a job, run after commit)."""
    moved = transition(sub.status, new, SUBSCRIPTION_TRANSITIONS, what="a service")
    if moved != sub.status:
        job_queue(NETWORK_SYNC, sub.customer_id)
        services_event([(sub, sub.status, moved)])
    sub.status = moved


def subscriptions_billed(*, changes: list[tuple[Subscription, dict]], now) -> None:
    """The billing run moving services on (invoicing.billing_plan's
    service_changes): the next due date, and the status a period brings
    (pending → active when it starts, active → cancelled when it ends at
    period end), each status move checked against the table. One UPDATE per
    distinct change: most of a batch shares a handful of dates. The caller
    holds the customers' locks and writes the audit rows."""
    by_change: dict[tuple, list[int]] = defaultdict(list)
    dates_only: list[tuple[int, dt.date]] = []  # the common case: a period billed, no more
    moved, events = set(), []
    for sub, change in changes:
        if "status" in change:
            transition(sub.status, change["status"], SUBSCRIPTION_TRANSITIONS, what="a service")
            if change["status"] != sub.status:
                moved.add(sub.customer_id)
                events.append((sub, sub.status, change["status"]))
        if change.keys() == {"next_due_date"}:
            dates_only.append((sub.pk, change["next_due_date"]))
        else:
            by_change[tuple(sorted(change.items()))].append(sub.pk)
    jobs_queue(NETWORK_SYNC, moved)
    services_event(events)
    _next_due_dates_set(dates_only, now=now)
    for change, pks in by_change.items():
        Subscription.objects.filter(pk__in=pks).update(updated_at=now, **dict(change))


# One statement moves a batch's due dates on, each service its own (UPDATE …
# FROM VALUES works on PostgreSQL and on SQLite >= 3.33; chunks keep SQLite
# under 999 parameters).
_DUE_DATES_SQL = """
UPDATE {table} SET next_due_date = v.column2, updated_at = %s
  FROM (VALUES {rows}) AS v
 WHERE {table}.id = v.column1
"""


def _next_due_dates_set(pairs: list[tuple[int, dt.date]], *, now) -> None:
    table = connection.ops.quote_name(Subscription._meta.db_table)
    row = "(%s::bigint, %s::date)" if connection.vendor == "postgresql" else "(%s, %s)"
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 400):
            chunk = pairs[start : start + 400]
            cursor.execute(
                _DUE_DATES_SQL.format(table=table, rows=", ".join([row] * len(chunk))),
                [
                    connection.ops.adapt_datetimefield_value(now),
                    *(
                        value
                        for pk, date in chunk
                        for value in (pk, connection.ops.adapt_datefield_value(date))
                    ),
                ],
            )


def subscription_create(
    *,
    actor: Actor,
    customer_id: int,
    plan_id,
    start_date,
    quantity: int = 1,
    price=None,
    description: str = "",
    next_due_date=None,
    external_id: str | None = None,
) -> Subscription:
    """``next_due_date`` (default: the start date) is for services brought
    over from a previous billing system: the periods before it were billed
    there. It must fall on or after the start date."""
    require(actor, "service.change")
    start = clean_date(start_date, "start_date")
    next_due = clean_date(next_due_date, "next_due_date") if next_due_date is not None else start
    if next_due < start:
        raise InvalidInput("must not be before the start date", field="next_due_date")
    quantity = clean_positive_int(quantity, "quantity")
    description = clean_line(description, "description", max_length=200, required=False)
    plan = _plan(plan_id)
    with transaction.atomic():
        customer = customer_lock(customer_id)
        if customer.status == CustomerStatus.CLOSED:
            raise Conflict("the customer's account is closed", field="customer")
        now = clock.now()
        sub = Subscription.objects.create(
            customer=customer,
            plan=plan,
            quantity=quantity,
            price_override_minor=_price_override(price, customer, plan),
            description=description,
            external_id=external_id or None,
            start_date=start,
            next_due_date=next_due,
            anchor_day=settings.BILLING_DAY or start.day,
            status=SubscriptionStatus.ACTIVE
            if start <= clock.today()
            else SubscriptionStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        price = sub.unit_price
        check_amount(
            Money(price.amount * sub.quantity, price.currency), "quantity", what="quantity × price"
        )
        audit_record(
            actor=actor,
            action="subscription.create",
            obj=sub,
            customer_id=customer.pk,
            after=_snapshot(sub),
        )
    return sub


def subscription_lock(subscription_id) -> Subscription:
    """Lock the owning customer, then the subscription (always in that order)."""
    try:
        customer_id = Subscription.objects.values_list("customer_id", flat=True).get(
            pk=subscription_id
        )
    except (Subscription.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"no service with id {subscription_id}", field="subscription") from None
    customer_lock(customer_id)
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "customer")
        .get(pk=subscription_id)
    )


@dataclass(frozen=True)
class ServiceBefore:
    """A service as it was before a change, for what the change costs."""

    label: str
    cycle: str
    price: tuple  # (unit price, quantity)
    status: str


def service_label(sub: Subscription) -> str:
    """How a service is named on invoice lines: "Fiber 100 Mbps — 1 Main St × 2"."""
    label = f"{sub.plan.name} — {sub.description}" if sub.description else sub.plan.name
    return label if sub.quantity == 1 else f"{label} × {sub.quantity}"


def subscription_change(
    *,
    actor: Actor,
    subscription_id,
    changes: dict,
    consequences: Callable[..., dict] | None = None,
) -> Subscription:
    """Change plan, quantity, price or label; or change status (suspend,
    resume, cancel). A change of plan or quantity applies from the next
    billing period; cancellation takes effect at period end unless
    ``"immediate": true``. ``consequences(sub=, before=, actor=)``: what the
    change costs or credits (invoicing.proration), called under the lock
    before the service is saved; its answer goes into the audit row."""
    require(actor, "service.change")
    allowed = {"plan", "quantity", "price", "description", "status", "immediate"}
    for key in changes:
        if key not in allowed:
            raise InvalidInput("is not a field that can be changed", field=key)
    with transaction.atomic():
        sub = subscription_lock(subscription_id)
        before = _snapshot(sub)
        if sub.status == SubscriptionStatus.CANCELLED:
            raise Conflict("the service is cancelled", field="status")
        old = ServiceBefore(
            label=service_label(sub),
            cycle=sub.plan.cycle,
            price=(sub.unit_price, sub.quantity),
            status=sub.status,
        )
        if "plan" in changes:
            plan = _plan(changes["plan"])
            if plan.cycle == BillingCycle.ONE_TIME and sub.plan.cycle != BillingCycle.ONE_TIME:
                raise InvalidInput(
                    "a recurring service cannot move to a one-time plan", field="plan"
                )
            sub.plan = plan
            if "price" not in changes:
                sub.price_override_minor = _price_override(None, sub.customer, plan)
        if "quantity" in changes:
            sub.quantity = clean_positive_int(changes["quantity"], "quantity")
        if "price" in changes:
            sub.price_override_minor = (
                None
                if changes["price"] is None
                else _price_override(changes["price"], sub.customer, sub.plan)
            )
        if "description" in changes:
            sub.description = clean_line(
                changes["description"], "description", max_length=200, required=False
            )
        if "status" in changes:
            _apply_status(sub, changes["status"], immediate=changes.get("immediate", False))
        proration = consequences(sub=sub, before=old, actor=actor) if consequences else {}
        if (
            sub.status == SubscriptionStatus.CANCELLED
            and old.status != SubscriptionStatus.CANCELLED
        ):
            sub.next_due_date = None  # nothing more to bill
        after = _snapshot(sub)
        if after != before:
            sub.updated_at = clock.now()
            sub.save()
            audit_changes(
                actor=actor,
                action="subscription.change",
                obj=sub,
                customer_id=sub.customer_id,
                before=before,
                after=after,
                extra={"proration": proration} if proration else None,
            )
    return sub


def _apply_status(sub: Subscription, status: str, *, immediate) -> None:
    if not isinstance(immediate, bool):
        raise InvalidInput("must be true or false", field="immediate")
    valid = {s.value for s in SubscriptionStatus} - {SubscriptionStatus.PENDING}
    if status not in valid:
        raise InvalidInput(f"must be one of {', '.join(sorted(valid))}", field="status")
    today = clock.today()
    if status == SubscriptionStatus.CANCELLED:
        if immediate or sub.status == SubscriptionStatus.PENDING:
            _set_status(sub, SubscriptionStatus.CANCELLED)
            sub.cancellation_date = today
            sub.cancel_at_period_end = False
        else:
            # Ends when the period already billed runs out; the billing run
            # then sets the status (it is the one that knows the period).
            sub.cancel_at_period_end = True
            sub.cancellation_date = max(sub.next_due_date or today, today)
    elif (
        status == SubscriptionStatus.ACTIVE
        and sub.cancel_at_period_end
        and sub.status == SubscriptionStatus.ACTIVE
    ):
        sub.cancel_at_period_end = False  # "active" undoes a pending cancellation
        sub.cancellation_date = None
    else:
        resuming = (
            status == SubscriptionStatus.ACTIVE and sub.status == SubscriptionStatus.SUSPENDED
        )
        _set_status(sub, status)
        if (
            resuming
            and not sub.suspended_for_nonpayment
            and sub.next_due_date
            and sub.next_due_date < today
        ):
            # A manual hold (seasonal, vacation) is not billed: the service
            # restarts from the first period start on or after today.
            sub.next_due_date = next_anchor_after(today - dt.timedelta(days=1), sub.anchor_day)
        if status == SubscriptionStatus.SUSPENDED:
            sub.suspended_for_nonpayment = False


def subscriptions_suspend_for_nonpayment(*, actor: Actor, customer_id: int) -> int:
    """Suspend the customer's active services for non-payment. The caller
    holds the customer lock. Returns how many were suspended."""
    suspended = 0
    for sub in Subscription.objects.select_for_update().filter(
        customer_id=customer_id, status=SubscriptionStatus.ACTIVE
    ):
        before = _snapshot(sub)
        _set_status(sub, SubscriptionStatus.SUSPENDED)
        sub.suspended_for_nonpayment = True
        sub.updated_at = clock.now()
        sub.save(update_fields=["status", "suspended_for_nonpayment", "updated_at"])
        audit_record(
            actor=actor,
            action="subscription.suspend_nonpayment",
            obj=sub,
            customer_id=customer_id,
            before={"status": before["status"]},
            after={"status": sub.status},
        )
        suspended += 1
    return suspended


def subscriptions_resume_after_payment(*, actor: Actor, customer_id: int) -> int:
    """Resume services suspended for non-payment. The caller holds the
    customer lock and has checked that nothing is overdue past suspension."""
    resumed = 0
    for sub in Subscription.objects.select_for_update().filter(
        customer_id=customer_id, status=SubscriptionStatus.SUSPENDED, suspended_for_nonpayment=True
    ):
        _set_status(sub, SubscriptionStatus.ACTIVE)
        sub.suspended_for_nonpayment = False
        sub.updated_at = clock.now()
        sub.save(update_fields=["status", "suspended_for_nonpayment", "updated_at"])
        audit_record(
            actor=actor,
            action="subscription.resume_paid",
            obj=sub,
            customer_id=customer_id,
            before={"status": "suspended"},
            after={"status": "active"},
        )
        resumed += 1
    return resumed
