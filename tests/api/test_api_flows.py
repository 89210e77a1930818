"""The flows of the foundation issue, as a script would call them."""

import pytest

from isocnet.core.models import AuditEvent
from isocnet.customers.models import Customer
from tests.apiclient import Api
from tests.factories import make_invoice

pytestmark = pytest.mark.django_db

ALICE = {
    "name": "Alice Example",
    "email": "alice@example.com",
    "company": "Example LLC",
    "phone": "+1 217 555 0100",
    "address": {
        "line1": "1 Main St",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62701",
        "country": "US",
    },
    "payment_method": "card",
}


def test_plan_customer_subscription_flow(api, today):
    plan = api.post(
        "/plans",
        {
            "name": "Fiber 100 Mbps",
            "description": "Symmetric fiber",
            "price": "49.95",
            "cycle": "monthly",
            "setup_fee": "99.00",
            "tax_rate": "8.25",
        },
    )
    assert plan.status_code == 201, plan.body
    assert plan.body["price"] == "49.95"
    assert plan.body["setup_fee"] == "99.00"
    assert plan.body["tax_rates"][0]["rate"] == "8.25"

    customer = api.post("/customers", ALICE)
    assert customer.status_code == 201, customer.body
    assert customer.body["account_number"].startswith("C")
    assert customer.body["balance"] == "0.00"
    assert customer.body["currency"] == "USD"

    sub = api.post(
        "/subscriptions",
        {
            "customer": customer.body["id"],
            "plan": plan.body["id"],
            "start_date": "2026-12-01",
            "description": "1 Main St",
        },
    )
    assert sub.status_code == 201, sub.body
    assert sub.body["next_due_date"] == "2026-12-01"
    assert sub.body["status"] == "pending"  # starts in the future
    assert sub.body["price"] == "49.95"

    listing = api.get(f"/subscriptions?customer={customer.body['id']}")
    assert listing.status_code == 200
    assert listing.body["count"] == 1
    assert listing.body["items"][0]["id"] == sub.body["id"]

    changed = api.patch(f"/subscriptions/{sub.body['id']}", {"quantity": 2})
    assert changed.body["quantity"] == 2
    cancelled = api.patch(f"/subscriptions/{sub.body['id']}", {"status": "cancelled"})
    assert cancelled.body["status"] == "cancelled"
    assert AuditEvent.objects.filter(action="subscription.change", actor="api:tests").count() == 2


def test_customer_get_patch_and_balance(api, today):
    created = api.post("/customers", ALICE).body
    customer = Customer.objects.get(pk=created["id"])
    make_invoice(customer)
    got = api.get(f"/customers/{customer.pk}")
    assert got.body["balance"] == "49.95"
    assert got.body["credit"] == "0.00"

    patched = api.patch(
        f"/customers/{customer.pk}", {"phone": "+1 217 555 0199", "address": {"line2": "Apt 4"}}
    )
    assert patched.status_code == 200, patched.body
    assert patched.body["phone"] == "+1 217 555 0199"
    assert patched.body["address"]["line1"] == "1 Main St"  # untouched
    assert patched.body["address"]["line2"] == "Apt 4"
    event = AuditEvent.objects.get(action="customer.update")
    assert event.before == {"phone": "+1 217 555 0100", "address_line2": ""}


def test_customer_list_is_paginated_and_searchable(api, today):
    for i in range(7):
        api.post("/customers", {**ALICE, "name": f"Customer {i}", "email": f"c{i}@example.com"})
    api.post("/customers", {**ALICE, "name": "Zed Unique", "email": "zed@example.com"})
    page = api.get("/customers?limit=3&offset=3")
    assert page.body["count"] == 8
    assert len(page.body["items"]) == 3
    found = api.get("/customers?q=unique")
    assert [c["name"] for c in found.body["items"]] == ["Zed Unique"]
    by_number = api.get(f"/customers?q={found.body['items'][0]['account_number']}")
    assert by_number.body["count"] == 1


def test_openapi_and_docs_are_served(client, db):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/v1/plans",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/subscriptions",
    } <= set(paths)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html  # served by us: works with no internet
    assert "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_wrong_or_missing_token_is_401(api):
    assert Api(None).get("/customers").status_code == 401
    response = Api("isk_wrong").get("/customers")
    assert response.status_code == 401
    assert response.body["error"] == "unauthorized"
    assert response["WWW-Authenticate"] == "Bearer"
