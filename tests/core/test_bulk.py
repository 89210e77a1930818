"""core.bulk: rows written as tuples (COPY on PostgreSQL, executemany on
SQLite) are the rows a model instance would have written — defaults,
JSON, dates, decimals — and ids taken ahead are never handed out twice."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from isocnet.core import clock
from isocnet.core.bulk import ids_take, rows_write
from isocnet.invoicing.models import Invoice, InvoiceLine
from tests.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)  # ids and rollbacks as in production


def test_rows_written_as_tuples_read_back_as_a_model_instance_would_write_them():
    customer = make_customer()
    now = clock.now()
    with transaction.atomic():
        (pk,) = ids_take(Invoice, 1)
        rows_write(
            Invoice,
            (
                "id",
                "customer_id",
                "currency",
                "due_date",
                "created_at",
                "subtotal_minor",
                "total_minor",
                "balance_minor",
                "bill_to",
            ),
            [(pk, customer.pk, "USD", dt.date(2026, 12, 21), now, 4995, 4995, 4995, {"n": "Ł"})],
        )
        rows_write(
            InvoiceLine,
            (
                "invoice_id",
                "position",
                "description",
                "quantity",
                "unit_price_minor",
                "amount_minor",
                "taxes",
            ),
            [(pk, 1, "Fiber 100", Decimal("1.5000"), 3330, 4995, [{"name": "Tax"}])],
        )
    invoice = Invoice.objects.get(pk=pk)
    assert (invoice.status, invoice.series, invoice.notes, invoice.amount_paid_minor) == (
        "draft",
        "",
        "",
        0,
    )
    assert invoice.bill_to == {"n": "Ł"}
    assert invoice.due_date == dt.date(2026, 12, 21)
    assert invoice.created_at == now
    line = invoice.lines.get()
    assert (line.quantity, line.kind, line.taxes) == (Decimal("1.5"), "charge", [{"name": "Tax"}])
    # a row made the ordinary way next gets the next id
    assert Invoice.objects.create(customer=customer, currency="USD", created_at=now).pk > pk


def test_ids_taken_are_ascending_and_never_handed_out_again_even_after_a_rollback():
    customer = make_customer()
    first = ids_take(Invoice, 3)
    assert first == sorted(first) and len(set(first)) == 3
    with pytest.raises(RuntimeError), transaction.atomic():
        ids_take(Invoice, 5)
        raise RuntimeError("rolled back")
    later = Invoice.objects.create(customer=customer, currency="USD", created_at=clock.now()).pk
    assert later > max(first)
    assert not set(ids_take(Invoice, 4)) & {*first, later}


def test_the_statements_are_in_djangos_query_log():
    customer = make_customer()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        written = rows_write(
            Invoice,
            ("customer_id", "currency", "created_at"),
            [(customer.pk, "USD", clock.now()) for _ in range(3)],
        )
    assert written == 3
    assert any("-- 3 rows" in q["sql"] for q in queries.captured_queries)
