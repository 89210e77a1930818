"""Late fees driven by the daily run over months on the injectable clock."""

from decimal import Decimal

import pytest

from isocnet.collections.late_fees import late_fee_waive
from isocnet.collections.models import LateFee
from isocnet.collections.policy import current
from isocnet.core import clock
from isocnet.core.errors import Conflict
from isocnet.invoicing.models import Charge, CreditNote, Invoice, InvoiceLine
from isocnet.payments.services import payment_record
from tests.collections.helpers import D, check_payer, days, kinds, policy, text_of
from tests.factories import ACTOR, make_tax

pytestmark = pytest.mark.django_db


def fee_lines(customer):
    return list(
        InvoiceLine.objects.filter(invoice__customer=customer, kind="late_fee").values_list(
            "invoice__due_date", "amount_minor"
        )
    )


def test_a_late_fee_once_after_the_grace_named_before_in_the_overdue_notice_then_on_the_next_invoice():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 10), twice=True)
    assert not LateFee.objects.exists()
    _subject, text = text_of(customer, "overdue_1")
    assert (
        "A late fee of $5.00 will be added on December 11, 2026 unless the balance is paid by then."
        in text
    )
    days(D(2026, 12, 11), D(2026, 12, 17), twice=True)
    fee = LateFee.objects.get()
    assert (fee.invoice, fee.sequence, fee.charged_on, fee.amount_minor) == (
        december,
        0,
        D(2026, 12, 11),
        500,
    )
    # the fee waits as a charge for January's invoice (issued 12/18, 14 days ahead)
    assert fee.charge.invoice_line is None
    # the notices after the fee no longer announce it
    _, text = text_of(customer, "overdue_3")
    assert "late fee" not in text
    days(D(2026, 12, 18), D(2027, 2, 20))
    assert LateFee.objects.filter(invoice=december).count() == 1  # once: never again for December
    assert fee_lines(customer)[0] == (D(2027, 1, 1), 500)
    january = Invoice.objects.get(customer=customer, due_date=D(2027, 1, 1))
    line = january.lines.get(kind="late_fee")
    assert line.description == f"Late fee, invoice #{december.number} (due December 1, 2026)"
    # and no fee on January for its own late fee: its fee is on its balance without it
    jan_fee = LateFee.objects.filter(invoice=january).first()
    assert jan_fee is None or jan_fee.base_minor == january.total_minor - 500


def test_no_fee_when_paid_within_the_grace():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, _december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 9))
    with clock.frozen_at(D(2026, 12, 10)):
        payment_record(actor=ACTOR, customer_id=customer.pk, amount="49.95", method="check")
    days(D(2026, 12, 10), D(2026, 12, 31))
    assert not LateFee.objects.exists()


def test_monthly_fees_never_more_than_one_a_month_and_missed_months_charge_only_the_latest():
    policy(late_fee_flat="5.00", late_fee_grace_days=10, late_fee_repeat="monthly")
    _customer, december = check_payer()
    days(D(2026, 12, 1), D(2027, 2, 15))
    on_december = list(
        LateFee.objects.filter(invoice=december)
        .order_by("sequence")
        .values_list("sequence", "charged_on")
    )
    assert on_december == [(0, D(2026, 12, 11)), (1, D(2027, 1, 11)), (2, D(2027, 2, 11))]


def test_missed_runs_charge_one_fee_for_the_latest_month():
    policy(late_fee_flat="5.00", late_fee_grace_days=10, late_fee_repeat="monthly")
    _customer, december = check_payer()
    for day in (D(2026, 12, 2), D(2027, 3, 15), D(2027, 3, 16)):
        days(day, day)
    assert list(LateFee.objects.filter(invoice=december).values_list("sequence", flat=True)) == [3]


@pytest.mark.parametrize(
    "rule, expected",
    [
        ({"late_fee_percent": "1.5"}, 75),  # 1.5 % of 49.95 = 0.74925, rounded half up
        ({"late_fee_percent": "1.5", "late_fee_min": "5.00"}, 500),
        ({"late_fee_flat": "25.00", "late_fee_max": "10.00"}, 1000),
        # a state's cap (5 % of the overdue balance) wins over the minimum
        ({"late_fee_flat": "5.00", "late_fee_min": "5.00", "late_fee_cap_percent": "5"}, 250),
        ({"late_fee_flat": "2.00", "late_fee_percent": "10"}, 700),
    ],
)
def test_flat_percent_minimum_maximum_and_cap(rule, expected):
    policy(late_fee_grace_days=5, **rule)
    _customer, _december = check_payer()
    days(D(2026, 12, 6), D(2026, 12, 6))
    assert LateFee.objects.get().amount_minor == expected


def test_a_fee_on_an_invoice_of_its_own_taxed_and_never_itself_charged_a_fee():
    tax = make_tax("10")
    policy(
        late_fee_flat="5.00",
        late_fee_grace_days=10,
        late_fee_on="own_invoice",
        late_fee_tax_rate_id=tax.pk,
    )
    customer, december = check_payer()
    days(D(2026, 12, 11), D(2027, 1, 31))
    fee = LateFee.objects.get(invoice=december)
    own = fee.fee_invoice
    assert own.number and own.status == "unpaid" and own.total_minor == 550  # 5.00 + 10 % tax
    assert own.due_date == D(2026, 12, 21)  # payment terms: 10 days
    assert not LateFee.objects.filter(invoice=own).exists()
    assert "invoice" in kinds(customer)  # the fee invoice is emailed like any other


def test_no_fee_on_a_held_invoice():
    from isocnet.collections.promises import promise_create

    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, _december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 5))
    with clock.frozen_at(D(2026, 12, 5)):
        promise_create(
            actor=ACTOR, customer_id=customer.pk, amount="49.95", promised_on=D(2026, 12, 15)
        )
    days(D(2026, 12, 6), D(2026, 12, 15))
    assert not LateFee.objects.exists()


def test_waiving_a_fee_still_waiting_takes_it_off_the_next_invoice():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, _december = check_payer()
    days(D(2026, 12, 11), D(2026, 12, 11))
    fee = LateFee.objects.get()
    with clock.frozen_at(D(2026, 12, 12)):
        late_fee_waive(actor=ACTOR, late_fee_id=fee.pk, reason="First time; customer called")
    fee.refresh_from_db()
    assert (
        fee.waived_at and fee.charge is None and not Charge.objects.filter(kind="late_fee").exists()
    )
    days(D(2026, 12, 12), D(2026, 12, 31))
    assert fee_lines(customer) == [] and LateFee.objects.count() == 1  # and not charged again
    with pytest.raises(Conflict):
        late_fee_waive(actor=ACTOR, late_fee_id=fee.pk, reason="again")


def test_waiving_an_invoiced_fee_is_a_credit_note_on_the_invoice_that_carries_it():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, _december = check_payer()
    days(D(2026, 12, 11), D(2026, 12, 18))
    fee = LateFee.objects.get()
    january = fee.charge.invoice_line.invoice
    before = january.balance_minor
    with clock.frozen_at(D(2026, 12, 19)):
        late_fee_waive(actor=ACTOR, late_fee_id=fee.pk, reason="Check was in the mail")
    note = CreditNote.objects.get()
    assert (note.invoice, note.amount_minor) == (january, 500)
    assert note.reason == "Late fee waived: Check was in the mail"
    january.refresh_from_db()
    assert january.balance_minor == before - 500
    assert "credit_note" in kinds(customer)


def test_the_policy_defaults_to_no_fee():
    assert current().late_fees is False
    _customer, _december = check_payer()
    days(D(2026, 12, 1), D(2027, 1, 15))
    assert not LateFee.objects.exists()
    assert Decimal(current().late_fee_flat) == 0
