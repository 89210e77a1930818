"""The billing run through real Celery workers on Redis on loopback, with
PostgreSQL: the same end state and invariants as in one process."""

import datetime as dt
import json
import socket
from collections import Counter

import pytest
from django.db.models import Count

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.invoicing.models import BillingRun, Invoice, InvoiceLine
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.models import Payment
from isocnet.payments.sandbox_models import SandboxCharge
from tests.factories import make_customer, make_plan
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import subscribe
from tests.pan import card_numbers_in
from tests.portal.conftest import with_card
from tests.subproc import wait_for

D = dt.date(2026, 12, 1)
REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def workers(settings):
    """Two worker threads (a real Celery worker, thread pool) consuming every
    queue from Redis database 15."""
    if not _redis_up():
        pytest.fail("Redis is not listening on 127.0.0.1:6379 (the scale-out test needs it)")
    from celery.contrib.testing.worker import start_worker

    from isocnet.celery_app import app

    url = "redis://127.0.0.1:6379/15"
    settings.CELERY_BROKER_URL = url
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    import redis

    redis.Redis.from_url(url).flushdb()
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        queues=["billing", "documents", "email", "collection", "celery"],
        shutdown_timeout=30,
    ):
        yield app
    app.conf.update(broker_url=None, result_backend=None)


@pytest.fixture
def published():
    """Every task message sent to the broker: its headers and body, as text."""
    from celery.signals import before_task_publish

    messages = []

    def record(sender=None, body=None, headers=None, **kwargs):
        messages.append((sender, json.dumps([headers, body], default=str)))

    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_billing_run_on_two_workers_bills_each_period_once(workers, smtp, published):
    from isocnet.operations.tasks import billing_run_distributed

    fiber = make_plan(name="Fiber 300", price="79.95")
    hosting = make_plan(name="Hosting", price="120.00", cycle="annual")
    customers = []
    for i in range(24):
        customer = make_customer(payment_method="card" if i % 3 else "check")
        if i % 3:
            with_card(customer)
        subscribe(customer, fiber, D)
        if i % 4 == 0:
            subscribe(customer, hosting, D)
        customers.append(customer)

    with clock.frozen_at(D):
        summary = billing_run_distributed(date=D, actor=Actor("test-workers"), chunk_size=5)
        again = billing_run_distributed(date=D, actor=Actor("test-workers"), chunk_size=5)

    assert summary.invoices == 24 and summary.errors == 0 and again.invoices == 0
    assert BillingRun.objects.get(pk=summary.run.pk).status == "completed"
    assert Invoice.objects.count() == 24
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 25))  # gapless across parallel chunks
    dupes = (
        InvoiceLine.objects.filter(subscription__isnull=False)
        .values("subscription", "period_start")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not dupes.exists()
    # auto debit collected on the collection queue: once per card invoice
    card_invoices = Invoice.objects.filter(customer__payment_method="card").count()
    assert Payment.objects.filter(method="card").count() == card_invoices == 16
    assert SandboxCharge.objects.count() == 16
    assert summary.collection["charged"] == 16
    # one invoice email each, delivered once by the email queue
    assert OutboxMessage.objects.filter(kind=MessageKind.INVOICE).count() == 24
    wait_for(
        lambda: not OutboxMessage.objects.filter(status="pending").exists(),
        what="the email queue sending every invoice email",
    )
    invoice_mails = [m for m in smtp.messages if m["Subject"] == "Customer Invoice"]
    assert len(invoice_mails) == 24
    assert len({m["To"] for m in invoice_mails}) == 24
    for customer in customers:
        check_invariants(customer)
    # the task messages carry ids only: no card number, no CVC
    tasks = Counter(name for name, _ in published)
    assert {
        "billing.chunk",
        "documents.render_invoices",
        "collection.collect",
        "email.deliver",
    } <= set(tasks), tasks
    text = "\n".join(body for _, body in published)
    assert card_numbers_in(text) == []
    assert "cvc" not in text.lower() and "card_number" not in text.lower()
