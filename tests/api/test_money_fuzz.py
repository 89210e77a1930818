"""Hypothesis over money input at the API's door: whatever a client sends as
the amount of a check payment, the answer is a 201 for a valid amount and a
4xx naming the field otherwise (never a 5xx), and a refused payment leaves
nothing behind: no payment, no allocation, no credit, no audit row, no email.

The oracle is written apart from isocnet.core.money, from the rules in
docs/api.md: a JSON string holding a plain ASCII decimal, more than zero,
at most two decimal places, at most AMOUNT_LIMIT (10,000,000.00; core.limits)."""

import re
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isocnet.core.models import AuditEvent
from isocnet.ledger.models import Allocation, CreditEntry
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import Payment
from tests.apiclient import Api
from tests.factories import make_customer, make_invoice

pytestmark = pytest.mark.django_db

EDGES = [
    "-1",
    "-0.01",
    "0",
    "0.00",
    "0.001",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e309",
    "1E2",
    "1000000000000",
    "10000000000.00",
    "9999999999.99",
    "9999999999.999",
    "10000000.00",  # AMOUNT_LIMIT: accepted
    "10000000.01",  # one cent over: refused
    "9999999.99",
    "12.345",
    "49.95",
    "49.9",
    "49.",
    ".95",
    "1,000.00",
    "$49.95",
    "49.95 USD",
    "٤٩٫٩٥",  # Arabic-Indic digits
    "４９.９５",  # fullwidth digits
    "49\u200b.95",
    "",
    " ",
    " 12.00 ",
    "0x10",
    "+5",
    "5_000",
]

amounts = st.one_of(
    st.sampled_from(EDGES),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True),  # a JSON number, not a string
    st.integers(min_value=-(10**15), max_value=10**15),
    st.text(max_size=20),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


def valid(amount) -> bool:
    if not isinstance(amount, str):
        return False
    text = amount.strip()
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text, flags=re.ASCII):
        return False
    value = Decimal(text)
    decimals = len(text.partition(".")[2])
    return decimals <= 2 and Decimal("0") < value <= Decimal("10000000")


def counts():
    return (
        Payment.objects.count(),
        Allocation.objects.count(),
        CreditEntry.objects.count(),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amount=amounts)
def test_any_amount_is_accepted_exactly_when_valid_and_a_refusal_writes_nothing(today, amount):
    from isocnet.api.tokens import apikey_create
    from tests.factories import ACTOR

    with transaction.atomic():
        _row, token = apikey_create(actor=ACTOR, name="fuzz")
        api = Api(token)
        customer = make_customer()
        invoice = make_invoice(customer, [("Fiber 300", "79.95", None)])
        before = counts()
        response = api.post(
            "/payments",
            {"invoice": invoice.number, "amount": amount, "method": "check", "reference": "1001"},
        )
        assert response.status_code < 500, (amount, response.content)
        if valid(amount):
            assert response.status_code == 201, (amount, response.body)
            assert Decimal(response.body["amount"]) == Decimal(amount.strip())
        else:
            assert response.status_code in (400, 422), (amount, response.body)
            assert response.body["field"] == "amount", (amount, response.body)
            assert counts() == before, amount
        transaction.set_rollback(True)


def test_the_oracle_itself_tells_good_from_bad():
    assert [valid(a) for a in ("49.95", " 12.00 ", "10000000.00", "1")] == [True] * 4
    bad = ("0", "-1", "49.955", "1e309", "NaN", "٤٩", "10000000.01", "", 49.95, None)
    assert not any(valid(a) for a in bad)
