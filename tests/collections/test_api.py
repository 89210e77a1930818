"""The collections API: the policy, a customer's timeline, promises,
disputes and late fees, with the usual errors."""

import pytest

from isocnet.collections.models import LateFee
from isocnet.core import clock
from isocnet.core.models import AuditEvent
from tests.apiclient import api  # noqa: F401 - fixture
from tests.collections.helpers import D, check_payer, days, policy

pytestmark = pytest.mark.django_db


def test_the_policy_as_a_table_of_steps_and_a_change_audited(api):  # noqa: F811
    body = api.get("/collections/policy").body
    assert body["notice_days"] == [1, 7, 14] and body["late_fee_flat"] == "0"
    assert {"day": 17, "what": "Suspension for non-payment"} in body["steps"]
    changed = api.patch("/collections/policy", {"late_fee_flat": "5.00", "late_fee_grace_days": 12})
    assert changed.status_code == 200, changed.body
    assert {"day": 12, "what": "Late fee"} in changed.body["steps"]
    event = AuditEvent.objects.get(action="collections_policy.update")
    assert event.before == {"late_fee_flat": "0", "late_fee_grace_days": 10}
    assert event.after == {"late_fee_flat": "5.00", "late_fee_grace_days": 12}
    bad = api.patch("/collections/policy", {"notice_days": [7, 1, 14]})
    assert bad.status_code == 422 and bad.body["field"] == "notice_days"
    bad = api.patch("/collections/policy", {"late_fee_flat": "5.001"})
    assert bad.status_code == 422 and bad.body["field"] == "late_fee_flat"
    bad = api.patch("/collections/policy", {"late_fee_percent": "101"})
    assert bad.status_code == 422 and bad.body["field"] == "late_fee_percent"


def test_the_timeline_promises_and_their_errors(api):  # noqa: F811
    customer, december = check_payer("94.95")
    days(D(2026, 11, 18), D(2026, 12, 12))
    with clock.frozen_at(D(2026, 12, 13)):
        timeline = api.get(f"/customers/{customer.pk}/timeline")
        assert timeline.status_code == 200
        assert timeline.body["next_step"] == (
            "Your service will be suspended on December 18, 2026 unless $94.95 is paid."
        )
        kinds = [(e["date"], e["kind"]) for e in timeline.body["events"]]
        assert ("2026-12-15", "notice") in kinds and ("2026-12-18", "suspended") in kinds
        assert api.get("/customers/999999/timeline").status_code == 404

        made = api.post(
            f"/customers/{customer.pk}/promises", {"amount": "94.95", "promised_on": "2026-12-20"}
        )
        assert made.status_code == 201, made.body
        assert made.body["invoices"] == [december.number] and made.body["source"] == "api"
        again = api.post(
            f"/customers/{customer.pk}/promises", {"amount": "10.00", "promised_on": "2026-12-20"}
        )
        assert again.status_code == 409
        late = api.post(
            f"/customers/{customer.pk}/promises", {"amount": "10.00", "promised_on": "2026-12-01"}
        )
        assert late.status_code == 422 and late.body["field"] == "promised_on"
        # while promised, the timeline shows the promise's day and no suspension before it
        timeline = api.get(f"/customers/{customer.pk}/timeline").body
        assert ("2026-12-20", "promise_due") in [(e["date"], e["kind"]) for e in timeline["events"]]
        assert not [
            e for e in timeline["events"] if e["kind"] == "suspended" and e["date"] <= "2026-12-20"
        ]
        cancelled = api.post(f"/promises/{made.body['id']}/cancel", {"reason": "called back"})
        assert cancelled.status_code == 200 and cancelled.body["status"] == "cancelled"
        assert api.post(f"/promises/{made.body['id']}/cancel", {"reason": "x"}).status_code == 409


def test_disputes_and_late_fees(api):  # noqa: F811
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, december = check_payer()
    days(D(2026, 11, 18), D(2026, 12, 11))
    fees = api.get(f"/customers/{customer.pk}/late-fees").body
    assert [(f["invoice"], f["amount"], f["charged_on"]) for f in fees] == [
        (december.number, "5.00", "2026-12-11")
    ]
    with clock.frozen_at(D(2026, 12, 12)):
        waived = api.post(f"/late-fees/{fees[0]['id']}/waive", {"reason": "first time"})
        assert waived.status_code == 200 and waived.body["waived_at"]
        assert api.post(f"/late-fees/{fees[0]['id']}/waive", {"reason": "x"}).status_code == 409
        assert api.post("/late-fees/999999/waive", {"reason": "x"}).status_code == 404
        opened = api.post("/disputes", {"invoice": december.number, "reason": "Outage"})
        assert opened.status_code == 201
        assert api.post("/disputes", {"invoice": december.number, "reason": "x"}).status_code == 409
        assert api.post("/disputes", {"invoice": "nope", "reason": "x"}).status_code == 404
        resolved = api.post(f"/disputes/{opened.body['id']}/resolve", {"resolution": "credited"})
        assert resolved.status_code == 200 and resolved.body["resolved_at"]
    assert LateFee.objects.get().waive_reason == "first time"
