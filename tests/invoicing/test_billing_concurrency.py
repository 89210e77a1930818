"""Exactly once under concurrency and crashes (PostgreSQL)."""

import datetime as dt
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connections

from isocnet.core import clock
from isocnet.invoicing.models import Invoice, InvoiceLine
from isocnet.operations.billing_run import billing_run
from isocnet.outbox.models import OutboxMessage
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import RUNNER, subscribe
from tests.subproc import isocnet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = dt.date
DAY = D(2026, 12, 1)


def build(customers: int, services_each: int = 2) -> None:
    fiber, ip = make_plan(name="Fiber", price="49.95"), make_plan(name="Static IP", price="10.00")
    for _ in range(customers):
        customer = make_customer()
        subscribe(customer, fiber, DAY)
        if services_each > 1:
            subscribe(customer, ip, DAY)


def assert_exactly_once(customers: int, lines: int) -> None:
    assert InvoiceLine.objects.count() == lines
    periods = Counter(InvoiceLine.objects.values_list("subscription_id", "period_start"))
    assert max(periods.values()) == 1  # no period billed twice
    assert Invoice.objects.count() == customers
    assert Counter(Invoice.objects.values_list("customer_id", flat=True)).most_common(1)[0][1] == 1
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, customers + 1))  # no gap, no duplicate
    assert OutboxMessage.objects.filter(kind="invoice").count() == customers  # one email each
    assert {t for (t,) in Invoice.objects.values_list("total_minor")} == {5995}


def test_two_runs_started_together_bill_1000_services_once():
    build(500)
    barrier = threading.Barrier(2)
    results = []

    def go():
        try:
            barrier.wait()
            with clock.frozen_at(DAY):
                results.append(billing_run(date=DAY, actor=RUNNER))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.errors for r in results) == [0, 0]
    assert sum(r.invoices for r in results) == 500
    assert_exactly_once(customers=500, lines=1000)


def _bill(tmp_path: Path) -> subprocess.Popen:
    return isocnet("bill", "--date", DAY.isoformat(), var_dir=tmp_path)


def test_a_run_killed_midway_and_rerun_ends_as_an_uninterrupted_run(tmp_path):
    build(600, services_each=2)
    connections.close_all()
    victim = _bill(tmp_path)
    deadline = time.monotonic() + 120
    while Invoice.objects.count() < 100:
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = Invoice.objects.count()
    assert 100 <= killed_at < 600, "the kill must land partway"
    # no half-issued invoice: every invoice is issued, numbered, with its lines and its email
    assert not Invoice.objects.filter(status="draft").exists()
    assert InvoiceLine.objects.count() == 2 * killed_at
    assert OutboxMessage.objects.count() == killed_at
    rerun = _bill(tmp_path)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"invoices issued: {600 - killed_at}" in out
    assert_exactly_once(customers=600, lines=1200)
