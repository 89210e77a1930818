"""Deposit batches keyed by a clerk: matched as keyed, posted all at once
when they agree with the deposit slip, never changed afterwards."""

import datetime as dt

import pytest

from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.models import AuditEvent
from isocnet.deposits.batches import (
    batch_item_add,
    batch_item_change,
    batch_item_remove,
    batch_open,
    batch_post,
    batch_totals,
    batch_update,
)
from isocnet.deposits.models import BatchStatus, ItemState, Match
from isocnet.invoicing.models import InvoiceStatus
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.models import Payment, Receipt
from isocnet.payments.selectors import account_summary
from tests.deposits.helpers import check_payer, slip_of
from tests.factories import ACTOR, make_invoice
from tests.invariants import check_invariants
from tests.portal.conftest import rendered

pytestmark = pytest.mark.django_db


def test_a_500_check_batch_keyed_from_scan_lines_posts_in_one_transaction(today):
    payers = [check_payer(price=f"{40 + n % 20}.95") for n in range(500)]
    total = sum(invoice.balance_minor for _, invoice in payers)
    batch = batch_open(
        actor=ACTOR,
        reference="DS-1001",
        expected_count=500,
        expected_total=f"{total / 100:.2f}",
    )
    for n, (_, invoice) in enumerate(payers):
        item = batch_item_add(
            actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(invoice), check_number=str(1000 + n)
        )
        assert (item.customer_id, item.invoice_id, item.match) == (
            invoice.customer_id,
            invoice.pk,
            Match.SCAN_LINE,
        )
    assert batch_totals(batch).ready
    receipts_before = OutboxMessage.objects.filter(kind=MessageKind.RECEIPT).count()

    posted = batch_post(actor=ACTOR, batch_id=batch.pk)

    assert posted.payments == 500
    batch.refresh_from_db()
    assert batch.status == BatchStatus.POSTED
    assert set(batch.items.values_list("state", flat=True)) == {ItemState.POSTED}
    assert OutboxMessage.objects.filter(kind=MessageKind.RECEIPT).count() - receipts_before == 500
    assert Receipt.objects.count() == 500
    first = Payment.objects.get(deposit_item__batch=batch, deposit_item__position=1)
    assert first.reference == "check #1000"
    assert first.received_on == batch.deposit_date
    for customer, invoice in payers:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        check_invariants(customer)
    assert AuditEvent.objects.filter(action="deposit.item_post").count() == 500
    assert AuditEvent.objects.filter(action="deposit.batch_post", object_id=str(batch.pk)).exists()


def test_a_batch_whose_total_disagrees_cannot_be_posted_and_nothing_is_written(today):
    _, first = check_payer()
    _, second = check_payer()
    batch = batch_open(actor=ACTOR, reference="DS-2", expected_count=2, expected_total="100.00")
    batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(first), check_number="1")
    batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(second), check_number="2")
    with pytest.raises(Conflict, match=r"add up to \$99\.90; the deposit slip says \$100\.00") as e:
        batch_post(actor=ACTOR, batch_id=batch.pk)
    assert e.value.field == "expected_total"
    assert Payment.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT
    # the clerk finds the deposit slip was mis-added, corrects it, posts
    batch_update(actor=ACTOR, batch_id=batch.pk, expected_total="99.90")
    batch_post(actor=ACTOR, batch_id=batch.pk)
    assert Payment.objects.count() == 2


def test_a_batch_whose_count_disagrees_cannot_be_posted(today):
    _, invoice = check_payer()
    batch = batch_open(actor=ACTOR, reference="DS-3", expected_count=2)
    batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(invoice))
    with pytest.raises(Conflict, match="the batch has 1 checks; the deposit slip says 2"):
        batch_post(actor=ACTOR, batch_id=batch.pk)


def test_a_posted_batch_cannot_be_edited(today):
    _, invoice = check_payer()
    _, other = check_payer()
    batch = batch_open(actor=ACTOR, reference="DS-4")
    item = batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(invoice))
    batch_post(actor=ACTOR, batch_id=batch.pk)
    for attempt in (
        lambda: batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(other)),
        lambda: batch_item_change(actor=ACTOR, batch_id=batch.pk, item_id=item.pk, amount="1.00"),
        lambda: batch_item_remove(actor=ACTOR, batch_id=batch.pk, item_id=item.pk),
        lambda: batch_update(actor=ACTOR, batch_id=batch.pk, expected_total="1.00"),
        lambda: batch_post(actor=ACTOR, batch_id=batch.pk),
    ):
        with pytest.raises(Conflict, match="is posted and can no longer change"):
            attempt()
    assert Payment.objects.count() == 1


def test_a_misread_scan_line_is_refused_as_keyed(today):
    _, invoice = check_payer()
    batch = batch_open(actor=ACTOR, reference="DS-5")
    line = slip_of(invoice)
    digit = line[-4]
    misread = line[:-4] + str((int(digit) + 1) % 10) + line[-3:]
    with pytest.raises(InvalidInput, match="check character does not match") as e:
        batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=misread)
    assert e.value.field == "scan_line"
    assert batch.items.count() == 0


def test_an_unmatched_check_blocks_posting_until_fixed(today):
    customer, invoice = check_payer(name="Grace Hopper")
    batch = batch_open(actor=ACTOR, reference="DS-6")
    item = batch_item_add(actor=ACTOR, batch_id=batch.pk, account_number="C999999", amount="49.95")
    assert item.customer_id is None
    assert "no account numbered C999999" in item.note
    with pytest.raises(Conflict, match="1 check\\(s\\) match no account") as e:
        batch_post(actor=ACTOR, batch_id=batch.pk)
    assert e.value.field == "items"
    fixed = batch_item_change(
        actor=ACTOR, batch_id=batch.pk, item_id=item.pk, account_number=customer.account_number
    )
    assert (fixed.customer_id, fixed.match) == (customer.pk, Match.ACCOUNT)
    batch_post(actor=ACTOR, batch_id=batch.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_one_check_for_two_invoices_is_split_oldest_first_and_the_rest_is_credit(today):
    customer, older = check_payer()
    newer = make_invoice(customer, due_date=today + dt.timedelta(days=30))
    batch = batch_open(actor=ACTOR, reference="DS-7")
    batch_item_add(
        actor=ACTOR, batch_id=batch.pk, account_number=customer.account_number, amount="120.00"
    )
    batch_post(actor=ACTOR, batch_id=batch.pk)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (InvoiceStatus.PAID, InvoiceStatus.PAID)
    assert account_summary(customer).credit.as_string() == "20.10"
    check_invariants(customer)


def test_the_invoice_the_slip_names_is_paid_first(today):
    customer, older = check_payer()
    newer = make_invoice(customer, due_date=today + dt.timedelta(days=30))
    batch = batch_open(actor=ACTOR, reference="DS-8")
    item = batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(newer), amount="60.00")
    batch_post(actor=ACTOR, batch_id=batch.pk)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert newer.status == InvoiceStatus.PAID
    assert older.balance.as_string() == "39.90"
    item.refresh_from_db()
    assert item.note == f"paid {newer.number} $49.95, {older.number} $10.05"
    check_invariants(customer)


def test_a_check_for_a_paid_invoice_becomes_credit_and_the_clerk_is_told(today):
    customer, invoice = check_payer()
    first = batch_open(actor=ACTOR, reference="DS-9")
    batch_item_add(actor=ACTOR, batch_id=first.pk, scan_line=slip_of(invoice))
    batch_post(actor=ACTOR, batch_id=first.pk)
    second = batch_open(actor=ACTOR, reference="DS-10")
    item = batch_item_add(
        actor=ACTOR, batch_id=second.pk, invoice_number=invoice.number, amount="49.95"
    )
    assert "already paid" in item.note
    batch_post(actor=ACTOR, batch_id=second.pk)
    item.refresh_from_db()
    assert item.note == (
        f"invoice {invoice.number} was already paid: the check went to the account; "
        "$49.95 became account credit"
    )
    assert account_summary(customer).credit.as_string() == "49.95"
    check_invariants(customer)


def test_marked_unapplied_is_held_not_lost(today):
    _, invoice = check_payer()
    batch = batch_open(actor=ACTOR, reference="DS-11", expected_count=2, expected_total="99.95")
    batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(invoice))
    stray = batch_item_add(actor=ACTOR, batch_id=batch.pk, account_number="X1", amount="50.00")
    batch_item_change(actor=ACTOR, batch_id=batch.pk, item_id=stray.pk, unapplied=True)
    posted = batch_post(actor=ACTOR, batch_id=batch.pk)
    assert (posted.payments, posted.unapplied.as_string()) == (1, "50.00")
    stray.refresh_from_db()
    assert stray.state == ItemState.UNAPPLIED


def test_the_receipt_of_a_deposited_check_says_check_number(today):
    customer, invoice = check_payer()
    batch = batch_open(actor=ACTOR, reference="DS-12")
    batch_item_add(actor=ACTOR, batch_id=batch.pk, scan_line=slip_of(invoice), check_number="1042")
    batch_post(actor=ACTOR, batch_id=batch.pk)
    message = rendered(OutboxMessage.objects.get(kind=MessageKind.RECEIPT, customer=customer))
    assert message.subject == "Invoice Payment Confirmation"
    assert "check #1042" in message.body_text
