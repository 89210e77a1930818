"""What a hostile user or a careless clerk sends through the API (issue #16,
items 3–6 and 8–10): each class of input is refused with a 4xx naming the
field, before anything is numbered or written, and never echoed when it is
a card number. Runs on SQLite and PostgreSQL."""

import datetime as dt
import json

import pytest

from isocnet.api.models import IdempotencyRecord
from isocnet.core import clock
from isocnet.core.models import AuditEvent, Sequence
from isocnet.core.pan import card_number_in, redact
from isocnet.invoicing.models import BillingRun, Charge, Invoice
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import Payment, PaymentMethod
from isocnet.payments.services import credit_adjust
from tests.factories import ACTOR, make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db
PAN = "4111 1111 1111 1111"


def nothing_written():
    return (
        Invoice.objects.count(),
        Sequence.objects.filter(name__startswith="invoice").count(),
        OutboxMessage.objects.count(),
        Payment.objects.count(),
    )


def invoice_body(customer, *lines):
    return {
        "customer": customer.pk,
        "lines": [{"description": d, "unit_price": p, "quantity": q} for d, p, q in lines],
    }


# -- 3. amounts with an upper bound ------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "field", "reason"),
    [
        ([("Huge", "9999999999.99", 1)], "lines[0].unit_price", "must not exceed"),
        ([("Many", "9999999999.99", 1000000)], "lines[0].quantity", "at most 100000"),
        ([("Big", "1000000.00", 11)], "lines[0].quantity", "quantity × unit price"),
        ([("Big", "9000000.00", 1)] * 10, "lines[1]", "the invoice total must not exceed"),
    ],
)
def test_bounds_on_manual_invoices(api, today, lines, field, reason):
    customer = make_customer()
    before = nothing_written()
    response = api.post("/invoices", invoice_body(customer, *lines))
    assert response.status_code == 422, response.body
    assert response.body["field"] == field and reason in response.body["message"]
    assert nothing_written() == before  # nothing numbered, nothing emailed


def test_the_limit_itself_is_accepted(api, today):
    customer = make_customer()
    response = api.post("/invoices", invoice_body(customer, ("Enterprise", "1000000.00", 10)))
    assert response.status_code == 201 and response.body["total"] == "10000000.00"


def test_bounds_on_payments_charges_and_services(api, today):
    customer = make_customer()
    invoice = make_invoice(customer)
    paid = api.post(
        "/payments",
        {"invoice": invoice.number, "amount": "10000000.01", "method": "check"},
    )
    assert paid.status_code == 422 and paid.body["field"] == "amount"
    charge = api.post(
        f"/customers/{customer.pk}/charges",
        {"description": "Cable", "unit_price": "5000.00", "quantity": 5000},
    )
    assert charge.status_code == 422 and charge.body["field"] == "quantity"
    assert not Charge.objects.exists()
    plan = make_plan(price="9000.00")
    service = api.post(
        "/subscriptions",
        {"customer": customer.pk, "plan": plan.pk, "start_date": "2026-11-20", "quantity": 5000},
    )
    assert service.status_code == 422 and service.body["field"] == "quantity"


def test_a_billing_run_refuses_an_invoice_beyond_the_limit(today):
    from isocnet.invoicing.models import BillingRunItem
    from tests.invoicing.billing_helpers import run

    customer = make_customer()
    subscribe(customer, make_plan(price="1000000.00"), today, quantity=10)
    subscribe(customer, make_plan(price="1.00"), today)
    summary = run(today)
    assert summary.invoices == 0 and summary.refused == 1
    item = BillingRunItem.objects.get(customer=customer)
    assert "beyond the limits" in item.message


# -- 4. text that breaks storage or lines --------------------------------------------
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Eve\ud800", "lone surrogate"),
        ("Eve\u2028Bcc: x@example.com", "single line"),
        ("Eve\u2029Adam", "single line"),
        ("Eve\x85Adam", "single line"),
        ("Eve\x07", "control characters"),
        ("Eve\u202egnp.exe", "text-direction"),
        ("Eve\u0378", "unassigned"),
        ("Eve\ue000", "private-use"),
    ],
)
def test_text_that_breaks_storage_or_lines_is_refused_naming_the_field(api, today, value, reason):
    customer = make_customer()
    response = api.patch(f"/customers/{customer.pk}", {"company": value})
    assert response.status_code == 422, response.content
    assert response.body["field"] == "company" and reason in response.body["message"]
    invoice = api.post("/invoices", invoice_body(customer, (value, "10.00", 1)))
    assert invoice.status_code == 422
    assert invoice.body["field"].startswith("lines[0].description") or invoice.body["field"] == (
        "lines[0].description"
    )
    assert not Invoice.objects.exists()


def test_a_lone_surrogate_anywhere_in_a_body_is_a_422_not_a_500(api, today):
    customer = make_customer()
    raw = '{"customer": %d, "lines": [{"description": "x", "unit_price": "1.00"}], "notes": "\\ud800"}'
    response = api.post("/invoices", raw=raw % customer.pk)
    assert response.status_code == 422 and response.body["field"] == "notes"
    deep = api.post("/payments", raw='{"method": "check", "amount": "1.00", "x": ["\\udfff"]}')
    assert deep.status_code == 422 and deep.body["field"] == "x[0]"
    query = api.get("/customers?q=%ED%A0%80")  # the bytes of a surrogate: not UTF-8
    assert query.status_code < 500


def test_multi_line_notes_keep_their_line_breaks(api, today):
    customer = make_customer()
    response = api.patch(f"/customers/{customer.pk}", {"notes": "Gate code 1234\nCall first"})
    assert response.status_code == 200 and response.body["notes"] == "Gate code 1234\nCall first"


# -- 5. card numbers in free text ---------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/payments",
            {"amount": "1.00", "method": "check", "reference": f"card {PAN}"},
            "reference",
        ),
        (
            "/payments",
            {"amount": "1.00", "method": "check", "reference": "4111-1111-1111-1111"},
            "reference",
        ),
        (None, {"notes": f"pays with {PAN} exp 12/29"}, "notes"),
        (None, {"company": "tok_4111111111111111"}, "company"),
        ("cards", {"token": "tok_4111111111111111"}, "token"),
        ("cards", {"token": "4111111111111111x"}, "token"),
        ("charges", {"description": f"card {PAN}", "unit_price": "5.00"}, "description"),
        ("credit", {"amount": "5.00", "memo": f"refund to {PAN}"}, "memo"),
    ],
)
def test_card_numbers_in_any_text_are_refused_without_echo_or_trace(api, today, path, body, field):
    customer = make_customer()
    if path == "/payments":
        body = {**body, "customer": customer.pk}
    elif path is None:
        path = f"/customers/{customer.pk}"
    else:
        path = f"/customers/{customer.pk}/{path}"
    send = api.patch if path == f"/customers/{customer.pk}" else api.post
    api.headers["Idempotency-Key"] = f"pan-{field}"
    response = send(path, body)
    del api.headers["Idempotency-Key"]
    assert response.status_code == 422, response.content
    assert response.body["field"] == field
    text = response.content.decode()
    assert not card_number_in(text) and "4111" not in text  # never echoed
    assert not IdempotencyRecord.objects.exists()  # a refused body is never kept
    stored = json.dumps(
        [list(m.objects.values()) for m in (Payment, PaymentMethod, Charge, AuditEvent)],
        default=str,
    )
    assert not card_number_in(stored)


def test_messages_that_quote_input_never_quote_a_card_number(api, today):
    customer = make_customer()
    invoice = make_invoice(customer)
    response = api.post("/payments", {"invoice": invoice.number, "amount": PAN, "method": "check"})
    assert response.status_code == 422 and "4111" not in response.content.decode()
    assert redact(f"amount {PAN!r} is bad") == "amount '[card number removed]' is bad"


# -- 6. currency switch with history -----------------------------------------------------
def test_currency_cannot_change_once_the_account_has_money_history(api, today):
    fresh = make_customer()
    assert api.patch(f"/customers/{fresh.pk}", {"currency": "EUR"}).status_code == 200
    with_credit = make_customer()
    credit_adjust(actor=ACTOR, customer_id=with_credit.pk, amount="50.00", memo="goodwill")
    refused = api.patch(f"/customers/{with_credit.pk}", {"currency": "JPY"})
    assert refused.status_code == 409 and refused.body["field"] == "currency"
    assert "holds account credit" in refused.body["message"]
    with_charge = make_customer()
    api.post(
        f"/customers/{with_charge.pk}/charges", {"description": "Install", "unit_price": "99.00"}
    )
    refused = api.patch(f"/customers/{with_charge.pk}", {"currency": "EUR"})
    assert refused.status_code == 409 and "one-time charges" in refused.body["message"]
    with_invoice = make_customer()
    make_invoice(with_invoice)
    refused = api.patch(f"/customers/{with_invoice.pk}", {"currency": "EUR"})
    assert refused.status_code == 409 and "has invoices" in refused.body["message"]


# -- 8. dates without bounds ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("0001-01-01", "must not be before"),
        ("9999-12-31", "must not be in the future"),
        ("2026-11-21", "must not be in the future"),
        ("20261120", "YYYY-MM-DD"),
        ("2026-W47-5", "YYYY-MM-DD"),
        ("2026-02-30", "not a day of the calendar"),
    ],
)
def test_payment_dates_lie_within_a_window_and_are_iso_8601(api, today, date, reason):
    customer = make_customer()
    invoice = make_invoice(customer)
    response = api.post(
        "/payments",
        {"invoice": invoice.number, "amount": "10.00", "method": "check", "date": date},
    )
    assert response.status_code == 422, response.body
    assert response.body["field"] == "date" and reason in response.body["message"]
    assert not Payment.objects.exists()


def test_a_payment_dated_before_the_account_existed_is_refused(today):
    from isocnet.core.errors import InvalidInput
    from isocnet.payments.services import payment_record

    customer = make_customer()  # opened today, 11/20
    with pytest.raises(InvalidInput) as err:
        payment_record(
            actor=ACTOR,
            customer_id=customer.pk,
            amount="5.00",
            method="check",
            received_on="2026-11-19",
        )
    assert err.value.field == "date"
    payment_record(
        actor=ACTOR,
        customer_id=customer.pk,
        amount="5.00",
        method="check",
        received_on="2026-11-20",
    )


# -- 9. a billing run in the future ------------------------------------------------------------
def test_a_real_billing_run_in_the_future_needs_an_audited_override(api, today):
    customer = make_customer(payment_method="card")
    subscribe(customer, make_plan(), dt.date(2027, 1, 1))
    ahead = (today + dt.timedelta(days=60)).isoformat()
    refused = api.post("/billing-runs", {"date": ahead})
    assert refused.status_code == 422 and refused.body["field"] == "date"
    assert "after today" in refused.body["message"]
    assert not BillingRun.objects.exists() and not Invoice.objects.exists()
    preview = api.post("/billing-runs", {"date": ahead, "dry_run": True})
    assert preview.status_code == 200 and preview.body["invoices_created"] == 1
    done = api.post("/billing-runs", {"date": ahead, "future_override": "year-end test"})
    assert done.status_code == 201
    event = AuditEvent.objects.get(action="billing_run.future_date")
    assert event.after == {"date": ahead, "today": today.isoformat(), "reason": "year-end test"}
    assert event.actor == "api:tests"


def test_the_cli_refuses_a_future_date_without_the_override(db, capsys):
    from django.core.management import CommandError, call_command

    ahead = (clock.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(CommandError, match="after today"):
        call_command("bill", "--date", ahead)
    call_command("bill", "--date", ahead, "--dry-run")  # a preview may look ahead


# -- 10. the smaller ones ------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "DEM", "usd", "US"])
def test_currency_codes_are_iso_4217_codes_in_use(api, today, code):
    response = api.post(
        "/customers",
        {
            "name": "Cur Rency",
            "email": "c@example.com",
            "payment_method": "check",
            "currency": code,
            "address": {"line1": "1 Main St", "city": "X", "postal_code": "1", "country": "US"},
        },
    )
    assert response.status_code == 422 and response.body["field"] == "currency"


def test_cc_addresses_are_limited(api, today):
    customer = make_customer()
    many = [f"cc{i}@example.com" for i in range(6)]
    response = api.patch(f"/customers/{customer.pk}", {"cc_emails": many})
    assert response.status_code == 422 and response.body["field"] == "cc_emails"
    assert api.patch(f"/customers/{customer.pk}", {"cc_emails": many[:5]}).status_code == 200


@pytest.mark.parametrize("value", ["5.0", "5_0", " 5", "+5", "true"])
def test_query_ids_are_integers_not_coerced_text(api, today, value):
    response = api.get(f"/invoices?customer={value}")
    assert response.status_code == 422 and response.body["field"] == "customer"


def test_body_ids_are_json_integers(api, today):
    customer = make_customer()
    response = api.post(
        "/invoices",
        {"customer": str(customer.pk), "lines": [{"description": "x", "unit_price": "1.00"}]},
    )
    assert response.status_code == 422 and response.body["field"] == "customer"


def test_every_schema_name_in_the_api_document_is_one_schema():
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(Schema) if c.__module__.startswith("isocnet.api")]
    names = [c.__name__ for c in ours]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
    from isocnet.api.v1.base import api as billing_api

    schemas = billing_api.get_openapi_schema()["components"]["schemas"]
    assert set(schemas["PlanTaxRateOut"]["properties"]) == {"id", "name", "rate"}
    assert set(schemas["TaxRateOut"]["properties"]) == {"id", "name", "percent", "active"}


def test_a_postal_code_the_post_would_refuse_is_refused_at_every_door(api, today):
    """Issue #32: "ABCDE" was accepted as a US ZIP code and printed."""
    customer = make_customer()
    response = api.patch(f"/customers/{customer.pk}", {"address": {"postal_code": "ABCDE"}})
    assert response.status_code == 422 and response.body["field"] == "address.postal_code"
    assert (
        api.patch(
            f"/customers/{customer.pk}", {"address": {"postal_code": "62701-1234"}}
        ).status_code
        == 200
    )
    from isocnet.imports.services import run_import

    report = run_import(
        actor=ACTOR,
        kind="customers",
        text="external_id,name,email,address_line1,city,postal_code,country,payment_method\n"
        "Z-1,Zed,z@example.com,1 Road,Town,ABCDE,US,check\n",
    )
    assert not report.ok and report.errors[0].column == "postal_code"
