"""Reports cross-checked against the ledger."""

import csv
import datetime as dt
import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from isocnet.core import clock
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.payments import card_payments
from isocnet.payments.services import payment_record
from isocnet.reports import selectors
from isocnet.reports.exports import csv_lines, export_rows
from tests.factories import ACTOR, make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.portal.conftest import with_card

D = dt.date


@pytest.fixture
def ledger(db):
    """Invoices of several ages, payments by check and card, a decline."""
    a, b, c = make_customer(name="Ann"), make_customer(name="Ben"), make_customer(name="Cy")
    with clock.frozen_at(D(2026, 6, 1)):
        old = make_invoice(a, lines=(("June", "100.00", None),), due_date=D(2026, 6, 15))
    with clock.frozen_at(D(2026, 9, 1)):
        mid = make_invoice(a, lines=(("September", "40.00", None),), due_date=D(2026, 9, 30))
        make_invoice(b, lines=(("September", "60.00", None),), due_date=D(2026, 10, 10))
    with clock.frozen_at(D(2026, 11, 10)):
        new = make_invoice(c, lines=(("November", "25.00", None),), due_date=D(2026, 12, 1))
        payment_record(
            actor=ACTOR, invoice_number=old.number, amount="30.00", method="check", reference="1001"
        )
        payment_record(
            actor=ACTOR, invoice_number=mid.number, amount="40.00", method="check", reference="1002"
        )
        credit_note_create(actor=ACTOR, invoice_number=new.number, amount="5.00", reason="Outage")
        with_card(c, "tok_chargeDeclined")
        wanted = card_payments.payment_request_clean(
            customer_id=c.pk,
            amount="20.00",
            invoice_number=new.number,
            add_credit=False,
            currency="USD",
        )
        card_payments.card_payment_make(
            actor=ACTOR,
            customer_id=c.pk,
            attempt=uuid.uuid4().hex,
            request=wanted,
            card_id=c.cards.get().pk,
        )
    return a, b, c


def test_aging_buckets_and_the_total_equals_the_open_balances(ledger):
    report = selectors.aging(D(2026, 11, 20))
    open_total = Invoice.objects.filter(status__in=OPEN_STATUSES).aggregate(s=Sum("balance_minor"))[
        "s"
    ]
    assert report.total == open_total == 7000 + 6000 + 2000
    assert report.totals == {"current": 2000, "1-30": 0, "31-60": 6000, "61-90": 0, "90+": 7000}
    ann = next(r for r in report.rows if r.name == "Ann")
    assert ann.buckets["90+"] == 7000 and ann.total == 7000  # September invoice paid
    assert selectors.bucket_of(0) == "current" and selectors.bucket_of(30) == "1-30"
    assert selectors.bucket_of(31) == "31-60" and selectors.bucket_of(91) == "90+"


def test_revenue_payments_deposit_and_failures(ledger):
    revenue = selectors.revenue_by_month(D(2026, 1, 1), D(2026, 12, 31))
    assert revenue == [(D(2026, 6, 1), 10000), (D(2026, 9, 1), 10000), (D(2026, 11, 1), 2500)]
    by_day = selectors.payments_by_method_and_day(D(2026, 11, 1), D(2026, 11, 30))
    assert [(p.method, p.count, p.amount_minor) for p in by_day] == [("check", 2, 7000)]
    deposit = selectors.deposit_list(D(2026, 11, 10))
    assert [p.reference for p in deposit] == ["1001", "1002"]
    failed = selectors.failed_card_payments(D(2026, 11, 1), D(2026, 11, 30))
    assert len(failed) == 1 and failed[0].message == "Your card was declined."


def test_revenue_by_plan_and_upcoming_renewals(db):
    fiber = make_plan(name="Fiber 500", price="65.00")
    customer = make_customer()
    subscribe(customer, fiber, D(2026, 11, 5), description="1 Main St")
    run(D(2026, 11, 5))
    rows = selectors.revenue_by_month_and_plan(D(2026, 11, 1), D(2026, 11, 30))
    assert [(r.plan, r.amount_minor) for r in rows] == [("Fiber 500", 6500)]
    renewals = selectors.upcoming_renewals(D(2026, 11, 20), 30)
    assert [(s.next_due_date, selectors.renewal_amount(s).minor()) for s in renewals] == [
        (D(2026, 12, 5), 6500)
    ]


def test_exports_for_the_accountant(ledger):
    rows = list(export_rows("invoices", D(2026, 1, 1), D(2026, 12, 31)))
    assert rows[0][:3] == ["number", "issue_date", "due_date"] and len(rows) == 5
    totals = sum(int(r[9].replace(".", "")) for r in rows[1:])
    assert totals == Invoice.objects.aggregate(s=Sum("total_minor"))["s"]
    lines = list(export_rows("lines", D(2026, 1, 1), D(2026, 12, 31)))
    assert len(lines) == 5 and lines[1][5] == "June"
    payments = list(export_rows("payments", D(2026, 11, 1), D(2026, 11, 30)))
    # one row per payment: date, customer, invoice, method, reference, amount
    assert payments[0][:7] == [
        "date",
        "account_number",
        "customer",
        "invoice",
        "method",
        "reference",
        "amount",
    ]
    assert [r[5] for r in payments[1:]] == ["1001", "1002"] and payments[1][9].endswith("=30.00")
    assert payments[1][4] == "Check" and payments[1][6] == "30.00"
    assert payments[1][3] == payments[1][9].split("=")[0]  # the invoice it paid
    notes = list(export_rows("credit-notes", D(2026, 11, 1), D(2026, 11, 30)))
    assert notes[1][4] == "5.00" and notes[1][7] == "Outage"


def test_csv_cells_cannot_run_as_formulas():
    text = "".join(csv_lines([['=HYPERLINK("x")', "-5.00", "-cmd", "@SUM(A1)", "plain"]]))
    row = next(csv.reader(io.StringIO(text)))
    assert row == ['\'=HYPERLINK("x")', "-5.00", "'-cmd", "'@SUM(A1)", "plain"]


def test_the_reports_page_and_its_csv(ledger, client, today):
    staff = get_user_model().objects.create_superuser("boss", "b@isocnet.example", "x-1234-y")
    client.force_login(staff)
    assert "Reports" in client.get("/admin/").content.decode()
    page = client.get("/admin/reports/?start=2026-01-01&end=2026-11-20&day=2026-11-10")
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        'id="aging-total">$150.00' in html and "1001" in html and "Your card was declined." in html
    )
    assert "$20.00" in html  # the declined charge, formatted
    aging = client.get("/admin/reports/?start=2026-01-01&end=2026-11-20&csv=aging")
    body = b"".join(aging.streaming_content).decode()
    assert aging["Content-Type"].startswith("text/csv") and body.splitlines()[-1].endswith(
        ",150.00"
    )
    export = client.get("/admin/reports/?start=2026-01-01&end=2026-12-31&csv=invoices")
    assert len(b"".join(export.streaming_content).decode().splitlines()) == 5
    # payments.csv is the accountant's: one row per payment, not the daily summary
    paid = client.get("/admin/reports/?start=2026-01-01&end=2026-12-31&csv=payments")
    assert paid["Content-Disposition"].startswith('attachment; filename="payments-2026-01-01')
    rows = list(csv.reader(io.StringIO(b"".join(paid.streaming_content).decode())))
    assert rows[0][:7] == [
        "date",
        "account_number",
        "customer",
        "invoice",
        "method",
        "reference",
        "amount",
    ]
    assert [r[5] for r in rows[1:]] == ["1001", "1002"]
    by_day = client.get("/admin/reports/?start=2026-01-01&end=2026-12-31&csv=payments-by-day")
    assert b"".join(by_day.streaming_content).decode().startswith("day,method,count,amount")
    client.logout()
    assert client.get("/admin/reports/").status_code == 302  # staff only


def test_exports_and_aging_through_the_api_and_the_cli(ledger, api, tmp_path, today):
    response = api.get("/exports/payments?start=2026-11-01&end=2026-11-30")
    assert response.status_code == 200
    aging = api.get("/reports/aging").body
    assert aging["totals"]["total"] == "150.00" and aging["totals"]["days_over_90"] == "70.00"
    assert api.get("/exports/payments?start=2026-12-01&end=2026-11-30").status_code == 422
    assert api.get("/exports/nonsense?start=2026-11-01&end=2026-11-30").status_code == 422
    from django.core.management import call_command

    out = tmp_path / "inv.csv"
    call_command("export", "invoices", "--from", "2026-01-01", "--to", "2026-12-31", "-o", str(out))
    assert len(out.read_text().splitlines()) == 5


def test_receivables_over_time_end_at_the_aging_total(ledger):
    assert selectors.receivables_at(D(2026, 5, 31)) == 0
    assert selectors.receivables_at(D(2026, 6, 30)) == 10000
    assert selectors.receivables_at(D(2026, 9, 30)) == 20000
    today = D(2026, 11, 20)
    assert selectors.receivables_at(today) == selectors.aging(today).total == 15000
    assert selectors.month_ends(D(2026, 9, 15), today) == [D(2026, 9, 30), D(2026, 10, 31), today]


def test_a_returned_payment_counts_until_it_was_returned(db):
    from isocnet.payments.returns import payment_return

    customer = make_customer()
    with clock.frozen_at(D(2026, 10, 1)):
        invoice = make_invoice(customer, lines=(("Fiber", "50.00", None),))
        paid = payment_record(
            actor=ACTOR, invoice_number=invoice.number, amount="50.00", method="check"
        )
    with clock.frozen_at(D(2026, 10, 20)):
        payment_return(actor=ACTOR, payment_id=paid.payment.pk)
    assert selectors.receivables_at(D(2026, 10, 10)) == 0
    assert selectors.receivables_at(D(2026, 10, 31)) == 5000  # owed again
