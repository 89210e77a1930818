"""FreeRADIUS's tables on PostgreSQL (production's choice): created from
the schema FreeRADIUS ships, written by the same sync, and two syncs of
one customer at once leave one set of rows (advisory locks)."""

import threading

import psycopg
import pytest
from django.db import connection

from isocnet.core.jobs import jobs_run_due
from isocnet.network.radius_db import radius_schema_create
from isocnet.network.services import identity_set, speed_profile_set
from isocnet.network.sync import customer_sync
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def radius_pg(settings):
    s = connection.settings_dict
    base = f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS "isocnet_radius_test" WITH (FORCE)')
        admin.execute('CREATE DATABASE "isocnet_radius_test"')
    settings.RADIUS_DATABASE_URL = f"{base}/isocnet_radius_test"
    radius_schema_create()
    yield settings.RADIUS_DATABASE_URL
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS "isocnet_radius_test" WITH (FORCE)')


def test_the_sync_writes_postgresql_and_racing_syncs_leave_one_set(radius_pg, today):
    customer = make_customer()
    plan = make_plan(name="Fiber PG", price="49.95")
    speed_profile_set(actor=ACTOR, plan_id=plan.pk, download_kbps=50_000, upload_kbps=10_000)
    sub = subscribe(customer, plan, today)
    identity_set(actor=ACTOR, subscription_id=sub.pk, username="pg@fiber.example", password="pw")
    jobs_run_due()
    barrier = threading.Barrier(4)

    def sync():
        barrier.wait(timeout=120)
        try:
            customer_sync(str(customer.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=sync) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    with psycopg.connect(radius_pg) as conn:
        assert conn.execute("SELECT username, groupname FROM radusergroup").fetchall() == [
            ("pg@fiber.example", "plan-fiber-pg")
        ]
        assert conn.execute("SELECT attribute, value FROM radcheck").fetchall() == [
            ("Cleartext-Password", "pw")
        ]
        assert conn.execute("SELECT groupname, attribute, value FROM radgroupreply").fetchall() == [
            ("plan-fiber-pg", "Mikrotik-Rate-Limit", "10000k/50000k")
        ]
