"""Bad input: a 4xx naming the field and the reason; never a 500; nothing written."""

import pytest

from isocnet.catalog.models import Plan
from isocnet.customers.models import Customer
from tests.api.test_api_flows import ALICE
from tests.factories import make_customer, make_plan

pytestmark = pytest.mark.django_db


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (_without(ALICE, "name"), "name", "is required"),
        ({**ALICE, "name": "   "}, "name", "is required"),
        ({**ALICE, "email": "not-an-email"}, "email", "not a valid email"),
        ({**ALICE, "address": _without(ALICE["address"], "city")}, "address.city", "is required"),
        (
            {**ALICE, "address": {**ALICE["address"], "country": "ZZ"}},
            "address.country",
            "country code",
        ),
        ({**ALICE, "payment_method": "bitcoin"}, "payment_method", "card, check"),
        ({**ALICE, "currency": "XYZ"}, "currency", "ISO 4217"),
        ({**ALICE, "name": "Evil\r\nBcc: victim@example.com"}, "name", "single line"),
        ({**ALICE, "account_number": "C1"}, "account_number", "not a field"),
        ({**ALICE, "tax_exempt": "yes"}, "tax_exempt", ""),
    ],
)
def test_customer_input_errors(api, body, field, reason):
    response = api.post("/customers", body)
    assert response.status_code == 422, response.body
    assert response.body["field"] == field
    assert response.body["message"].startswith(f"{field}: ")
    assert reason in response.body["message"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        (49.95, "must be a string"),
        ("49.955", "at most 2 decimal"),
        ("-1.00", "negative"),
        ("NaN", "plain decimal"),
        ("1e309", "plain decimal"),
        ("Infinity", "plain decimal"),
        ("٤٩", "plain decimal"),
        ("1000000000000", "must not exceed"),
    ],
)
def test_money_input_errors(api, price, reason):
    response = api.post("/plans", {"name": "X", "price": price, "cycle": "monthly"})
    assert response.status_code == 422, response.body
    assert response.body["field"] == "price"
    assert reason in response.body["message"]
    assert not Plan.objects.exists()


def test_malformed_json_is_a_400(api):
    response = api.post("/plans", raw='{"name": "X",')
    assert response.status_code == 400
    assert "JSON" in response.body["message"]


def test_unknown_ids_are_404_naming_the_field(api, today):
    customer = make_customer()
    assert api.get("/customers/999999").status_code == 404
    response = api.post(
        "/subscriptions", {"customer": customer.pk, "plan": 999999, "start_date": "2026-12-01"}
    )
    assert response.status_code == 404
    assert response.body["field"] == "plan"
    response = api.post(
        "/subscriptions", {"customer": 999999, "plan": make_plan().pk, "start_date": "2026-12-01"}
    )
    assert response.status_code == 404
    assert response.body["field"] == "customer"
    assert api.patch("/customers/999999", {"phone": "1"}).status_code == 404


@pytest.mark.parametrize(
    ("patch", "field", "status"),
    [
        ({"quantity": 0}, "quantity", 422),
        ({"quantity": "2"}, "quantity", 422),
        ({"status": "deleted"}, "status", 422),
        ({"price": "1.234"}, "price", 422),
        ({"plan": 999999}, "plan", 404),
        ({"next_due_date": "2027-01-01"}, "next_due_date", 422),
    ],
)
def test_subscription_patch_errors(api, today, patch, field, status):
    sub = api.post(
        "/subscriptions",
        {"customer": make_customer().pk, "plan": make_plan().pk, "start_date": "2026-11-01"},
    ).body
    response = api.patch(f"/subscriptions/{sub['id']}", patch)
    assert response.status_code == status, response.body
    assert response.body["field"] == field
    again = api.get(f"/subscriptions/{sub['id']}").body
    assert again == sub  # nothing half-written


def test_a_cancelled_service_cannot_change(api, today):
    sub = api.post(
        "/subscriptions",
        {"customer": make_customer().pk, "plan": make_plan().pk, "start_date": "2026-11-01"},
    ).body
    assert (
        api.patch(
            f"/subscriptions/{sub['id']}", {"status": "cancelled", "immediate": True}
        ).status_code
        == 200
    )
    response = api.patch(f"/subscriptions/{sub['id']}", {"quantity": 3})
    assert response.status_code == 409
    assert response.body["field"] == "status"


def test_plan_in_other_currency_needs_a_price(api, today):
    customer = make_customer(currency="EUR")
    plan = make_plan()  # USD
    response = api.post(
        "/subscriptions", {"customer": customer.pk, "plan": plan.pk, "start_date": "2026-11-01"}
    )
    assert response.status_code == 422
    assert response.body["field"] == "price"
    ok = api.post(
        "/subscriptions",
        {"customer": customer.pk, "plan": plan.pk, "start_date": "2026-11-01", "price": "45.00"},
    )
    assert ok.status_code == 201
    assert ok.body["price"] == "45.00"


def test_unknown_query_parameters_and_loose_dates_are_refused(api):
    typo = api.get("/invoices?stauts=unpaid")
    assert typo.status_code == 422 and typo.body["field"] == "stauts"
    loose = api.get("/invoices?issued_to=0")
    assert loose.status_code == 422 and "YYYY-MM-DD" in loose.body["message"]
    assert api.get("/invoices?issued_to=2026-11-20").status_code == 200
    huge = api.get(f"/invoices?customer={2**70}")
    assert huge.status_code == 422
    assert api.get("/customers?offset=100000000000").status_code == 422


def test_an_oversized_body_is_a_4xx_and_writes_nothing(api):
    """Above DATA_UPLOAD_MAX_MEMORY_SIZE (24 MB: a 20 MB bank file in a JSON
    body fits): refused before parsing."""
    name = "A" * (25 * 1024 * 1024)
    response = api.post("/plans", raw=f'{{"code": "big", "name": "{name}", "price": "1.00"}}')
    assert 400 <= response.status_code < 500, response.status_code
    assert not Plan.objects.exists()
