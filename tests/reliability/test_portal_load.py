"""Load: simulated portal users (locust, tests/load/locustfile.py) against
`isocnet serve` on PostgreSQL, browsing, downloading PDFs and paying.
0 server errors, 0 responses with another account's data, and the money
still adds up afterwards. RELIABILITY_FULL=1: 200 users for 10 minutes;
otherwise 50 users for 60 seconds."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.db import connections

from isocnet.core import clock
from isocnet.customers.logins import portal_login_ensure
from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice
from isocnet.operations.billing_run import billing_run
from isocnet.payments.models import GatewayCall, Payment
from isocnet.payments.sandbox_models import SandboxCharge
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import RUNNER
from tests.reliability.bulk import build_customers
from tests.smtp import free_port
from tests.subproc import database_url, wait_until_serving

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
FULL = bool(os.environ.get("RELIABILITY_FULL"))
PASSWORD = "load-test-password-9"
MONTHS = [dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
LOCUSTFILE = Path(__file__).parents[1] / "load" / "locustfile.py"


def load_users(n: int, path: Path) -> list[dict]:
    """n customers with a saved card, paying by check, three unpaid monthly
    invoices each, and a portal login (one password hash for all: hashing
    is the slow part, and the server still checks it at each sign-in)."""
    build_customers(n, services_each=1, due=MONTHS[0], card_behaviour=lambda i: "ok")
    Customer.objects.update(payment_method="check")
    for day in MONTHS:
        with clock.frozen_at(day):
            assert billing_run(date=day, actor=RUNNER).invoices == n
    users = []
    for customer in Customer.objects.order_by("pk"):
        portal_login_ensure(customer)
        users.append(
            {
                "email": customer.email,
                "password": PASSWORD,
                "account": customer.account_number,
                "name": customer.name,
                "invoices": list(
                    Invoice.objects.filter(customer=customer).values_list("number", flat=True)
                ),
            }
        )
    # the server's own hasher (the suite's settings use a fast one)
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    User.objects.filter(portal__isnull=False).update(password=hashed)
    path.write_text(json.dumps(users))
    return users


def serve(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "VAR_DIR": str(tmp_path),
        "EMAIL_URL": f"file://{tmp_path / 'mail'}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("isocnet")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "w"),  # noqa: SIM115
    )
    wait_until_serving(server, port, log=tmp_path / "serve.log")
    return server


def locust(tmp_path: Path, port: int, users: int, seconds: int, mode: str) -> dict[str, dict]:
    """Run locust headless; its per-request statistics, by name."""
    prefix = tmp_path / "locust"
    env = {**os.environ, "LOAD_USERS": str(tmp_path / "users.json"), "LOAD_MODE": mode}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("locust")),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "-u",
            str(users),
            "-r",
            str(max(1, users // 20)),
            "-t",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 300,
    )
    stats = {row["Name"]: row for row in csv.DictReader(open(f"{prefix}_stats.csv"))}  # noqa: SIM115
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv")))  # noqa: SIM115
    stats["_failures"] = failures
    stats["_output"] = done.stderr[-5000:]
    return stats


def test_portal_users_browse_download_and_pay_with_no_error_and_no_foreign_data(tmp_path):
    n, seconds = (200, 600) if FULL else (50, 60)
    n = int(os.environ.get("LOAD_USERS_N", n))
    seconds = int(os.environ.get("LOAD_SECONDS", seconds))
    users = load_users(n, tmp_path / "users.json")
    connections.close_all()
    port = free_port()
    server = serve(tmp_path, port)
    try:
        stats = locust(tmp_path, port, users=n, seconds=seconds, mode="soak")
    finally:
        server.terminate()
        server.wait(timeout=120)
    total = stats["Aggregated"]
    print(
        f"\n{n} users, {seconds} s: {total['Request Count']} requests,"
        f" {float(total['Requests/s']):.1f}/s, p50 {total['50%']} ms,"
        f" p95 {total['95%']} ms, p99 {total['99%']} ms, failures {total['Failure Count']}"
    )
    for name in ("dashboard", "invoice list", "invoice page", "invoice PDF", "pay"):
        row = stats[name]
        print(f"  {name}: {row['Request Count']} requests, p95 {row['95%']} ms")
        assert int(row["Request Count"]) > 0, f"no {name} requests: {stats['_output']}"
    assert stats["_failures"] == [], stats["_failures"][:5]  # no 5xx, no foreign data
    assert int(total["Failure Count"]) == 0
    assert "Internal Server Error" not in (tmp_path / "serve.log").read_text()
    # every press of Pay took one cent, once, at the gateway and here (a
    # press in flight when locust stopped may be paid and not counted)
    presses = int(stats["pay"]["Request Count"])
    payments = Payment.objects.count()
    assert presses <= payments <= presses + n
    calls = GatewayCall.objects.filter(kind="charge")
    assert calls.count() == payments == SandboxCharge.objects.count()
    assert set(calls.values_list("status", flat=True)) == {"succeeded"}
    assert set(Payment.objects.values_list("amount_minor", flat=True)) == {1}
    for customer in Customer.objects.all():
        check_invariants(customer)
    assert len(users) == n
