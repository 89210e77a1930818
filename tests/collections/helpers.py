import datetime as dt

from isocnet.collections.policy import policy_update
from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.notifications.rendering import render_into
from isocnet.outbox.models import OutboxMessage
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe

D = dt.date


def days(first: dt.date, last: dt.date, *, twice: bool = False):
    """Run the daily billing run on each day from ``first`` to ``last``."""
    day = first
    while day <= last:
        run(day)
        if twice:
            run(day)  # a second run the same day changes nothing
        day += dt.timedelta(days=1)


def policy(**changes):
    with clock.frozen_at(D(2026, 11, 1)):
        return policy_update(actor=ACTOR, **changes)


def check_payer(price="49.95"):
    """A check customer with a December invoice due 12/01 (issued 11/17)."""
    customer = make_customer(payment_method="check")
    subscribe(customer, make_plan(price=price), D(2026, 12, 1))
    run(D(2026, 11, 17))
    return customer, Invoice.objects.get(customer=customer, due_date=D(2026, 12, 1))


def kinds(customer):
    return list(
        OutboxMessage.objects.filter(customer=customer)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def text_of(customer, kind):
    message = OutboxMessage.objects.filter(customer=customer, kind=kind).order_by("id").last()
    with clock.frozen_at(clock.localdate(message.created_at)):
        render_into(message)
    return message.subject, " ".join(message.body_text.split())
