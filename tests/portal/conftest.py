import re

import pytest

from isocnet.customers.portal_access import portal_invite
from isocnet.notifications.rendering import render_into
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.cards import card_attach
from tests.factories import ACTOR, make_customer

PASSWORD = "correct-horse-battery-9"


def portal_login_for(customer, password=PASSWORD):
    login = portal_invite(actor=ACTOR, customer_id=customer.pk)
    login.user.set_password(password)
    login.user.save()
    return login.user


@pytest.fixture
def member(db):
    """A check-paying customer with a portal login and a password."""
    customer = make_customer(name="Dana Member", email="dana@example.com")
    user = portal_login_for(customer)
    return customer, user


@pytest.fixture
def signed_in(client, member):
    client.force_login(member[1])
    return client


def with_card(customer, token="tok_visa", default=True):
    return card_attach(actor=ACTOR, customer_id=customer.pk, token=token, make_default=default)


def rendered(message: OutboxMessage) -> OutboxMessage:
    """Render an outbox message as delivery would (without sending it)."""
    render_into(message)
    message.save()
    return message


def link_in(text: str, prefix: str) -> str:
    match = re.search(re.escape(prefix) + r"\S+", text)
    assert match, f"no link starting {prefix} in:\n{text}"
    return match.group(0)
