import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from isocnet.catalog.models import Plan
from isocnet.customers.models import Customer
from isocnet.subscriptions.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.mark.welcome_emails
def test_demo_loads_an_isp_and_can_run_again(today, capsys):
    call_command("demo", customers=12)
    first = capsys.readouterr().out
    counts = (Plan.objects.count(), Customer.objects.count(), Subscription.objects.count())
    call_command("demo", customers=12)
    assert (Plan.objects.count(), Customer.objects.count(), Subscription.objects.count()) == counts
    assert counts[1] == 12
    assert {"monthly", "annual", "quarterly", "semiannual", "one_time"} <= set(
        Plan.objects.values_list("cycle", flat=True)
    )
    assert set(Customer.objects.values_list("payment_method", flat=True)) == {"card", "check"}
    assert "password isocnet-demo" in first
    assert first.split()[-1].startswith("isk_")
    staff = get_user_model().objects.get(username="staff")
    assert staff.is_staff
    assert staff.check_password("isocnet-demo")


def test_demo_then_billing_run_issues_invoices_once(today, capsys, client):
    call_command("demo", customers=8)
    out = capsys.readouterr().out
    from isocnet.invoicing.models import BillingRun, Invoice
    from isocnet.payments.models import Payment

    issued = Invoice.objects.exclude(status="draft").count()
    assert issued > 0
    assert f"Billing run for today: {issued} invoices issued" in out
    assert Payment.objects.filter(method="card").exists()  # auto debit collected what was due
    assert Payment.objects.filter(method="check", reference="Check 1042 (demo)").exists()
    call_command("bill")
    assert "invoices issued: 0" in capsys.readouterr().out
    assert Invoice.objects.count() == issued
    run = BillingRun.objects.order_by("id").first()
    client.force_login(get_user_model().objects.get(username="staff"))
    page = client.get(f"/admin/invoicing/billingrun/{run.pk}/change/").content.decode()
    assert "Invoice issued" in page
    assert Invoice.objects.order_by("id").first().number in page


@pytest.mark.welcome_emails
def test_demo_prints_a_customer_login_that_opens_the_portal(today, capsys, client):
    import re

    call_command("demo", customers=8)
    out = capsys.readouterr().out
    match = re.search(r"Client portal: (\S+)/  email (\S+)  password (\S+)", out)
    assert match, out
    url, email, password = match.groups()
    assert url.endswith("/portal")
    response = client.post("/portal/login/", {"username": email, "password": password})
    assert response.status_code == 302
    page = client.get("/portal/dashboard/").content.decode()
    assert "Unpaid invoices" in page and "Pay now" in page


def test_the_back_office_reports_show_the_demo_data(today, capsys, client):
    from isocnet.invoicing.models import OPEN_STATUSES, Invoice

    call_command("demo", customers=10)
    capsys.readouterr()
    client.force_login(get_user_model().objects.get(username="staff"))
    page = client.get("/admin/reports/").content.decode()
    open_total = sum(
        Invoice.objects.filter(status__in=OPEN_STATUSES).values_list("balance_minor", flat=True)
    )
    assert open_total > 0
    dollars = f"${open_total // 100:,}.{open_total % 100:02d}"
    assert f'id="aging-total">{dollars}' in page
    assert "Fiber" in page  # revenue by plan
    assert Customer.objects.filter(external_id__startswith="demo-").count() == 10  # imported


@pytest.mark.welcome_emails
def test_the_demo_emails_say_what_each_invoice_asks_for(smtp, capsys):
    """`make demo`'s emails, read as its customers read them (issue #22): no
    invoice email says $0.00 due unless the invoice was paid from credit at
    issue (and then it says so); no check payer's invoice is due the day it
    is issued; an auto-debit line says what happened to the card."""
    import datetime as dt
    import re

    from isocnet.core import clock
    from isocnet.invoicing.models import Invoice
    from isocnet.notifications.delivery import deliver_pending

    with clock.frozen_at(dt.date(2026, 12, 2)):
        call_command("demo")
        first = capsys.readouterr().out
        deliver_pending(limit=1000)
        call_command("demo")
        second = capsys.readouterr().out
    invoices = [m for m in smtp.messages if m["Subject"] == "Customer Invoice"]
    assert len(invoices) == Invoice.objects.exclude(status="draft").count() >= 20
    charged = 0
    for message in invoices:
        lines = [
            ln.strip()
            for ln in message.get_body(preferencelist=("plain",)).get_content().splitlines()
            if ln.strip()
        ]
        number = re.search(r"Invoice #(\S+) ·", lines[3])[1]
        invoice = Invoice.objects.select_related("customer").get(number=number)
        due = re.search(r"Amount due: (\S+) ·", lines[3])[1]
        if due == "$0.00":
            assert (
                invoice.issued_balance_minor == 0
                and "paid in full from your account credit" in lines[4]
            )
        if invoice.customer.payment_method == "check":
            assert lines[2] == "Payment method: Check or mail-in payment"
            assert invoice.due_date >= invoice.issue_date + dt.timedelta(days=10), number
        else:
            assert "automatically" in lines[4]
            if "was taken automatically" in lines[4]:
                charged += 1
                assert invoice.status == "paid" and due != "$0.00"
    assert charged >= 5  # due-day charges, each email stating the amount taken
    # a second `make demo` prints the same customer login, and says the API key is new
    login = re.search(r"Client portal: .*", first)[0]
    assert login == re.search(r"Client portal: .*", second)[0]
    assert "API key:     a new key, made by this run and shown only now" in second


def test_demo_writes_a_lockbox_file_to_try_the_deposit_desk(today, capsys, settings, tmp_path):
    from isocnet.deposits.bank_files import bank_file_import
    from tests.factories import ACTOR

    settings.VAR_DIR = tmp_path
    call_command("demo", customers=50)
    out = capsys.readouterr().out
    path = tmp_path / "demo-lockbox.csv"
    assert f"bank-import {path}" in out
    result = bank_file_import(
        actor=ACTOR, format="lockbox", filename=path.name, content=path.read_text()
    )
    assert result.items >= 2
    assert (result.posted, result.exceptions) == (result.items - 1, 1)
    again = bank_file_import(
        actor=ACTOR, format="lockbox", filename=path.name, content=path.read_text()
    )
    assert again.posted == 0 and again.already == result.items
