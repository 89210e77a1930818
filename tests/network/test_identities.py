"""What the network knows a service by, set by staff, the API and CSV
import: validated (the field named), unique, audited; the password never
comes back."""

import pytest

from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.models import AuditEvent
from isocnet.imports.services import run_import
from isocnet.network.models import ServiceIdentity
from isocnet.network.services import identity_set
from isocnet.subscriptions.services import subscription_change
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db


def _service(today, **kw):
    customer = make_customer(**kw)
    return subscribe(customer, make_plan(), today)


def test_identities_are_validated_unique_and_audited(today):
    first, second = _service(today), _service(today)
    identity_set(
        actor=ACTOR,
        subscription_id=first.pk,
        username="ada@fiber.example",
        password="pw-1",
        static_ip="100.64.0.10",
    )
    with pytest.raises(Conflict, match="belongs to another service") as e:
        identity_set(actor=ACTOR, subscription_id=second.pk, username="ada@fiber.example")
    assert e.value.field == "username"
    with pytest.raises(Conflict, match=r"100\.64\.0\.10 is in use by service") as e:
        identity_set(actor=ACTOR, subscription_id=second.pk, static_ip="100.64.0.10")
    assert e.value.field == "static_ip"
    for field, value in (("static_ip", "300.1.1.1"), ("username", "has space"), ("mac", "zz")):
        with pytest.raises(InvalidInput) as e:
            identity_set(actor=ACTOR, subscription_id=second.pk, **{field: value})
        assert e.value.field == field
    # a cancelled service gives its address back
    subscription_change(
        actor=ACTOR, subscription_id=first.pk, changes={"status": "cancelled", "immediate": True}
    )
    identity_set(actor=ACTOR, subscription_id=second.pk, static_ip="100.64.0.10")
    assert ServiceIdentity.objects.get(subscription=first).static_ip is None
    # MAC-authenticated IPoE: the MAC is the username
    third = _service(today)
    mac = identity_set(actor=ACTOR, subscription_id=third.pk, mac="00-11-22-AA-BB-CC")
    assert mac.username == mac.mac == "00:11:22:aa:bb:cc"
    audit = AuditEvent.objects.filter(action="network.identity_set").first()
    assert "pw-1" not in str(audit.before) + str(audit.after)


def test_the_api_sets_and_reads_an_identity_without_its_password(api, today):
    sub = _service(today)
    put = api.client.put(
        f"/api/v1/subscriptions/{sub.pk}/network",
        data={"username": "bob@fiber.example", "password": "secret-pw", "static_ip": "100.64.1.2"},
        content_type="application/json",
        headers=api.headers,
    )
    assert put.status_code == 200, put.content
    got = api.get(f"/subscriptions/{sub.pk}/network").body
    assert got["username"] == "bob@fiber.example" and got["password_set"] is True
    assert "secret-pw" not in str(got)
    bad = api.client.put(
        f"/api/v1/subscriptions/{sub.pk}/network",
        data={"static_ip": "not-an-ip"},
        content_type="application/json",
        headers=api.headers,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "static_ip"
    speed = api.client.put(
        f"/api/v1/plans/{sub.plan_id}/speed",
        data={"download_kbps": 0, "upload_kbps": 10},
        content_type="application/json",
        headers=api.headers,
    )
    assert speed.status_code == 422 and speed.json()["field"] == "download_kbps"
    assert api.get("/network/drift").status_code == 409  # no RADIUS database set


def test_csv_import_carries_the_network_identity(today):
    make_customer(external_id="OLD-1")
    make_plan(name="Fiber 100", price="49.95")
    csv = (
        "external_id,customer_external_id,plan,start_date,username,password,static_ip\n"
        f"S-1,OLD-1,fiber-100,{today.isoformat()},carol@fiber.example,pw-9,100.64.2.3\n"
    )
    report = run_import(actor=ACTOR, kind="subscriptions", text=csv)
    assert report.ok and report.created == 1, report.errors
    identity = ServiceIdentity.objects.get(subscription__external_id="S-1")
    assert (identity.username, identity.password, identity.static_ip) == (
        "carol@fiber.example",
        "pw-9",
        "100.64.2.3",
    )
    again = run_import(actor=ACTOR, kind="subscriptions", text=csv)
    assert again.unchanged == 1
    bad = csv.replace("100.64.2.3", "100.64.2.999").replace("S-1", "S-2").replace("carol", "dave")
    report = run_import(actor=ACTOR, kind="subscriptions", text=bad)
    assert [(e.row, e.column) for e in report.errors] == [(2, "static_ip")]
