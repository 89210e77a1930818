import datetime as dt

import pytest

from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.payments.models import PaymentMethod
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def invoiced():
    customer = make_customer(payment_method="check")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 11, 20))
    return customer, Invoice.objects.get(customer=customer)


def test_add_list_and_remove_cards(api):
    customer = make_customer()
    created = api.post(f"/customers/{customer.pk}/cards", {"token": "tok_visa"})
    assert created.status_code == 201, created.body
    assert {k: created.body[k] for k in ("brand", "last4", "default")} == {
        "brand": "Visa",
        "last4": "4242",
        "default": True,
    }
    second = api.post(f"/customers/{customer.pk}/cards", {"token": "tok_mastercard"}).body
    cards = api.get(f"/customers/{customer.pk}/cards").body
    assert [(c["last4"], c["default"]) for c in cards] == [("4444", True), ("4242", False)]
    response = api.client.delete(
        f"/api/v1/customers/{customer.pk}/cards/{second['id']}", headers=api.headers
    )
    assert response.status_code == 204
    assert [
        (c["last4"], c["default"]) for c in api.get(f"/customers/{customer.pk}/cards").body
    ] == [("4242", True)]


@pytest.mark.parametrize(
    "token", ["4242424242424242", "4242 4242 4242 4242", "4000-0000-0000-0002"]
)
def test_a_card_number_is_refused_and_never_stored(api, token):
    customer = make_customer()
    response = api.post(f"/customers/{customer.pk}/cards", {"token": token})
    assert response.status_code == 422
    assert response.body["field"] == "token"
    assert token not in response.content.decode()
    assert not PaymentMethod.objects.exists()


def test_check_payment_partial_then_overpayment(api, invoiced):
    _customer, invoice = invoiced
    with clock.frozen_at(D(2026, 11, 25)):
        response = api.post(
            "/payments",
            {
                "invoice": invoice.number,
                "amount": "20.00",
                "method": "check",
                "reference": "Check 1042",
            },
        )
    assert response.status_code == 201, response.body
    assert {
        k: response.body[k] for k in ("invoice", "amount", "applied", "invoice_balance", "credit")
    } == {
        "invoice": invoice.number,
        "amount": "20.00",
        "applied": "20.00",
        "invoice_balance": "29.95",
        "credit": "0.00",
    }
    with clock.frozen_at(D(2026, 11, 26)):
        response = api.post(
            "/payments",
            {
                "invoice": invoice.number,
                "amount": "40.00",
                "method": "check",
                "reference": "Check 1043",
                "date": "2026-11-26",
            },
        )
    assert {k: response.body[k] for k in ("applied", "invoice_balance", "credit")} == {
        "applied": "29.95",
        "invoice_balance": "0.00",
        "credit": "10.05",
    }
    receipt = api.client.get(
        f"/api/v1/payments/{response.body['id']}/receipt.pdf", headers=api.headers
    )
    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"


def test_card_payment_through_the_api(api, invoiced):
    customer, invoice = invoiced
    api.post(f"/customers/{customer.pk}/cards", {"token": "tok_visa"})
    with clock.frozen_at(D(2026, 11, 25)):
        response = api.post(
            "/payments", {"invoice": invoice.number, "amount": "49.95", "method": "card"}
        )
    assert response.status_code == 201, response.body
    assert response.body["reference"] == "Visa ending in 4242"
    assert response.body["invoice_balance"] == "0.00"


def test_declined_card_payment_is_a_402(api, invoiced):
    customer, invoice = invoiced
    api.post(f"/customers/{customer.pk}/cards", {"token": "tok_chargeDeclined"})
    with clock.frozen_at(D(2026, 11, 25)):
        response = api.post(
            "/payments", {"invoice": invoice.number, "amount": "49.95", "method": "card"}
        )
    assert response.status_code == 402
    assert "declined" in response.body["message"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"amount": "-5.00", "method": "check"}, 422, "amount"),
        ({"amount": "5.001", "method": "check"}, 422, "amount"),
        ({"amount": 5, "method": "check"}, 422, "amount"),
        ({"amount": "5.00", "method": "bitcoin"}, 422, "method"),
        ({"amount": "5.00", "method": "check", "invoice": "2099-000001"}, 404, "invoice"),
        ({"amount": "5.00", "method": "card"}, 409, "method"),  # no card on file
        ({"amount": "5.00", "method": "check", "date": "yesterday"}, 422, "date"),
    ],
)
def test_payment_errors(api, invoiced, body, status, field):
    _customer, invoice = invoiced
    body = {"invoice": invoice.number, **body}
    response = api.post("/payments", body)
    assert response.status_code == status, response.body
    assert response.body["field"] == field
    invoice.refresh_from_db()
    assert invoice.balance.as_string() == "49.95"
