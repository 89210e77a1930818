"""Concurrent payments on one invoice never over-apply (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from isocnet.core.errors import Conflict
from isocnet.invoicing.models import InvoiceStatus
from isocnet.payments.models import Payment
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_threads_paying_one_invoice(today):
    customer = make_customer()
    invoice = make_invoice(customer, [("Fiber 1 Gbps", "89.95", None)])
    barrier = threading.Barrier(20)
    outcomes = []

    def pay(i):
        try:
            barrier.wait()
            for _ in range(5):
                try:
                    payment_record(
                        actor=ACTOR,
                        customer_id=customer.pk,
                        amount="7.00",
                        method="check",
                        reference=f"thread {i}",
                    )
                    outcomes.append("ok")
                except Conflict:
                    outcomes.append("conflict")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(pay, range(20)))

    invoice.refresh_from_db()
    assert outcomes.count("ok") == 100  # no payment lost
    assert Payment.objects.filter(customer=customer).count() == 100
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.amount_paid.as_string() == "89.95"  # = min(total, paid)
    assert account_summary(customer).credit.as_string() == "610.05"  # 700.00 - 89.95
    check_invariants(customer)
