"""The deposit screens in the back office, through the test client: a
clerk opens a batch, keys checks, fixes one, posts; imports a bank file
and works the exceptions queue; reads the deposit report."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from isocnet.deposits.models import BatchStatus, DepositBatch, ItemState
from isocnet.invoicing.models import InvoiceStatus
from isocnet.payments.models import Payment
from tests.deposits.bankfiles import Item, bai2_file
from tests.deposits.helpers import check_payer, slip_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client, db):
    user = get_user_model().objects.create_user(
        "cleo", "c@isocnet.example", "pw-1-x", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Billing clerk"))
    client.force_login(user)
    return client


def test_a_clerk_keys_fixes_and_posts_a_batch(clerk, today):
    ada, ada_invoice = check_payer(name="Ada Lovelace")
    bob, bob_invoice = check_payer(name="Bob Keyed")
    page = clerk.post(
        "/admin/deposits/depositbatch/add/",
        {
            "reference": "DS-77",
            "deposit_date": today.isoformat(),
            "expected_count": "2",
            "expected_total": "99.90",
        },
    )
    batch = DepositBatch.objects.get(reference="DS-77")
    entry = f"/admin/deposits/depositbatch/{batch.pk}/entry/"
    assert page.url == entry
    page = clerk.post(
        entry, {"scan_line": slip_of(ada_invoice), "check_number": "1042"}, follow=True
    )
    body = page.content.decode()
    assert f"{ada.account_number} Ada Lovelace, invoice {ada_invoice.number}" in body
    assert "paid in full" in body
    # a misread line is refused as keyed, naming the field
    line = slip_of(bob_invoice)
    bad = line[:-3] + ("1" if line[-3] != "1" else "2") + line[-2:]
    body = clerk.post(entry, {"scan_line": bad}).content.decode()
    assert "Scan line: the check character does not match" in body
    # keyed by a wrong account number: saved, flagged, then fixed
    clerk.post(entry, {"account_number": "C0000X", "amount": "49.95", "check_number": "7"})
    body = clerk.get(entry).content.decode()
    assert "1 check to fix before posting" in body and "no account numbered C0000X" in body
    item = batch.items.get(position=2)
    body = clerk.post(entry, {"action": "post"}, follow=True).content.decode()
    assert "match no account" in body
    clerk.post(
        entry,
        {
            "item": item.pk,
            "action": "fix",
            "account_number": bob.account_number,
            "amount": "49.95",
            "check_number": "7",
        },
    )
    body = clerk.post(entry, {"action": "post"}, follow=True).content.decode()
    assert "Deposit DS-77 posted: 2 payments" in body
    batch.refresh_from_db()
    assert batch.status == BatchStatus.POSTED
    bob_invoice.refresh_from_db()
    assert bob_invoice.status == InvoiceStatus.PAID
    assert Payment.objects.get(customer=bob).reference == "check #7"
    # posted: the form is gone, and a post is refused
    body = clerk.get(entry).content.decode()
    assert 'id="keying"' not in body and "A posted batch does not change" in body
    body = clerk.post(entry, {"scan_line": slip_of(ada_invoice)}, follow=True).content.decode()
    assert Payment.objects.count() == 2
    report = clerk.get("/admin/deposits/depositbatch/report/").content.decode()
    assert "DS-77" in report and "$99.90" in report
    csv = b"".join(
        clerk.get("/admin/deposits/depositbatch/report/?csv=1").streaming_content
    ).decode()
    assert f"{today.isoformat()},DS-77,manual,2,99.90,0,0.00,0.00,0" in csv


def test_a_clerk_imports_a_bai2_file_and_works_the_queue(clerk, today):
    _sure, invoice = check_payer(name="Ada Lovelace")
    fuzzy, other = check_payer(name="Donald Knuth", price="77.00")
    content = bai2_file(
        [
            Item("BR1", invoice.balance_minor, check_number="1", scan_line=slip_of(invoice)),
            Item("BR2", 7700, check_number="2", payer_name="D KNUTH"),
        ],
        today,
    )
    body = clerk.post(
        "/admin/deposits/depositbatch/bank-file/",
        {"format": "bai2", "file": SimpleUploadedFile("day.bai", content.encode())},
    ).content.decode()
    assert "<strong>1</strong> posted ($49.95)" in body
    assert "<strong>1</strong> to the exceptions queue ($77.00)" in body
    queue = clerk.get("/admin/deposits/depositbatch/exceptions/").content.decode()
    assert "Donald Knuth" in queue and "matched by amount and name only" in queue
    waiting = fuzzy.deposit_items.model.objects.get(bank_reference="BR2")
    body = clerk.post(
        "/admin/deposits/depositbatch/exceptions/",
        {"item": waiting.pk, "customer": fuzzy.pk},
        follow=True,
    ).content.decode()
    assert "Posted: paid" in body
    waiting.refresh_from_db()
    assert waiting.state == ItemState.POSTED
    other.refresh_from_db()
    assert other.status == InvoiceStatus.PAID
    assert "Nothing waits" in clerk.get("/admin/deposits/depositbatch/exceptions/").content.decode()


def test_the_upload_form_tells_a_lockbox_csv_from_a_bai2_file_by_itself(today):
    """Issue #32: the form defaulted to BAI2 and answered a lockbox CSV with
    "'de' is not a valid RecordCode"."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.deposits.bankfiles import lockbox_csv

    _payer, invoice = check_payer()
    user = get_user_model().objects.create_user("lb", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Billing clerk"))
    clerk = Client()
    clerk.force_login(user)
    content = lockbox_csv([Item("LB-1", invoice.balance_minor, scan_line=slip_of(invoice))], today)
    body = clerk.post(
        "/admin/deposits/depositbatch/bank-file/",
        {"format": "", "file": SimpleUploadedFile("day.csv", content.encode())},
    ).content.decode()
    assert "RecordCode" not in body
    assert "<strong>1</strong> posted ($49.95)" in body
