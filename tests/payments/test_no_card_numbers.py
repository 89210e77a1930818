"""After an end-to-end run with test cards, no card number is anywhere:
database, logs, emails (Luhn-valid 13-19 digit numbers)."""

import datetime as dt
import io
import json
import logging

import pytest
from django.core.management import call_command

from isocnet.core import clock
from isocnet.notifications.delivery import deliver_pending
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.pan import card_numbers_in

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_scanner_finds_card_numbers():
    assert card_numbers_in("pay with 4242 4242 4242 4242 today") == ["4242 4242 4242 4242"]
    assert card_numbers_in("4000-0000-0000-0002") == ["4000-0000-0000-0002"]
    assert card_numbers_in("invoice 2026-000123, phone +1 217 555 0100") == []
    assert card_numbers_in('{"token": "4242424242424242"}') == ["4242424242424242"]
    assert card_numbers_in('"sha256": "128a84fbd3395739657568a56ef5"') == []  # inside a hex digest


def test_no_card_number_anywhere_after_an_end_to_end_run(api, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    plan = make_plan(price="49.95")
    for token in ("tok_visa", "tok_chargeDeclined", "tok_timeoutAfterCharge", "tok_mastercard"):
        customer = make_customer(payment_method="card")
        api.post(f"/customers/{customer.pk}/cards", {"token": token})
        api.post(f"/customers/{customer.pk}/cards", {"token": "4242424242424242"})  # refused
        subscribe(customer, plan, D(2026, 12, 1))
    run(D(2026, 12, 1))
    run(D(2026, 12, 4))
    with clock.frozen_at(D(2026, 12, 4)):
        deliver_pending()
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    emails = "\n".join(m.as_string() for m in smtp.messages)
    assert len(smtp.messages) >= 8
    assert card_numbers_in(emails) == []
    assert card_numbers_in(caplog.text) == []
    assert card_numbers_in(dump.getvalue()) == []
    from django.apps import apps

    fields = {f.name.lower() for model in apps.get_models() for f in model._meta.get_fields()}
    forbidden = {"cvc", "cvv", "cvv2", "pan", "card_number", "cardnumber", "number_card"}
    assert not {
        name for name in fields if name in forbidden or set(name.split("_")) & {"cvc", "cvv", "pan"}
    }


def test_the_sandbox_card_form_keeps_the_number_to_itself(api, client, caplog):
    caplog.set_level(logging.DEBUG)
    customer = make_customer()
    response = client.post(
        "/sandbox/card-form",
        data={"number": "4000 0000 0000 0002", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("tok_sbx_")
    card = api.post(f"/customers/{customer.pk}/cards", {"token": token}).body
    assert (card["brand"], card["last4"]) == ("Visa", "0002")
    assert (
        api.post(f"/customers/{customer.pk}/cards", {"token": token}).status_code == 422
    )  # single use
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert card_numbers_in(dump.getvalue()) == []
    assert "4000000000000002" not in dump.getvalue() and "123" not in json.dumps(card)
    assert card_numbers_in(caplog.text) == []
    bad = client.post(
        "/sandbox/card-form",
        data={"number": "1234", "exp_month": 1, "exp_year": 2020, "cvc": "1"},
        content_type="application/json",
    )
    assert bad.status_code == 422
