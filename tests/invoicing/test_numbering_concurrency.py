"""Gapless invoice numbers when many issuers run at once (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from isocnet.invoicing.models import Invoice
from isocnet.invoicing.services import invoice_issue
from tests.factories import ACTOR, make_customer, make_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_threads_issue_400_invoices_numbered_1_to_400(today):
    # 40 customers so the issuers do not simply queue on one account lock
    customers = [make_customer() for _ in range(40)]
    drafts = [make_invoice(customers[i % 40], issue=False).pk for i in range(400)]
    barrier = threading.Barrier(8)

    def issue_chunk(chunk):
        try:
            barrier.wait()
            for invoice_id in chunk:
                invoice_issue(actor=ACTOR, invoice_id=invoice_id)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(issue_chunk, [drafts[i::8] for i in range(8)]))

    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"2026-{n:06d}" for n in range(1, 401)]
    assert connection.vendor == "postgresql"


def test_a_rolled_back_issue_leaves_no_gap(today):
    customer = make_customer()
    first = make_invoice(customer, issue=False)
    second = make_invoice(customer, issue=False)
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_issue(actor=ACTOR, invoice_id=first.pk)
        raise RuntimeError("crash after numbering, before commit")
    assert invoice_issue(actor=ACTOR, invoice_id=second.pk).number == "2026-000001"
    assert invoice_issue(actor=ACTOR, invoice_id=first.pk).number == "2026-000002"
