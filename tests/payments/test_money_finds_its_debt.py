"""Issue #30, item 9: money finds its debt. What a payment leaves over
after the invoice it names pays the account's other open invoices, oldest
due first; only the rest becomes account credit, so an account never shows
credit beside a due invoice. The API's ``credit`` is what this payment
added to credit, ``account_credit`` the account's whole credit."""

import pytest

from isocnet.payments.selectors import account_summary
from tests.factories import make_customer, make_invoice

pytestmark = pytest.mark.django_db


def test_a_check_naming_one_invoice_pays_the_others_before_becoming_credit(api, today):
    customer = make_customer()
    small = make_invoice(customer, lines=(("Static IP", "12.50", None),))
    other = make_invoice(customer, lines=(("Fiber", "24.95", None),))
    answer = api.post("/payments", {"invoice": small.number, "amount": "50.00", "method": "check"})
    assert answer.status_code == 201, answer.content
    assert answer.body["applied"] == "37.45"
    assert answer.body["credit"] == "12.55" and answer.body["account_credit"] == "12.55"
    assert {a["invoice"]: a["amount"] for a in answer.body["allocations"]} == {
        small.number: "12.50",
        other.number: "24.95",
    }
    other.refresh_from_db()
    assert other.status == "paid"
    summary = account_summary(customer)
    assert summary.balance.as_string() == "-12.55"  # in credit, nothing due beside it


def test_the_credit_field_is_this_payments_not_the_accounts(api, today):
    customer = make_customer()
    invoice = make_invoice(customer, lines=(("Fiber", "40.00", None),))
    api.post("/payments", {"invoice": invoice.number, "amount": "50.00", "method": "check"})
    second = api.post("/payments", {"customer": customer.pk, "amount": "5.00", "method": "cash"})
    assert second.body["credit"] == "5.00" and second.body["account_credit"] == "15.00"
