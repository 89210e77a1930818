"""Deposits under PostgreSQL's concurrency: the same bank file imported by
four processes at once posts each check once; four clerks posting one
batch post it once."""

import pytest

from isocnet.core.errors import Conflict
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.batches import batch_item_add, batch_open, batch_post
from isocnet.deposits.models import DepositItem
from isocnet.invoicing.models import InvoiceStatus
from isocnet.payments.models import Payment, Receipt
from tests.collections.test_concurrency import together
from tests.deposits.bankfiles import Item, bai2_file
from tests.deposits.helpers import check_payer, slip_of
from tests.factories import ACTOR
from tests.invariants import check_invariants

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_bank_file_imported_four_times_at_once_posts_each_check_once(today):
    payers = [check_payer() for _ in range(20)]
    content = bai2_file(
        [
            Item(
                f"BR{n:04d}", invoice.balance_minor, check_number=str(n), scan_line=slip_of(invoice)
            )
            for n, (_, invoice) in enumerate(payers)
        ],
        today,
    )

    results = together(
        lambda: bank_file_import(actor=ACTOR, format="bai2", filename="day.bai", content=content)
    )

    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.posted for r in results) == 20
    assert Payment.objects.count() == 20 and Receipt.objects.count() == 20
    assert DepositItem.objects.count() == 20
    for customer, invoice in payers:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        check_invariants(customer)


def test_four_clerks_posting_one_batch_post_it_once(today):
    payers = [check_payer() for _ in range(10)]
    batch = batch_open(actor=ACTOR, reference="DS-RACE")
    for _, invoice in payers:
        batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(invoice))

    results = together(lambda: batch_post(actor=ACTOR, batch_id=batch.pk))

    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    assert Payment.objects.count() == 10
