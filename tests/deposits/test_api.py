"""The deposit API: batches, bank files and the exceptions queue, with
Idempotency-Key and the usual errors naming the field."""

import pytest

from isocnet.payments.models import Payment
from tests.deposits.bankfiles import Item, bai2_file, lockbox_csv
from tests.deposits.helpers import check_payer, slip_of

pytestmark = pytest.mark.django_db


def test_a_batch_through_the_api(api, today):
    ada, first = check_payer(name="Ada Lovelace")
    _, second = check_payer()
    created = api.post(
        "/deposit-batches",
        {
            "reference": "DS-900",
            "deposit_date": today.isoformat(),
            "expected_count": 2,
            "expected_total": "99.90",
            "items": [{"scan_line": slip_of(first), "check_number": "1042"}],
        },
    )
    assert created.status_code == 201, created.body
    batch = created.body
    assert (batch["count"], batch["total"], batch["ready"]) == (1, "49.95", False)
    assert batch["items"][0]["customer"] == ada.pk
    assert batch["items"][0]["matched_by"] == "scan_line"
    early = api.post(f"/deposit-batches/{batch['id']}/post")
    assert early.status_code == 409
    assert early.body["field"] == "expected_count"
    item = api.post(
        f"/deposit-batches/{batch['id']}/items",
        {"invoice_number": second.number, "amount": "49.95", "check_number": "7"},
    )
    assert item.status_code == 201 and item.body["matched_by"] == "invoice"
    posted = api.client.post(
        f"/api/v1/deposit-batches/{batch['id']}/post",
        headers={**api.headers, "Idempotency-Key": "post-ds-900"},
        content_type="application/json",
    )
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    replay = api.client.post(
        f"/api/v1/deposit-batches/{batch['id']}/post",
        headers={**api.headers, "Idempotency-Key": "post-ds-900"},
        content_type="application/json",
    )
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 2
    again = api.post(f"/deposit-batches/{batch['id']}/items", {"scan_line": slip_of(first)})
    assert again.status_code == 409 and "is posted" in again.body["message"]


def test_bad_input_names_the_field(api, today):
    _, invoice = check_payer()
    line = slip_of(invoice)
    misread = line[:8] + ("9" if line[8] != "9" else "8") + line[9:]
    refused = api.post(
        "/deposit-batches",
        {"reference": "DS-1", "items": [{"check_number": "1"}, {"scan_line": misread}]},
    )
    assert refused.status_code == 422
    assert refused.body["field"] == "items[0].scan_line"
    refused = api.post("/deposit-batches", {"reference": "DS-1", "items": [{"scan_line": misread}]})
    assert refused.body["field"] == "items[0].scan_line"
    assert "check character does not match" in refused.body["message"]
    assert api.get("/deposit-batches/999999").status_code == 404
    bad = api.post("/bank-files", {"format": "mt940", "content": "x"})
    assert bad.status_code == 422 and bad.body["field"] == "format"


def test_a_bank_file_and_the_queue_through_the_api(api, today):
    _, invoice = check_payer(name="Ada Lovelace")
    knuth, _ = check_payer(name="Donald Knuth", price="77.00")
    content = lockbox_csv(
        [
            Item("LB1", invoice.balance_minor, check_number="1", scan_line=slip_of(invoice)),
            Item("LB2", 7700, check_number="2", payer_name="Donald Knuth"),
        ],
        today,
    )
    sent = api.post("/bank-files", {"format": "lockbox", "filename": "lb.csv", "content": content})
    assert sent.status_code == 201, sent.body
    assert sent.body["summary"]["posted"] == 1 and sent.body["summary"]["exceptions"] == 1
    waiting = sent.body["exceptions"][0]
    assert waiting["suggestions"][0]["customer_id"] == knuth.pk
    assert [i["id"] for i in api.get("/deposit-exceptions").body] == [waiting["id"]]
    resolved = api.post(f"/deposit-exceptions/{waiting['id']}/resolve", {"customer": knuth.pk})
    assert resolved.status_code == 200 and resolved.body["state"] == "posted"
    assert api.get("/deposit-exceptions").body == []
    twice = api.post("/bank-files", {"format": "lockbox", "filename": "lb.csv", "content": content})
    assert twice.body["summary"]["already_imported"] == 2 and twice.body["summary"]["posted"] == 0
    assert api.get(f"/bank-files/{sent.body['id']}").body["summary"]["posted"] == 1
    bai = bai2_file([Item("B9", 500, payer_name="Nobody")], today)
    third = api.post("/bank-files", {"format": "bai2", "content": bai})
    item = third.body["exceptions"][0]
    held = api.post(f"/deposit-exceptions/{item['id']}/unapply", {"reason": "unknown payer"})
    assert held.status_code == 200 and held.body["state"] == "unapplied"
