"""Idempotency-Key on writes, and read-only API keys."""

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from isocnet.api.models import IdempotencyRecord
from isocnet.api.tokens import apikey_create, token_digest
from isocnet.core import clock
from isocnet.payments.models import Payment
from tests.apiclient import Api
from tests.factories import ACTOR, make_customer, make_invoice


@pytest.fixture
def invoice(db):
    return make_invoice(make_customer(), lines=(("Fiber", "80.00", None),))


def pay(api, invoice, key, amount="30.00", reference="4711"):
    api.headers["Idempotency-Key"] = key
    return api.post(
        "/payments",
        {"invoice": invoice.number, "amount": amount, "method": "check", "reference": reference},
    )


def test_a_retry_with_the_same_key_gets_the_first_answer_and_pays_once(api, invoice):
    first = pay(api, invoice, "pay-4711")
    again = pay(api, invoice, "pay-4711")
    assert first.status_code == again.status_code == 201
    assert again.body == first.body and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    other = pay(api, invoice, "pay-4712")
    assert other.status_code == 201 and Payment.objects.count() == 2


def test_the_same_key_for_another_request_is_refused(api, invoice):
    pay(api, invoice, "k1")
    refused = pay(api, invoice, "k1", amount="31.00")
    assert refused.status_code == 422 and refused.body["field"] == "Idempotency-Key"
    assert Payment.objects.count() == 1


def test_an_error_answer_is_replayed_too(api, invoice):
    first = pay(api, invoice, "k2", amount="-1")
    assert first.status_code == 422
    assert pay(api, invoice, "k2", amount="-1").body == first.body


def test_a_key_still_in_flight_is_answered_409(api, invoice):
    token = api.headers["Authorization"].removeprefix("Bearer ")
    body = json.dumps(
        {"invoice": invoice.number, "amount": "30.00", "method": "check", "reference": "4711"}
    ).encode()
    import hashlib

    IdempotencyRecord.objects.create(
        token_hash=token_digest(token),
        key="k3",
        method="POST",
        path="/api/v1/payments",
        request_hash=hashlib.sha256(b"POST /api/v1/payments\n" + body).hexdigest(),
        created_at=clock.now(),
    )
    busy = pay(api, invoice, "k3")
    assert busy.status_code == 409 and "still in progress" in busy.body["message"]
    assert Payment.objects.count() == 0


def test_keys_belong_to_one_api_key(api, invoice):
    pay(api, invoice, "shared")
    _row, other_token = apikey_create(actor=ACTOR, name="other")
    other = Api(other_token)
    assert pay(other, invoice, "shared").status_code == 201
    assert Payment.objects.count() == 2


def test_read_only_keys_can_read_and_not_write(invoice, capsys):
    call_command("apikey", "create", "auditor", "--read-only")
    token = capsys.readouterr().out.split()[-1]
    reader = Api(token)
    assert reader.get(f"/invoices/{invoice.number}").status_code == 200
    refused = pay(reader, invoice, "r1")
    assert refused.status_code == 403 and "read-only" in refused.body["message"]
    assert Payment.objects.count() == 0
    call_command("apikey", "list")
    assert "auditor" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_retries_with_one_key_pay_once():
    _row, token = apikey_create(actor=ACTOR, name="racer")
    invoice = make_invoice(make_customer(), lines=(("Fiber", "80.00", None),))
    barrier = threading.Barrier(6)
    codes = []

    def send():
        client = Api(token)
        barrier.wait()
        codes.append(pay(client, invoice, "race-1").status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Payment.objects.count() == 1
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}
