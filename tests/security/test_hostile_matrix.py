"""Issue #29's hostile-value matrix: one list of values, sent through every
door that takes that kind of value — the API, the back office's forms, the
portal's forms, the customer CSV import, a lockbox CSV, a BAI2 file and a
deposit batch. Each is refused naming the field (or the file's row and
column), nothing is stored, and no door answers 5xx. Runs on SQLite and
PostgreSQL.

Text that is merely unusual is not refused: a company named "=Acme" or
'"Quoted" Ltd' is stored as typed and made harmless where it could act (every
CSV export escapes formula prefixes; tests/security/test_doors.py item 8),
and quote- or backtick-wrapped values are refused only where FreeRADIUS would
interpret them (item 2)."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from isocnet.core import clock
from isocnet.core.errors import InvalidInput
from isocnet.core.models import AuditEvent
from isocnet.customers.models import Customer
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.models import BankFile, DepositBatch, DepositItem
from isocnet.imports.services import run_import
from isocnet.invoicing.models import Invoice
from isocnet.payments.models import Payment
from tests.deposits.bankfiles import Item, bai2_file
from tests.factories import ACTOR, make_customer, make_invoice
from tests.portal.conftest import portal_login_for
from tests.security.forms import form_with

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
CARD = "4111 1111 1111 1111"

TEXT = {
    "NUL": "Eve\x00Adam",
    "lone surrogate": "Eve\ud800",
    "U+2028": "Eve\u2028Bcc: x@example.com",
    "U+202E": "Eve\u202egnp.exe",
    "card, spaces": f"card {CARD}",
    "card, dashes": "card 4111-1111-1111-1111",
    "10,000 characters": "x" * 10_000,
}
AMOUNTS = {
    "over the limit": "10000000.01",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "1e999999": "1e999999",
    "20 digits": "12345678901234567890",
}
DATES = {"far future": "9999-12-31", "far past": "0001-01-01"}


@pytest.fixture
def day():
    with clock.frozen_at(TODAY):
        yield TODAY


def manager() -> Client:
    user = get_user_model().objects.create_user("mona", "m@isocnet.example", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Billing manager"))
    client = Client()
    client.force_login(user)
    return client


def stored() -> tuple:
    """What any door could have written."""
    return (
        list(Customer.objects.order_by("pk").values_list("name", "company", "phone")),
        Payment.objects.count(),
        Invoice.objects.count(),
        BankFile.objects.count(),
        DepositItem.objects.count(),
    )


def lockbox(**row) -> str:
    out = io.StringIO()
    base = {
        "deposit_date": TODAY.isoformat(),
        "item_reference": "BR-1",
        "amount": "49.95",
        "payer_name": "Ann Payer",
    }
    writer = csv.DictWriter(out, fieldnames=list(base))
    writer.writeheader()
    writer.writerow({**base, **row})
    return out.getvalue()


def customers_csv(**row) -> str:
    out = io.StringIO()
    base = {
        "external_id": "OLD-9",
        "name": "Ada Lovelace",
        "company": "",
        "email": "ada@example.com",
        "address_line1": "12 Engine St",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62701",
        "country": "US",
        "payment_method": "check",
    }
    writer = csv.DictWriter(out, fieldnames=list(base))
    writer.writeheader()
    writer.writerow({**base, **row})
    return out.getvalue()


def refused_in_file(format: str, content: str, where: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        bank_file_import(actor=ACTOR, format=format, filename="day", content=content)
    assert where in refused.value.message, refused.value.message


def no_5xx(response) -> None:
    assert response.status_code < 500, response.content[:500]


def post_form(client: Client, url: str, data: dict):
    """POST as a browser would. A lone surrogate cannot be sent as text: a
    browser sends what it has as bytes that are not UTF-8 (ED A0 80), which
    Django reads as U+FFFD, refused like the surrogate itself."""
    from urllib.parse import quote

    def encode(value) -> str:
        return quote(str(value).encode("utf-8", "surrogatepass"), safe="")

    body = "&".join(
        f"{encode(k)}={encode(v)}"
        for k, values in data.items()
        for v in (values if isinstance(values, list) else [values])
    )
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


# -- text -------------------------------------------------------------------
@pytest.mark.parametrize("value", TEXT.values(), ids=TEXT.keys())
def test_hostile_text_is_refused_at_every_door(api, day, value):
    customer = make_customer(company="Acme")
    before = stored()

    # the API
    answer = api.patch(f"/customers/{customer.pk}", {"company": value})
    assert answer.status_code == 422 and answer.body["field"] == "company", answer.content

    # the back office's customer form, submitted with the values it shows
    staff = manager()
    page = staff.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    form = form_with(page, "company")
    answer = post_form(
        staff, f"/admin/customers/customer/{customer.pk}/change/", form.data(company=value)
    )
    no_5xx(answer)
    assert answer.status_code == 200 and "errorlist" in answer.content.decode()

    # the portal's contact form
    portal = Client()
    portal.force_login(portal_login_for(customer))
    page = portal.get("/portal/contact/").content.decode()
    answer = post_form(portal, "/portal/contact/", form_with(page, "company").data(company=value))
    no_5xx(answer)
    assert answer.status_code == 200
    assert "contact information is saved" not in answer.content.decode()

    # the customer CSV import: row 2, column company
    report = run_import(actor=ACTOR, kind="customers", text=customers_csv(company=value))
    assert not report.ok and (2, "company") in {(e.row, e.column) for e in report.errors}

    # a lockbox CSV and a BAI2 file: the item's line (record) and column
    unreadable = "\x00" in value or "\ud800" in value  # refused for the line as a whole
    refused_in_file(
        "lockbox", lockbox(payer_name=value), "line 2" if unreadable else "line 2, payer_name"
    )
    bai2 = bai2_file([Item("B-1", 4995, payer_name=value.replace("\n", " "))], TODAY)
    with pytest.raises(InvalidInput):
        bank_file_import(actor=ACTOR, format="bai2", filename="day.bai", content=bai2)

    # a deposit batch keyed by a clerk
    batch = api.post("/deposit-batches", {"reference": "DS-1"})
    assert batch.status_code == 201, batch.content
    item = api.post(
        f"/deposit-batches/{batch.body['id']}/items",
        {"account_number": customer.account_number, "amount": "10.00", "payer_name": value},
    )
    assert item.status_code == 422 and item.body["field"] == "payer_name", item.content

    assert stored() == before


# -- amounts ------------------------------------------------------------------
@pytest.mark.parametrize("value", AMOUNTS.values(), ids=AMOUNTS.keys())
def test_hostile_amounts_are_refused_at_every_door(api, day, value):
    customer = make_customer()
    invoice = make_invoice(customer)
    before = stored()

    answer = api.post("/payments", {"customer": customer.pk, "amount": value, "method": "check"})
    assert answer.status_code == 422 and answer.body["field"] == "amount", answer.content

    staff = manager()
    url = f"/admin/customers/customer/{customer.pk}/record-payment/"
    form = form_with(staff.get(url).content.decode(), "amount")
    answer = staff.post(url, form.data(amount=value, method="check"))
    no_5xx(answer)
    assert answer.status_code == 200 and "errorlist" in answer.content.decode()

    portal = Client()
    portal.force_login(portal_login_for(customer))
    page = portal.get(f"/portal/pay/?invoice={invoice.number}").content.decode()
    answer = portal.post("/portal/pay/", form_with(page, "amount").data(amount=value))
    no_5xx(answer)
    assert answer.status_code == 400 and "errorlist" in answer.content.decode()

    balances = (
        f"customer_external_id,amount,as_of\n{customer.external_id or 'X'},{value},2026-11-01\n"
    )
    report = run_import(actor=ACTOR, kind="balances", text=balances)
    assert not report.ok

    refused_in_file("lockbox", lockbox(amount=value), "line 2, amount")
    if value.isdigit():  # a BAI2 amount is whole cents; NaN cannot be written there
        with pytest.raises(InvalidInput):
            bank_file_import(
                actor=ACTOR,
                format="bai2",
                filename="d.bai",
                content=bai2_file([Item("B-1", int(value))], TODAY),
            )

    batch = api.post("/deposit-batches", {"reference": "DS-2"})
    item = api.post(
        f"/deposit-batches/{batch.body['id']}/items",
        {"invoice_number": invoice.number, "amount": value},
    )
    assert item.status_code == 422 and item.body["field"] == "amount", item.content

    assert stored() == before


# -- dates ---------------------------------------------------------------------
@pytest.mark.parametrize("value", DATES.values(), ids=DATES.keys())
def test_hostile_dates_are_refused_at_every_door(api, day, value):
    customer = make_customer(external_id="OLD-1")
    invoice = make_invoice(customer)
    before = stored()

    answer = api.post(
        "/payments",
        {"customer": customer.pk, "amount": "1.00", "method": "check", "date": value},
    )
    assert answer.status_code == 422 and answer.body["field"] == "date", answer.content

    staff = manager()
    url = f"/admin/customers/customer/{customer.pk}/record-payment/"
    form = form_with(staff.get(url).content.decode(), "amount")
    answer = staff.post(url, form.data(amount="1.00", method="check", date=value))
    no_5xx(answer)
    assert answer.status_code == 200 and "errorlist" in answer.content.decode()

    portal = Client()
    portal.force_login(portal_login_for(customer))
    page = portal.get("/portal/promise/")
    no_5xx(page)
    if page.status_code == 200 and "promised_on" in page.content.decode():
        form = form_with(page.content.decode(), "promised_on")
        no_5xx(portal.post("/portal/promise/", form.data(amount="49.95", promised_on=value)))

    report = run_import(
        actor=ACTOR,
        kind="balances",
        text=f"customer_external_id,amount,as_of\nOLD-1,10.00,{value}\n",
    )
    assert not report.ok and (2, "as_of") in {(e.row, e.column) for e in report.errors}

    refused_in_file("lockbox", lockbox(deposit_date=value), "line 2, deposit_date")

    batch = api.post("/deposit-batches", {"reference": "DS-3", "deposit_date": value})
    assert batch.status_code == 422 and batch.body["field"] == "deposit_date", batch.content
    assert not DepositBatch.objects.exists()

    assert stored() == before
    assert invoice.balance_minor == Invoice.objects.get(pk=invoice.pk).balance_minor
    assert not AuditEvent.objects.filter(action__startswith="payment").exists()
