import datetime as dt

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.operations.billing_run import billing_run
from isocnet.subscriptions.services import subscription_create
from tests.factories import ACTOR

RUNNER = Actor("test-run")


def run(day: dt.date, **kw):
    with clock.frozen_at(day):
        return billing_run(date=day, actor=RUNNER, **kw)


def subscribe(customer, plan, start: dt.date, **kw):
    with clock.frozen_at(min(start, clock.today())):
        return subscription_create(
            actor=ACTOR, customer_id=customer.pk, plan_id=plan.pk, start_date=start, **kw
        )
