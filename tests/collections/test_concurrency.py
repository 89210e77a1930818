"""Late fees and holds under concurrency (PostgreSQL): two daily runs on
the same day charge each fee once; two clerks recording a promise for the
same account make one."""

import threading

import pytest
from django.db import connections

from isocnet.collections.late_fees import late_fees_charge
from isocnet.collections.models import LateFee, Promise
from isocnet.collections.promises import promise_create
from isocnet.core import clock
from isocnet.core.errors import Conflict
from isocnet.invoicing.models import Charge
from tests.collections.helpers import D, check_payer, policy
from tests.factories import ACTOR
from tests.invoicing.billing_helpers import RUNNER

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def together(work, n: int = 4) -> list:
    """Run ``work()`` in ``n`` threads released at once; their results or errors."""
    barrier = threading.Barrier(n)
    out = []

    def go():
        try:
            barrier.wait(timeout=120)
            out.append(work())
        except Exception as exc:
            out.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "a run did not finish within 5 minutes"
    return out


def test_runs_racing_on_the_same_day_charge_each_late_fee_once():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    invoices = [check_payer()[1] for _ in range(10)]

    def run():
        with clock.frozen_at(D(2026, 12, 11)):
            return late_fees_charge(date=D(2026, 12, 11), actor=RUNNER)

    charged = together(run)
    assert sum(charged) == 10, charged  # ten fees in all, whoever charged them
    assert LateFee.objects.count() == 10
    assert sorted(LateFee.objects.values_list("invoice_id", flat=True)) == sorted(
        i.pk for i in invoices
    )
    assert Charge.objects.filter(kind="late_fee").count() == 10  # no charge left without its fee


def test_clerks_racing_to_record_a_promise_make_one():
    customer, _ = check_payer()

    def promise():
        with clock.frozen_at(D(2026, 12, 5)):
            return promise_create(
                actor=ACTOR, customer_id=customer.pk, amount="49.95", promised_on=D(2026, 12, 15)
            )

    results = together(promise)
    assert Promise.objects.filter(customer=customer).count() == 1
    assert sum(isinstance(r, Promise) for r in results) == 1
    assert all(isinstance(r, (Promise, Conflict)) for r in results), results
