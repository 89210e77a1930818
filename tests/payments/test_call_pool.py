"""Auto debit's gateway calls side by side (operations.call_pool): with a
gateway that takes its time, the calls overlap — never more than
AUTO_DEBIT_CONCURRENCY at once, never faster than AUTO_DEBIT_RATE — and
every invoice ends exactly as the calls one after another leave it: the
same payments, declines, unknowns for reconciliation, emails, and no card
charged twice. PostgreSQL: threads need connections of their own to a real
server (the tests' SQLite is one in-memory connection)."""

from __future__ import annotations

import threading
import time

import pytest

from isocnet.invoicing.models import Invoice
from isocnet.operations.call_pool import CallPool, Pacer
from isocnet.payments.gateways.sandbox import SandboxGateway
from isocnet.payments.models import GatewayCall, Payment, PaymentMethod, SandboxCharge
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import run
from tests.payments.test_collection import card_customer
from tests.payments.test_collection_batches import (
    DUE,
    EXPECTED,
    EXPECTED_COUNTS,
    TOKENS,
    outcome,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class InFlight:
    """Wraps the sandbox's charge: how many calls were in it at once, and on
    which threads."""

    def __init__(self, monkeypatch) -> None:
        self.now = self.most = 0
        self.threads: set[str] = set()
        self.lock = threading.Lock()
        real = SandboxGateway.charge
        tracker = self

        def charge(gateway, **kwargs):
            with tracker.lock:
                tracker.now += 1
                tracker.most = max(tracker.most, tracker.now)
                tracker.threads.add(threading.current_thread().name)
            try:
                return real(gateway, **kwargs)
            finally:
                with tracker.lock:
                    tracker.now -= 1

        monkeypatch.setattr(SandboxGateway, "charge", charge)


def test_overlapping_calls_end_each_invoice_as_calls_in_turn_do(settings, monkeypatch):
    settings.AUTO_DEBIT_CONCURRENCY = 4
    settings.SANDBOX_LATENCY_MS = 150  # a real processor's round trip
    flight = InFlight(monkeypatch)
    customers = [card_customer(token=token) for token in TOKENS]
    summary = run(DUE)
    assert summary.collection == EXPECTED_COUNTS
    assert outcome(customers) == EXPECTED
    assert 2 <= flight.most <= 4, flight.most
    assert all(name.startswith("gateway-call-") for name in flight.threads)
    assert SandboxCharge.objects.count() == 3 + 3 + 1
    # the next morning the two unknowns are reconciled from the gateway's
    # record: the one it charged is paid once, the one it never saw retried
    run(DUE.replace(day=2))
    charged_then_silent = customers[TOKENS.index("tok_timeoutAfterCharge")]
    assert charged_then_silent.invoices.get().status == "paid"
    assert (
        SandboxCharge.objects.filter(
            idempotency_key__in=GatewayCall.objects.filter(customer=charged_then_silent).values(
                "idempotency_key"
            )
        ).count()
        == 1
    )
    assert Payment.objects.filter(customer=charged_then_silent).count() == 1
    for customer in customers:
        check_invariants(customer)


def test_a_hundred_cards_at_once_none_charged_twice(settings, monkeypatch):
    settings.AUTO_DEBIT_CONCURRENCY = 20
    settings.COLLECTION_BATCH = 30  # four batches, the last one short
    settings.SANDBOX_LATENCY_MS = 50
    flight = InFlight(monkeypatch)
    customers = [card_customer() for _ in range(100)]
    summary = run(DUE)
    assert summary.collection["charged"] == 100
    assert flight.most > 1
    assert SandboxCharge.objects.count() == 100
    assert SandboxCharge.objects.values("idempotency_key").distinct().count() == 100
    assert Payment.objects.count() == 100
    assert not Invoice.objects.exclude(status="paid").exists()
    assert not GatewayCall.objects.filter(status="pending").exists()
    for customer in customers[::10]:
        check_invariants(customer)


def test_an_error_in_one_call_is_raised_after_the_others_end_and_reconciled_once(
    settings, monkeypatch
):
    """A fault the gateway client does not expect (a bug, a broken
    connection) in one call: the others are still made and answered, the
    run stops with the error, and every call is left pending — settled the
    next morning from the gateway's record, each card charged once."""
    settings.AUTO_DEBIT_CONCURRENCY = 4
    settings.SANDBOX_LATENCY_MS = 50
    customers = [card_customer() for _ in range(6)]
    victim = customers[3]
    token = PaymentMethod.objects.get(customer=victim).token
    real = SandboxGateway.charge

    def charge(gateway, **kwargs):
        if kwargs["card_token"] == token:
            raise RuntimeError("connection reset by peer")
        return real(gateway, **kwargs)

    monkeypatch.setattr(SandboxGateway, "charge", charge)
    with pytest.raises(RuntimeError, match="connection reset"):
        run(DUE)
    assert SandboxCharge.objects.count() == 5  # every other call reached the gateway
    assert GatewayCall.objects.filter(status="pending").count() == 6
    assert not Payment.objects.exists()

    monkeypatch.setattr(SandboxGateway, "charge", real)
    run(DUE.replace(day=2))  # reconciliation, then the retry of the one never sent
    assert SandboxCharge.objects.count() == 6
    assert Payment.objects.count() == 6
    assert not Invoice.objects.exclude(status="paid").exists()
    for customer in customers:
        check_invariants(customer)


def test_calls_in_the_callers_transaction_are_made_in_turn_on_its_thread():
    from django.db import transaction

    seen = []
    with CallPool(size=8, rate=1000) as pool, transaction.atomic():
        results = pool.map(lambda i: seen.append(threading.current_thread().name) or i, [1, 2, 3])
    assert results == [1, 2, 3]
    assert set(seen) == {threading.current_thread().name}


def test_the_pacer_spaces_starts_across_threads():
    pacer = Pacer(rate=40)  # one start every 25 ms
    starts, lock = [], threading.Lock()

    def go():
        for _ in range(5):
            pacer.wait()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=go) for _ in range(4)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 20
    # the 20th start's slot is 19 intervals after the first, which is no
    # earlier than `began`; sleeps never end early (a busy machine only adds)
    assert max(starts) - began >= 19 * 0.025
