import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.models import AuditEvent
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.models import InvoiceStatus
from isocnet.payments.refunds import refund_create
from isocnet.payments.returns import payment_return
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import credit_adjust, payment_record
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants

pytestmark = pytest.mark.django_db


def test_partial_then_full_payment_of_one_invoice(customer, today):
    invoice = make_invoice(customer)
    result = payment_record(
        actor=ACTOR,
        amount="20.00",
        method="check",
        reference="Check 1042",
        invoice_number=invoice.number,
    )
    invoice.refresh_from_db()
    assert result.applied.as_string() == "20.00"
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.balance.as_string() == "29.95"
    payment_record(
        actor=ACTOR,
        amount="29.95",
        method="check",
        reference="Check 1043",
        invoice_number=invoice.number,
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance.as_string() == "0.00"
    assert AuditEvent.objects.filter(action="payment.record", customer_id=customer.pk).count() == 2
    check_invariants(customer)


def test_overpayment_becomes_credit_and_pays_the_next_invoice(customer, today):
    first = make_invoice(customer)
    result = payment_record(
        actor=ACTOR, amount="100.00", method="check", invoice_number=first.number
    )
    assert result.credit.as_string() == "50.05"
    assert account_summary(customer).credit.as_string() == "50.05"
    assert account_summary(customer).balance.as_string() == "-50.05"
    second = make_invoice(customer)  # credit applies automatically at issue
    assert second.status == InvoiceStatus.PAID
    assert second.credit_applied.as_string() == "49.95"
    assert account_summary(customer).credit.as_string() == "0.10"
    check_invariants(customer)


def test_account_payment_goes_to_the_oldest_due_first(customer, today):
    import datetime as dt

    newer = make_invoice(customer, due_date=today + dt.timedelta(days=20))
    older = make_invoice(customer, due_date=today + dt.timedelta(days=5))
    result = payment_record(
        actor=ACTOR, customer_id=customer.pk, amount="60.00", method="money_order"
    )
    older.refresh_from_db()
    newer.refresh_from_db()
    assert [a.invoice_id for a in result.allocations] == [older.pk, newer.pk]
    assert older.status == InvoiceStatus.PAID
    assert newer.balance.as_string() == "39.90"
    check_invariants(customer)


def test_payment_on_a_paid_invoice_is_refused(customer, today):
    invoice = make_invoice(customer)
    payment_record(actor=ACTOR, amount="49.95", method="cash", invoice_number=invoice.number)
    with pytest.raises(Conflict, match="paid"):
        payment_record(actor=ACTOR, amount="1.00", method="cash", invoice_number=invoice.number)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"amount": "0.00"}, InvalidInput, "amount"),
        ({"amount": "-5.00"}, InvalidInput, "amount"),
        ({"amount": "1.001"}, InvalidInput, "amount"),
        ({"amount": "NaN"}, InvalidInput, "amount"),
        ({"amount": "5.00", "method": "bitcoin"}, InvalidInput, "method"),
        ({"amount": "5.00", "received_on": "2026-02-30"}, InvalidInput, "date"),
        ({"amount": "5.00", "invoice_number": "2099-000001"}, NotFound, "invoice"),
    ],
)
def test_bad_payments_name_the_field_and_write_nothing(customer, today, kwargs, error, field):
    invoice = make_invoice(customer)
    kwargs = {"method": "check", "invoice_number": invoice.number, **kwargs}
    with pytest.raises(error) as err:
        payment_record(actor=ACTOR, **kwargs)
    assert err.value.field == field
    invoice.refresh_from_db()
    assert invoice.balance.as_string() == "49.95"
    assert not customer.payments.exists()


def test_credit_cannot_be_withdrawn_below_zero(customer, today):
    credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="10.00", memo="Goodwill")
    with pytest.raises(Conflict):
        credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="-10.01", memo="Oops")
    assert account_summary(customer).credit.as_string() == "10.00"


# Random sequences of invoices, payments (partial, exact, over), account
# payments and credit grants keep every invariant.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(1, 50_000)),
        st.tuples(st.just("pay_invoice"), st.integers(1, 60_000)),
        st.tuples(st.just("pay_account"), st.integers(1, 80_000)),
        st.tuples(st.just("credit"), st.integers(1, 10_000)),
        st.tuples(st.just("credit_note"), st.integers(1, 60_000)),
        st.tuples(st.just("bounce"), st.integers(0, 1_000)),
        st.tuples(st.just("refund_to_credit"), st.integers(1, 60_000)),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_invariants_hold_for_any_sequence(today, ops):
    with transaction.atomic():
        customer = make_customer()
        invoices = []
        for op, cents in ops:
            amount = f"{cents // 100}.{cents % 100:02d}"
            if op == "invoice":
                invoices.append(make_invoice(customer, [("Service", amount, None)]))
            elif op == "pay_invoice" and invoices:
                target = invoices[cents % len(invoices)]
                target.refresh_from_db()
                if target.status in ("unpaid", "partially_paid"):
                    payment_record(
                        actor=ACTOR, amount=amount, method="check", invoice_number=target.number
                    )
            elif op == "pay_account":
                payment_record(
                    actor=ACTOR, customer_id=customer.pk, amount=amount, method="bank_transfer"
                )
            elif op == "credit":
                credit_adjust(actor=ACTOR, customer_id=customer.pk, amount=amount, memo="Goodwill")
            elif op == "credit_note" and invoices:
                target = invoices[cents % len(invoices)]
                left = target.total_minor - sum(n.amount_minor for n in target.credit_notes.all())
                take = min(cents, left)
                if take > 0:
                    credit_note_create(
                        actor=ACTOR,
                        invoice_number=target.number,
                        amount=f"{take // 100}.{take % 100:02d}",
                        reason="Correction",
                    )
            elif op == "refund_to_credit":
                candidates = [
                    p
                    for p in customer.payments.filter(status="succeeded").order_by("id")
                    if sum(a.amount_minor for a in p.allocations.all()) > 0
                ]
                if candidates:
                    payment = candidates[cents % len(candidates)]
                    take = min(cents, sum(a.amount_minor for a in payment.allocations.all()))
                    refund_create(
                        actor=ACTOR,
                        payment_id=payment.pk,
                        amount=f"{take // 100}.{take % 100:02d}",
                        destination="credit",
                        reason="Moved",
                    )
            elif op == "bounce":
                returnable = list(customer.payments.filter(status="succeeded").order_by("id"))
                if returnable:
                    payment_return(actor=ACTOR, payment_id=returnable[cents % len(returnable)].pk)
            check_invariants(customer)
        transaction.set_rollback(True)
