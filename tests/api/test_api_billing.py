import datetime as dt

import pytest

from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def two_customers():
    plan = make_plan(name="Fiber 100 Mbps", price="49.95")
    alice, bob = make_customer(name="Alice Example"), make_customer(name="Bob Builder")
    subscribe(alice, plan, D(2026, 12, 1), description="1 Main St")
    subscribe(bob, plan, D(2026, 12, 1), description="2 Elm St")
    return alice, bob


def test_billing_run_preview_then_real(api, two_customers):
    with clock.frozen_at(D(2026, 11, 20)):
        preview = api.post("/billing-runs", {"date": "2026-11-20", "dry_run": True})
        assert preview.status_code == 200, preview.body
        assert preview.body["invoices_created"] == 2
        assert preview.body["total"] == "99.90"
        assert preview.body["preview"][0]["lines"][0]["description"].startswith(
            "Fiber 100 Mbps — 1 Main St"
        )
        assert not Invoice.objects.exists()

        created = api.post("/billing-runs", {"date": "2026-11-20"})
        assert created.status_code == 201, created.body
        assert created.body["invoices_created"] == 2
        assert created.body["total"] == "99.90"
        again = api.post("/billing-runs", {"date": "2026-11-20"})
        assert again.body["invoices_created"] == 0
    detail = api.get(f"/billing-runs/{created.body['id']}")
    assert [i["outcome"] for i in detail.body["items"]] == ["issued", "issued"]


def test_invoices_list_filters_and_detail(api, two_customers):
    alice, _bob = two_customers
    with clock.frozen_at(D(2026, 11, 20)):
        api.post("/billing-runs", {"date": "2026-11-20"})
    listing = api.get(f"/invoices?customer={alice.pk}&status=unpaid")
    assert listing.status_code == 200
    assert listing.body["count"] == 1
    invoice = listing.body["items"][0]
    assert invoice["customer"] == alice.pk
    assert (invoice["status"], invoice["issue_date"], invoice["due_date"]) == (
        "unpaid",
        "2026-11-20",
        "2026-12-01",
    )
    assert (invoice["total"], invoice["balance"]) == ("49.95", "49.95")
    assert invoice["lines"][0]["period_start"] == "2026-12-01"
    assert invoice["lines"][0]["period_end"] == "2026-12-31"  # the last day, as printed
    assert api.get(f"/invoices?customer={alice.pk}&status=paid").body["count"] == 0
    assert api.get("/invoices?status=open").body["count"] == 2
    detail = api.get(f"/invoices/{invoice['number']}")
    assert detail.body["bill_to"]["name"] == "Alice Example"
    assert api.get("/invoices/2099-000001").status_code == 404


def test_billing_run_bad_date(api):
    response = api.post("/billing-runs", {"date": "2026-02-30"})
    assert response.status_code == 422
    assert response.body["field"] == "date"
