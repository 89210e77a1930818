"""Statements of account: opening balance + charges - payments = closing
balance, and the closing balance is what the account owes (open invoices
less credit), whatever happened on the account."""

import datetime as dt
import io
import uuid

from pypdf import PdfReader

from isocnet.core import clock
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.payments import card_payments
from isocnet.payments.refunds import refund_create
from isocnet.payments.returns import payment_return
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import credit_adjust, payment_record
from isocnet.portal.selectors import statement
from tests.factories import ACTOR, make_invoice
from tests.portal.conftest import with_card

LONG_AGO = dt.date(2000, 1, 1)


def owed(customer):
    return account_summary(customer).balance


def test_the_closing_balance_is_always_what_the_account_owes(member):
    customer, _ = member
    steps = []
    with clock.frozen_at(dt.date(2026, 9, 1)):
        a = make_invoice(customer, lines=(("September", "80.00", None),))
        steps.append("invoice")
    with clock.frozen_at(dt.date(2026, 9, 10)):
        check = payment_record(
            actor=ACTOR, invoice_number=a.number, amount="50.00", method="check", reference="2041"
        ).payment
        steps.append("part payment")
    with clock.frozen_at(dt.date(2026, 10, 1)):
        b = make_invoice(customer, lines=(("October", "80.00", None),))
        payment_record(actor=ACTOR, customer_id=customer.pk, amount="200.00", method="check")
        steps.append("overpayment")
    with clock.frozen_at(dt.date(2026, 10, 5)):
        payment_return(actor=ACTOR, payment_id=check.pk)
        steps.append("returned check")
    with clock.frozen_at(dt.date(2026, 11, 1)):
        c = make_invoice(customer, lines=(("November", "80.00", None),))
        credit_note_create(actor=ACTOR, invoice_number=c.number, amount="10.00", reason="Outage")
        credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="5.00", memo="Goodwill")
        steps.append("credit note and goodwill")
    with clock.frozen_at(dt.date(2026, 11, 3)):
        d = make_invoice(customer, lines=(("Static IP", "120.00", None),))
        card = with_card(customer)
        wanted = card_payments.payment_request_clean(
            customer_id=customer.pk,
            amount=str(d.balance.amount),
            invoice_number=d.number,
            add_credit=False,
            currency="USD",
        )
        call = card_payments.card_payment_make(
            actor=ACTOR,
            customer_id=customer.pk,
            attempt=uuid.uuid4().hex,
            request=wanted,
            card_id=card.pk,
        )
        refund_create(
            actor=ACTOR,
            payment_id=call.payment_id,
            amount="20.00",
            destination="card",
            reason="Billed twice",
        )
        steps.append("card payment and refund")
    for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 20)):
        s = statement(customer, LONG_AGO, day)
        assert s.opening.minor() == 0
        assert s.closing == s.opening + s.charges - s.payments
    final = statement(customer, LONG_AGO, dt.date(2026, 11, 20))
    assert final.closing == owed(customer), steps
    descriptions = [line.description for line in final.lines]
    assert "Payment returned (2041)" in descriptions and "Refund to your card" in descriptions
    # a later period opens where the earlier one closed
    october = statement(customer, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert october.opening == statement(customer, LONG_AGO, dt.date(2026, 9, 30)).closing
    assert a and b


def test_statement_page_and_pdf(signed_in, member, today):
    customer, _ = member
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="30.00", method="check", reference="7731"
    )
    page = signed_in.get("/portal/statement/").content.decode()
    assert f"Invoice #{invoice.number}" in page and "Payment, check (7731)" in page
    assert "$50.00" in page
    pdf = signed_in.get("/portal/statement/pdf/?start=2026-01-01&end=2026-11-20")
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in (
        "STATEMENT OF ACCOUNT",
        customer.account_number,
        f"Invoice #{invoice.number}",
        "Closing balance",
        "$50.00",
        "Amount owed",
    ):
        assert expected in text, expected
    bad = signed_in.get("/portal/statement/?start=2026-11-20&end=2026-01-01")
    assert bad.status_code == 400 and "must not be before the start" in bad.content.decode()
    future = signed_in.get("/portal/statement/pdf/?start=2026-01-01&end=2099-01-01")
    assert future.status_code == 400


def test_entries_are_in_the_order_they_happened_and_the_pdf_has_one_date_format(signed_in, member):
    customer, _ = member
    day = dt.date(2026, 11, 10)
    with clock.frozen_at(dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.UTC)):
        credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="5.00", memo="Goodwill")
    with clock.frozen_at(dt.datetime(2026, 11, 10, 16, 0, tzinfo=dt.UTC)):
        payment_record(
            actor=ACTOR, customer_id=customer.pk, amount="20.00", method="check", reference="88"
        )
    with clock.frozen_at(dt.datetime(2026, 11, 10, 17, 0, tzinfo=dt.UTC)):
        invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    with clock.frozen_at(dt.datetime(2026, 11, 10, 18, 0, tzinfo=dt.UTC)):
        payment_record(
            actor=ACTOR,
            invoice_number=invoice.number,
            amount="10.00",
            method="check",
            reference="89",
        )
    s = statement(customer, dt.date(2026, 11, 1), day)
    # same day, so posting order decides (charges are not pulled ahead of payments)
    assert [line.description for line in s.lines] == [
        "Account credit: Goodwill",
        "Payment, check (88)",
        f"Invoice #{invoice.number}",
        "Payment, check (89)",
    ]
    assert [line.balance.as_string() for line in s.lines] == ["-5.00", "-25.00", "55.00", "45.00"]
    with clock.frozen_at(day):
        pdf = signed_in.get("/portal/statement/pdf/?start=2026-11-01&end=2026-11-10")
    text = " ".join(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "November 10, 2026" in text and "November 1, 2026" in text
    assert "11/10/2026" not in text  # no second date format in the table
