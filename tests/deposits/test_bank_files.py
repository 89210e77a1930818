"""Lockbox and BAI2 files from the bank: exact matches post, fuzzy ones
wait in the exceptions queue, a second import posts nothing, a returned
item becomes a returned payment, and every invariant holds."""

import pytest

from isocnet.core.errors import InvalidInput
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.models import DepositItem, ItemState, Match
from isocnet.deposits.queue import exception_resolve, exception_unapply, exceptions_queue
from isocnet.invoicing.models import Charge, InvoiceStatus
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.models import Payment, PaymentStatus
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record
from tests.deposits.bankfiles import Item, bai2_file, lockbox_csv
from tests.deposits.helpers import check_payer, slip_of
from tests.factories import ACTOR
from tests.invariants import check_invariants

pytestmark = pytest.mark.django_db


def _day_of_checks(today):
    """Five check payers: what their checks came with differs."""
    by_scan = check_payer(name="Ada Lovelace")
    by_invoice = check_payer(name="Alan Turing")
    by_account = check_payer(name="Barbara Liskov")
    by_name = check_payer(name="Donald Knuth", price="77.00")
    unknown = check_payer(name="Edsger Dijkstra")
    items = [
        Item(
            "BR0001", by_scan[1].balance_minor, check_number="1042", scan_line=slip_of(by_scan[1])
        ),
        Item(
            "BR0002",
            by_invoice[1].balance_minor,
            check_number="311",
            invoice_number=by_invoice[1].number,
        ),
        Item("BR0003", 2000, check_number="77", account_number=by_account[0].account_number),
        Item("BR0004", 7700, check_number="5", payer_name="DONALD E KNUTH"),
        Item("BR0005", 1234, check_number="9", payer_name="Nobody Atall"),
    ]
    return [by_scan, by_invoice, by_account, by_name, unknown], items


@pytest.mark.parametrize("fmt", ["bai2", "lockbox"])
def test_exact_matches_post_fuzzy_ones_wait_and_a_second_import_posts_nothing(fmt, today):
    payers, items = _day_of_checks(today)
    content = bai2_file(items, today) if fmt == "bai2" else lockbox_csv(items, today)

    result = bank_file_import(actor=ACTOR, format=fmt, filename=f"day.{fmt}", content=content)

    assert (result.items, result.posted, result.exceptions) == (5, 3, 2)
    assert result.posted_total.as_string() == f"{(payers[0][1].balance_minor * 2 + 2000) / 100:.2f}"
    by_ref = {i.bank_reference: i for i in DepositItem.objects.all()}
    assert by_ref["BR0001"].match == Match.SCAN_LINE
    assert by_ref["BR0002"].match == Match.INVOICE
    assert by_ref["BR0003"].match == Match.ACCOUNT
    for ref in ("BR0001", "BR0002", "BR0003"):
        assert by_ref[ref].state == ItemState.POSTED
    for _customer, invoice in payers[:2]:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
    payers[2][1].refresh_from_db()
    assert payers[2][1].balance.as_string() == "29.95"
    assert Payment.objects.get(deposit_item=by_ref["BR0001"]).reference == "check #1042"
    # fuzzy: in the queue with a suggestion, not posted
    knuth = by_ref["BR0004"]
    assert knuth.state == ItemState.EXCEPTION and knuth.payment_id is None
    assert knuth.suggestions[0]["customer_id"] == payers[3][0].pk
    assert knuth.match == Match.AMOUNT_NAME and knuth.confidence < 90
    assert by_ref["BR0005"].suggestions == []
    assert list(exceptions_queue().values_list("bank_reference", flat=True)) == ["BR0004", "BR0005"]

    again = bank_file_import(actor=ACTOR, format=fmt, filename=f"day.{fmt}", content=content)
    assert (again.posted, again.exceptions, again.already) == (0, 0, 5)
    assert Payment.objects.count() == 3
    # the same items in the other format (the bank sends both) post nothing either
    other = lockbox_csv(items, today) if fmt == "bai2" else bai2_file(items, today)
    third = bank_file_import(
        actor=ACTOR, format="lockbox" if fmt == "bai2" else "bai2", filename="x", content=other
    )
    assert (third.posted, third.already) == (0, 5)

    # the clerk works the queue: takes the suggestion, holds the unknown one
    exception_resolve(
        actor=ACTOR, item_id=knuth.pk, customer_id=knuth.suggestions[0]["customer_id"]
    )
    exception_unapply(actor=ACTOR, item_id=by_ref["BR0005"].pk, reason="no name we know")
    assert not exceptions_queue().filter(state=ItemState.EXCEPTION).exists()
    unapplied = exceptions_queue().get()
    assert (unapplied.state, unapplied.amount.as_string()) == (ItemState.UNAPPLIED, "12.34")
    payers[3][1].refresh_from_db()
    assert payers[3][1].status == InvoiceStatus.PAID
    # later the payer is found: unapplied cash posts to them
    exception_resolve(actor=ACTOR, item_id=unapplied.pk, account_number=payers[4][0].account_number)
    assert account_summary(payers[4][0]).balance.as_string() == "37.61"
    for customer, _ in payers:
        check_invariants(customer)
    assert OutboxMessage.objects.filter(kind=MessageKind.RECEIPT).count() == 5


@pytest.mark.parametrize("fmt", ["bai2", "lockbox"])
def test_a_returned_item_creates_a_returned_payment(fmt, today, settings):
    settings.RETURNED_PAYMENT_FEE = "25.00"
    customer, invoice = check_payer()
    check = Item("BR0100", invoice.balance_minor, check_number="2001", scan_line=slip_of(invoice))
    day1 = bai2_file([check], today) if fmt == "bai2" else lockbox_csv([check], today)
    bank_file_import(actor=ACTOR, format=fmt, filename="day1", content=day1)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID

    nsf = Item("BR0200", invoice.total_minor, type_code="555", original_reference="BR0100")
    day2 = bai2_file([nsf], today) if fmt == "bai2" else lockbox_csv([nsf], today)
    result = bank_file_import(actor=ACTOR, format=fmt, filename="day2", content=day2)

    assert result.returned == 1
    payment = Payment.objects.get(deposit_item__bank_reference="BR0100")
    assert payment.status == PaymentStatus.VOIDED
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID
    assert Charge.objects.filter(
        customer=customer, description__startswith="Returned payment fee"
    ).exists()
    assert (
        OutboxMessage.objects.filter(kind=MessageKind.PAYMENT_RETURNED, customer=customer).count()
        == 1
    )
    again = bank_file_import(actor=ACTOR, format=fmt, filename="day2", content=day2)
    assert (again.returned, again.already) == (0, 1)
    assert Charge.objects.filter(customer=customer).count() == 1
    check_invariants(customer)


def test_a_returned_item_naming_no_posted_check_waits_for_a_clerk(today):
    customer, invoice = check_payer()
    paid = payment_record(
        actor=ACTOR,
        amount="49.95",
        method="check",
        reference="check #77",
        invoice_number=invoice.number,
    )
    nsf = Item("BR0300", 4995, type_code="555", original_reference="UNKNOWN")
    result = bank_file_import(
        actor=ACTOR, format="bai2", filename="r", content=bai2_file([nsf], today)
    )
    assert (result.returned, result.exceptions) == (0, 1)
    item = exceptions_queue().get()
    assert "no posted check matches" in item.note
    exception_resolve(actor=ACTOR, item_id=item.pk, payment_id=paid.payment.pk)
    paid.payment.refresh_from_db()
    assert paid.payment.status == PaymentStatus.VOIDED
    check_invariants(customer)


def test_a_malformed_file_is_refused_naming_where(today):
    bad = "deposit_date,item_reference,amount\n2026-11-20,BR1,forty\n"
    with pytest.raises(InvalidInput, match="line 2, amount: 'forty' is not an amount") as e:
        bank_file_import(actor=ACTOR, format="lockbox", filename="bad.csv", content=bad)
    assert e.value.field == "content"
    good = bai2_file([Item("BR1", 100)], today)
    broken = good.replace("49,100,3/", "49,999,3/")
    with pytest.raises(InvalidInput, match="not a valid BAI2 file: Invalid account control total"):
        bank_file_import(actor=ACTOR, format="bai2", filename="bad.bai", content=broken)
    assert not DepositItem.objects.exists()
