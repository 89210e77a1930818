"""Importing from the previous billing system: validate every row, then
all or nothing; re-import updates; opening balances become invoices or
credit."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from isocnet.core import clock
from isocnet.customers.models import Customer
from isocnet.imports.services import run_import
from isocnet.invoicing.models import Invoice
from isocnet.payments.selectors import account_summary
from isocnet.subscriptions.models import Subscription
from tests.factories import ACTOR, make_plan

CUSTOMERS = """external_id,name,company,email,cc_emails,phone,address_line1,address_line2,city,region,postal_code,country,payment_method,tax_exempt,card_token
OLD-1,Ada Lovelace,Analytical Ltd,ada@example.com,books@example.com;cfo@example.com,+1 217 555 0101,12 Engine St,,Springfield,IL,62701,US,card,no,tok_visa
OLD-2,Grace Hopper,,grace@example.com,,,9 Compiler Ave,Apt 2,Springfield,IL,62702,us,check,yes,
"""


def imp(text, kind=None, **kw):
    return run_import(actor=ACTOR, kind=kind, text=text, **kw)


@pytest.fixture
def plans(db):
    return make_plan(name="Fiber 100", price="49.95") and {
        "fiber": make_plan(name="Fiber 300", price="79.95"),
    }


def test_customers_import_and_reimport_updates(db):
    report = imp(CUSTOMERS)
    assert report.ok and report.kind == "customers" and (report.created, report.rows) == (2, 2)
    ada = Customer.objects.get(external_id="OLD-1")
    assert ada.cc_emails == ["books@example.com", "cfo@example.com"]
    assert ada.payment_method == "card" and ada.cards.get().last4 == "4242"
    grace = Customer.objects.get(external_id="OLD-2")
    assert grace.country == "US" and grace.tax_exempt and grace.address_line2 == "Apt 2"
    again = imp(CUSTOMERS.replace("9 Compiler Ave", "10 Compiler Ave"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert Customer.objects.count() == 2 and ada.cards.count() == 1
    assert Customer.objects.get(external_id="OLD-2").address_line1 == "10 Compiler Ave"


def test_every_bad_row_is_reported_and_nothing_is_imported(db):
    bad = CUSTOMERS + (
        "OLD-3,,,not-an-email,,,1 Road,,Town,,12345,US,check,no,\n"
        "OLD-4,Bob,,bob@example.com,,,1 Road,,Town,,12345,ZZ,cheque,no,\n"
        "OLD-1,Ada Again,,ada2@example.com,,,1 Road,,Town,,12345,US,check,maybe,\n"
        "OLD-5,Cara,,cara@example.com,,,1 Road,,Town,,12345,US,card,no,\n"
    )
    report = imp(bad)
    assert not report.ok
    found = {(e.row, e.column) for e in report.errors}
    assert (6, "external_id") in found  # OLD-1 again
    assert (4, "name") in found or (4, "email") in found
    assert (5, "payment_method") in found or (5, "country") in found
    assert (7, "card_token") in found
    assert Customer.objects.count() == 0
    assert "nothing imported" in report.summary() and "row 7, column card_token" in report.summary()


def test_a_bad_header_is_reported(db):
    report = imp("external_id,name,emial\nX,Y,z@example.com\n", kind="customers")
    columns = {e.column for e in report.errors}
    assert {"email", "emial", "address_line1"} <= columns and Customer.objects.count() == 0


def test_subscriptions_and_balances(db, plans, today):
    imp(CUSTOMERS)
    subs = (
        "external_id,customer_external_id,plan,start_date,next_due_date,quantity,price,description\n"
        f"S-1,OLD-1,{plans['fiber'].code},2025-03-15,2026-12-15,1,,12 Engine St\n"
        f"S-2,OLD-2,{plans['fiber'].code},2024-01-01,2026-12-01,2,70.00,9 Compiler Ave\n"
    )
    report = imp(subs)
    assert report.ok and report.created == 2
    s2 = Subscription.objects.get(external_id="S-2")
    assert (
        s2.quantity == 2
        and s2.price_override_minor == 7000
        and s2.next_due_date == dt.date(2026, 12, 1)
    )
    assert imp(subs).unchanged == 2
    assert imp(subs.replace(",2,70.00,", ",3,70.00,")).errors[0].column == "external_id"
    wrong = imp(subs.replace("OLD-2", "OLD-9").replace("S-2", "S-3"))
    assert wrong.errors[0].column == "customer_external_id" and Subscription.objects.count() == 2

    balances = (
        "customer_external_id,amount,as_of,due_date,reference\n"
        "OLD-1,125.50,2026-11-01,2026-11-15,Old invoice 9912\n"
        "OLD-2,-20.00,2026-11-01,,Prepaid\n"
    )
    report = imp(balances)
    assert report.ok and report.created == 2
    ada = Customer.objects.get(external_id="OLD-1")
    grace = Customer.objects.get(external_id="OLD-2")
    invoice = Invoice.objects.get(customer=ada)
    assert invoice.total_minor == 12550 and invoice.due_date == dt.date(2026, 11, 15)
    assert invoice.number and invoice.issue_date == dt.date(2026, 11, 1)
    assert account_summary(ada).balance.minor() == 12550
    assert account_summary(grace).balance.minor() == -2000  # in credit
    assert imp(balances).unchanged == 2  # re-import: no double balance
    changed = imp(balances.replace("125.50", "99.00"))
    assert changed.errors and "already has an opening balance of 125.50" in changed.errors[0].reason
    assert Invoice.objects.count() == 1


def test_dry_run_counts_and_changes_nothing(db):
    report = imp(CUSTOMERS, dry_run=True)
    assert report.ok and report.created == 2 and Customer.objects.count() == 0
    assert "would be created" in report.summary()


def test_the_cli_imports_files_and_fails_on_errors(db, tmp_path, capsys):
    good = tmp_path / "customers.csv"
    good.write_text(CUSTOMERS)
    call_command("import", str(good))
    assert "customers.csv: customers: 2 rows: 2 were created" in capsys.readouterr().out
    bad = tmp_path / "broken.csv"
    bad.write_text("external_id,name\nX,\n")
    with pytest.raises(CommandError):
        call_command("import", str(bad), "--kind", "customers")
    assert Customer.objects.count() == 2
    assert clock  # the import uses the billing clock for dates it sets


def test_staff_import_in_the_back_office_with_a_report(db, client):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    staff = get_user_model().objects.create_superuser("boss", "boss@isocnet.example", "x-12345-y")
    client.force_login(staff)
    assert "Import from CSV" in client.get("/admin/customers/customer/").content.decode()
    bad = client.post(
        "/admin/customers/customer/import/",
        {"file": SimpleUploadedFile("c.csv", b"external_id,name\nX,\n"), "kind": "customers"},
    ).content.decode()
    assert "Not imported" in bad and "this required column is missing" in bad
    good = client.post(
        "/admin/customers/customer/import/",
        {"file": SimpleUploadedFile("c.csv", CUSTOMERS.encode()), "kind": ""},
    ).content.decode()
    assert "Imported" in good and "2 created" in good
    assert Customer.objects.filter(external_id__in=["OLD-1", "OLD-2"]).count() == 2


def test_a_file_in_another_encoding_is_refused_naming_the_file(db, tmp_path):
    """Excel's "CSV UTF-8" (with a byte-order mark) is read; a Latin-1 file
    is refused with its name and the position, and nothing is imported."""
    with_bom = tmp_path / "excel.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + CUSTOMERS.encode())
    call_command("import", str(with_bom))
    assert Customer.objects.count() == 2
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        CUSTOMERS.replace("OLD-", "LAT-").replace("Ada", "Ad\u00e9").encode("latin-1")
    )
    with pytest.raises(CommandError, match=r"latin1\.csv: the file is not UTF-8 text \(byte 0xe9"):
        call_command("import", str(latin))
    assert Customer.objects.count() == 2
