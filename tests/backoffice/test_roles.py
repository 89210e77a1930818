"""Roles are enforced in the services: the back office, the API and the CLI
cannot differ."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from isocnet.core.actors import Actor
from isocnet.core.errors import Forbidden
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.services import invoice_void
from isocnet.notifications.services import message_resend
from isocnet.operations.billing_run import billing_run
from isocnet.payments.refunds import refund_create
from isocnet.payments.services import credit_adjust, payment_record
from tests.factories import make_customer, make_invoice


def staff(name, group=None, superuser=False):
    User = get_user_model()
    user = User.objects.create_user(name, f"{name}@isocnet.example", "pw-123-xyz", is_staff=True)
    if superuser:
        user.is_superuser = True
        user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def people(db):
    return {
        "clerk": Actor.staff(staff("cleo", "Billing clerk")),
        "manager": Actor.staff(staff("mona", "Billing manager")),
        "support": Actor.staff(staff("sam", "Support agent")),
        "nobody": Actor.staff(staff("ned")),
        "root": Actor.staff(staff("root", superuser=True)),
    }


def test_roles_come_from_groups(people):
    assert {k: a.role for k, a in people.items()} == {
        "clerk": "clerk",
        "manager": "manager",
        "support": "support",
        "nobody": "support",
        "root": "manager",
    }


def test_a_clerk_records_payments_but_cannot_refund_void_credit_or_bill(people, today):
    clerk, manager = people["clerk"], people["manager"]
    invoice = make_invoice(make_customer(), lines=(("Fiber", "80.00", None),))
    other = make_invoice(invoice.customer, lines=(("Install", "20.00", None),))
    paid = payment_record(
        actor=clerk, invoice_number=invoice.number, amount="30.00", method="check"
    )
    forbidden = [
        lambda a: refund_create(
            actor=a,
            payment_id=paid.payment.pk,
            amount="5.00",
            destination="credit",
            reason="Goodwill",
        ),
        lambda a: invoice_void(actor=a, invoice_id=other.pk, reason="Sent in error"),
        lambda a: credit_note_create(
            actor=a, invoice_number=invoice.number, amount="5.00", reason="Outage"
        ),
        lambda a: credit_adjust(
            actor=a, customer_id=invoice.customer_id, amount="5.00", memo="Goodwill"
        ),
        lambda a: billing_run(date=today, actor=a),
    ]
    for attempt in forbidden:
        with pytest.raises(Forbidden, match="a billing clerk may not"):
            attempt(clerk)
    for attempt in forbidden:  # the manager may
        attempt(manager)
    billing_run(date=today, actor=clerk, dry_run=True)  # a preview is a read


def test_support_reads_only(people, today):
    invoice = make_invoice(make_customer(), lines=(("Fiber", "80.00", None),))
    with pytest.raises(Forbidden, match="a support agent may not record payments"):
        payment_record(
            actor=people["support"], invoice_number=invoice.number, amount="1.00", method="check"
        )
    with pytest.raises(Forbidden):
        payment_record(
            actor=people["nobody"], invoice_number=invoice.number, amount="1.00", method="check"
        )
    with pytest.raises(Forbidden):
        message_resend(actor=people["support"], message_id=1)


def test_the_back_office_follows_the_role(people, client, today):
    customer = make_customer()
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    form = {
        "amount": "10.00",
        "method": "check",
        "reference": "55",
        "date": "2026-11-20",
        "invoice": invoice.number,
    }
    url = f"/admin/customers/customer/{customer.pk}/record-payment/"
    client.force_login(get_user_model().objects.get(username="sam"))
    assert client.get(f"/admin/customers/customer/{customer.pk}/change/").status_code == 200
    refused = client.post(url, form)
    assert "a support agent may not record payments" in refused.content.decode()
    client.force_login(get_user_model().objects.get(username="cleo"))
    assert client.post(url, form).status_code == 302
    invoice.refresh_from_db()
    assert invoice.balance_minor == 7000
