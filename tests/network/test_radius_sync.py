"""FreeRADIUS follows billing: a real FreeRADIUS answers from the tables
ISOCNET keeps."""

import pytest

from isocnet.core.jobs import jobs_run_due
from isocnet.network.services import identity_set, speed_profile_set
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db


def test_an_active_service_authenticates_with_its_plans_rate(network, today):
    radius, _nas = network
    customer = make_customer()
    plan = make_plan(name="Fiber 100", price="49.95")
    speed_profile_set(actor=ACTOR, plan_id=plan.pk, download_kbps=100_000, upload_kbps=20_000)
    sub = subscribe(customer, plan, today)
    sub.refresh_from_db()
    identity_set(
        actor=ACTOR, subscription_id=sub.pk, username="alice@fiber.example", password="s3cret-pw"
    )
    assert jobs_run_due() >= 1
    assert radius.login("alice@fiber.example", "s3cret-pw") == (
        "Access-Accept",
        {"Mikrotik-Rate-Limit": "20000k/100000k"},
    )
    assert radius.login("alice@fiber.example", "wrong")[0] == "Access-Reject"
