"""Payment plans over months on the injectable clock: exact installments,
kept by check, charged by auto debit, broken by a missed installment."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isocnet.collections.models import PaymentPlan
from isocnet.collections.plans import plan_create, split_exactly
from isocnet.core import clock
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.invoicing.models import Invoice
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import GatewayCall
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription
from tests.collections.helpers import D, check_payer, days, kinds, policy, text_of
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.portal.conftest import with_card

pytestmark = pytest.mark.django_db


@given(
    total=st.integers(min_value=2, max_value=10**9), count=st.integers(min_value=2, max_value=24)
)
def test_installments_add_up_to_the_cent(total, count):
    parts = split_exactly(total, count)
    assert sum(parts) == total and len(parts) == count and max(parts) - min(parts) <= 1


def plan_for(customer, *, on, count, first_on):
    with clock.frozen_at(on):
        return plan_create(
            actor=ACTOR, customer_id=customer.pk, installments=count, first_on=first_on
        )


def status(customer):
    return set(Subscription.objects.filter(customer=customer).values_list("status", flat=True))


def test_a_plan_kept_by_check_holds_fees_and_suspension_until_paid_off():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, december = check_payer("100.00")
    days(D(2026, 12, 1), D(2026, 12, 4))
    plan = plan_for(customer, on=D(2026, 12, 5), count=3, first_on=D(2026, 12, 10))
    assert [(i.due_on, i.amount_minor) for i in plan.installments.all()] == [
        (D(2026, 12, 10), 3334),
        (D(2027, 1, 10), 3333),
        (D(2027, 2, 10), 3333),
    ]
    subject, text = text_of(customer, "plan_made")
    assert subject == "Your Payment Plan: $100.00 in 3 Payments"
    assert (
        "$33.34 on December 10, 2026; $33.33 on January 10, 2027; $33.33 on February 10, 2027"
        in text
    )
    for day, amount in (
        (D(2026, 12, 10), "33.34"),
        (D(2027, 1, 9), "33.33"),
        (D(2027, 2, 10), "33.33"),
    ):
        days(day, day)
        with clock.frozen_at(day):
            payment_record(
                actor=ACTOR,
                customer_id=customer.pk,
                amount=amount,
                method="check",
                invoice_number=december.number,
            )
    days(D(2027, 2, 11), D(2027, 2, 11))
    plan.refresh_from_db()
    december.refresh_from_db()
    assert plan.status == "kept" and december.status == "paid"
    assert not december.late_fees.exists()
    # only the first notice went out (12/02, before the plan); nothing while it was kept
    # (January's invoice, not in the plan, has notices of its own)
    december_kinds = set(
        OutboxMessage.objects.filter(invoice=december).values_list("kind", flat=True)
    )
    assert not {"overdue_2", "overdue_3", "suspension", "plan_broken"} & december_kinds
    assert "plan_broken" not in kinds(customer)
    assert status(customer) != {"suspended"} or january_suspends(customer)


def january_suspends(customer) -> bool:
    """January's invoice (not in the plan, never paid) may suspend by itself."""
    return Invoice.objects.filter(
        customer=customer, due_date=D(2027, 1, 1), status="unpaid"
    ).exists()


def test_a_missed_installment_breaks_the_plan_and_the_policy_resumes():
    customer, december = check_payer("100.00")
    days(D(2026, 12, 1), D(2026, 12, 4))
    plan = plan_for(customer, on=D(2026, 12, 5), count=2, first_on=D(2026, 12, 10))
    days(D(2026, 12, 5), D(2026, 12, 13))
    assert status(customer) == {"active"}
    plan.refresh_from_db()
    assert plan.status == "active"  # PLAN_GRACE_DAYS: 3 days after the 10th
    days(D(2026, 12, 14), D(2026, 12, 14))
    plan.refresh_from_db()
    assert plan.status == "broken"
    assert kinds(customer)[-2:] == ["plan_broken", "overdue_2"]
    subject, text = text_of(customer, "plan_broken")
    assert subject == f"Missed Payment Plan Installment: Invoice #{december.number}"
    assert "of $100.00, we have received $0.00" in text
    assert "suspended on December 18, 2026" in text
    days(D(2026, 12, 15), D(2026, 12, 18))
    assert status(customer) == {"suspended"}


def test_a_card_payers_installments_are_charged_by_auto_debit_on_their_dates():
    customer = make_customer(payment_method="card")
    with_card(customer, token="tok_visa")
    subscribe(customer, make_plan(price="90.00"), D(2026, 12, 1))
    run(D(2026, 11, 17))
    december = Invoice.objects.get(customer=customer, due_date=D(2026, 12, 1))
    # before December's due date the customer agrees to three payments instead
    plan = plan_for(customer, on=D(2026, 11, 30), count=3, first_on=D(2026, 12, 1))
    days(D(2026, 12, 1), D(2027, 2, 2))
    charges = list(
        GatewayCall.objects.filter(invoice=december, kind="charge")
        .order_by("id")
        .values_list("amount_minor", "status")
    )
    assert charges == [(3000, "succeeded"), (3000, "succeeded"), (3000, "succeeded")]
    plan.refresh_from_db()
    december.refresh_from_db()
    assert plan.status == "kept" and december.status == "paid"


def test_plan_errors():
    customer, _december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 4))
    with pytest.raises(InvalidInput) as e:
        plan_for(customer, on=D(2026, 12, 5), count=1, first_on=D(2026, 12, 10))
    assert e.value.field == "installments"
    with pytest.raises(InvalidInput) as e:
        plan_for(customer, on=D(2026, 12, 5), count=3, first_on=D(2027, 2, 10))
    assert e.value.field == "first_on"
    plan_for(customer, on=D(2026, 12, 5), count=3, first_on=D(2026, 12, 10))
    with pytest.raises(Conflict):
        plan_for(customer, on=D(2026, 12, 5), count=2, first_on=D(2026, 12, 10))
    assert PaymentPlan.objects.count() == 1
