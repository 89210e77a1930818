"""The billing pipeline at scale, on PostgreSQL: build N customers (1-4
services each, monthly/quarterly/annual, ~30% check payers, taxes), then
measure and print one table:

1. invoice generation alone (every due customer billed: numbered, lines,
   taxes, credit, outbox row; no PDF, no email, no collection);
2. the rest of the pipeline in this process: PDFs rendered and stored,
   emails delivered to a local SMTP sink (in its own process), auto debit
   on the sandbox, and the receipt emails (with their PDFs) it causes;
3. the same whole run on WORKERS Celery workers (Redis), end to end;
4. the client portal: 50 connections of signed-in customers (wrk, no think
   time; BENCH_LOAD=locust for locust) on their dashboard and invoice list, against `isocnet serve` on the same
   database (after step 2, so every customer has an invoice, a PDF, a
   payment or not);
5. peak RSS of each process.

    make bench                 (N=10000; BENCH_N=100000 make bench for the big one)
    BENCH_STEPS=generate,portal BENCH_N=100000 make bench   (some steps only:
                               generate, pipeline, portal, workers)

It uses its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/isocnet_bench), dropped and created
each time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/isocnet_bench")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocnet.settings")
os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
os.environ["OUTBOX_BACKGROUND"] = "false"
os.environ["PORTAL_WELCOME_NEW_CUSTOMERS"] = "false"
N = int(os.environ.get("BENCH_N", sys.argv[1] if len(sys.argv) > 1 else "10000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/14")
DAY = dt.date(2026, 12, 1)
STEPS = set(os.environ.get("BENCH_STEPS", "generate,pipeline,portal,workers,latency").split(","))

PORTAL_USERS = int(os.environ.get("BENCH_PORTAL_USERS", "50"))
PORTAL_SECONDS = int(os.environ.get("BENCH_PORTAL_SECONDS", "60"))
LOAD = os.environ.get("BENCH_LOAD", "wrk")  # or locust
PORTAL_WARMUP = int(os.environ.get("BENCH_PORTAL_WARMUP", "5"))  # seconds per page, wrk only


# The goals of issue #21, per step (docs/performance.md): per second unless
# said otherwise. "floor/3": a third of the machine's own COPY floor.
GOALS = {
    "0": None,
    "1": 3000,
    "2a": 400,
    "2": 150,
    "2c-latency": 50,
    "portal": 400,
}
RESULTS = os.environ.get("BENCH_JSON")  # where to write the figures (bench/compare.py)


def copy_floor(n: int) -> float:
    """The machine's floor for what generation writes: n invoices' rows as
    ISOCNET writes them (1 invoice, 2.5 lines, 0.6 tax lines, 1 run item,
    3.5 audit rows, 1 outbox row: ~10 rows each), prebuilt as tuples and
    written by psycopg's COPY in one transaction into tables shaped like
    ours (LIKE … INCLUDING ALL: columns, defaults, indexes; no triggers,
    no foreign keys). Returns invoices a second. Independent of the code
    under test, so old and new are measured against the same floor."""
    import datetime as _dt
    import json as _json
    from decimal import Decimal

    import psycopg

    now = _dt.datetime.now(_dt.UTC)
    bill_to = _json.dumps(
        {"account_number": "B0000001", "name": "Customer", "address": ["1 Main St"]}
    )
    taxes = _json.dumps([{"name": "Sales tax", "percent": "8.2500"}])
    rows = {name: [] for name in ("invoice", "line", "tax", "item", "audit", "outbox")}
    line_id = tax_id = audit_id = 0
    for i in range(1, n + 1):
        rows["invoice"].append(
            (
                i,
                f"INV-2026-{i:06d}",
                "invoice-2026",
                i,
                "unpaid",
                DAY,
                DAY,
                "USD",
                bill_to,
                9990,
                412,
                10402,
                0,
                0,
                0,
                10402,
                "",
                now,
                now,
                None,
                "",
                None,
                None,
                i,
                10402,
            )
        )
        for k in range(1 + (i % 4 != 0) + (i % 2 == 0)):  # 2.5 a invoice
            line_id += 1
            rows["line"].append(
                (
                    line_id,
                    k + 1,
                    "service",
                    "Fiber 100 — 12/01/2026 to 12/31/2026",
                    DAY,
                    DAY + dt.timedelta(days=30),
                    Decimal(1),
                    4995,
                    taxes,
                    4995,
                    i,
                    None,
                )
            )
        if i % 5 < 3:
            tax_id += 1
            rows["tax"].append((tax_id, "Sales tax", Decimal("8.25"), 4995, 412, i))
        rows["item"].append((i, "issued", 10402, 2, "", i, 1, i))
        for _ in range(3 + (i % 2)):  # 3.5 a invoice
            audit_id += 1
            rows["audit"].append(
                (
                    audit_id,
                    now,
                    "bench",
                    "invoice.issue",
                    "Invoice",
                    str(i),
                    i,
                    '{"status": "draft"}',
                    '{"number": "INV-2026-000001", "total": "$104.02"}',
                )
            )
        rows["outbox"].append(
            (
                i,
                "invoice",
                f"invoice:{i}",
                "{}",
                "pending",
                0,
                now,
                now,
                None,
                "",
                "",
                "[]",
                "",
                "",
                "",
                "",
                None,
                i,
                None,
                i,
                None,
            )
        )
    tables = {
        "invoice": ("invoicing_invoice", None),
        "line": ("invoicing_invoiceline", None),
        "tax": ("invoicing_invoicetaxline", None),
        "item": ("invoicing_billingrunitem", None),
        "audit": ("core_auditevent", None),
        "outbox": ("notifications_outboxmessage", None),
    }
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        for name, (table, _) in tables.items():
            conn.execute(f"DROP TABLE IF EXISTS floor_{name}")
            conn.execute(f"CREATE TABLE floor_{name} (LIKE {table} INCLUDING ALL)")
        conn.execute("CHECKPOINT") if _superuser(conn) else None
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for name, (_, columns) in tables.items():
                with cur.copy(f"COPY floor_{name} {columns or ''} FROM STDIN") as copy:
                    for row in rows[name]:
                        copy.write_row(row)
        seconds = time.perf_counter() - started
        for name in tables:
            conn.execute(f"DROP TABLE floor_{name}")
    return n / seconds


def floor_elsewhere() -> float:
    """copy_floor in a child process: its million prebuilt tuples (at
    100,000) must not count as this process's peak RSS."""
    out = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--floor"],
        env={**os.environ, "BENCH_N": str(N)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def _superuser(conn) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


def recreate_database() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    admin = DB_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(n: int) -> dict:
    """Rows written straight to the tables (bench data only: the app's own
    tests go through the services)."""
    from django.conf import settings
    from django.db import connection

    from isocnet.catalog.models import Plan, TaxRate
    from isocnet.core import clock
    from isocnet.customers.models import Customer
    from isocnet.payments.models import PaymentMethod
    from isocnet.payments.sandbox_models import SandboxCard
    from isocnet.subscriptions.models import Subscription

    rng = random.Random(42)
    now = clock.now()
    tax = TaxRate.objects.create(name="Sales tax", rate="8.2500")
    plans = []
    for code, name, price, cycle, taxed in [
        ("fiber-100", "Fiber 100", 4995, "monthly", False),
        ("fiber-500", "Fiber 500", 6995, "monthly", False),
        ("fiber-1000", "Fiber 1000", 9995, "monthly", False),
        ("static-ip", "Static IP", 1000, "monthly", True),
        ("hosting", "Web hosting", 2999, "quarterly", True),
        ("domain", "Domain .com", 1800, "annual", True),
        ("backup", "Offsite backup", 1500, "monthly", True),
    ]:
        plan = Plan.objects.create(
            code=code, name=name, currency="USD", price_minor=price, cycle=cycle, created_at=now
        )
        if taxed:
            plan.tax_rates.add(tax)
        plans.append(plan)
    customers = []
    for i in range(1, n + 1):
        customers.append(
            Customer(
                account_number=f"B{i:07d}",
                name=f"Customer {i}",
                email=f"c{i}@bench.example",
                address_line1=f"{i} Main St",
                city="Springfield",
                region="IL",
                postal_code="62701",
                country="US",
                currency=settings.CURRENCY,
                payment_method="check" if rng.random() < 0.3 else "card",
                created_at=now,
                updated_at=now,
            )
        )
    Customer.objects.bulk_create(customers, batch_size=2000)
    customers = list(Customer.objects.order_by("pk"))
    cards, sandbox, subs = [], [], []
    for c in customers:
        if c.payment_method == "card":
            pm = f"pm_bench_{c.pk}"
            sandbox.append(
                SandboxCard(
                    pm_id=pm,
                    behaviour="ok",
                    brand="Visa",
                    last4="4242",
                    exp_month=12,
                    exp_year=2030,
                    created_at=now,
                )
            )
            cards.append(
                PaymentMethod(
                    customer=c,
                    gateway="sandbox",
                    token=pm,
                    brand="Visa",
                    last4="4242",
                    exp_month=12,
                    exp_year=2030,
                    is_default=True,
                    created_at=now,
                )
            )
        for plan in rng.sample(plans, rng.randint(1, 4)):
            subs.append(
                Subscription(
                    customer=c,
                    plan=plan,
                    quantity=1,
                    description="",
                    status="active",
                    start_date=DAY - dt.timedelta(days=365),
                    next_due_date=DAY,
                    anchor_day=DAY.day,
                    created_at=now,
                    updated_at=now,
                )
            )
    SandboxCard.objects.bulk_create(sandbox, batch_size=2000)
    PaymentMethod.objects.bulk_create(cards, batch_size=2000)
    Subscription.objects.bulk_create(subs, batch_size=2000)
    # Statistics for the tables just filled only. This machine (like CI)
    # runs PostgreSQL with autovacuum off: an ANALYZE of the still-empty
    # invoice tables would tell the planner they stay empty, and it would
    # scan them whole on every look-up as they grow (measured: 70 invoices/s
    # fell to 31/s by 35,000 invoices). Never-analysed tables are estimated
    # from their real size instead.
    filled = [
        m._meta.db_table
        for m in (Plan, TaxRate, Customer, Subscription, PaymentMethod, SandboxCard)
    ]
    filled.append(Plan.tax_rates.through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(f'"{t}"' for t in filled))
    return {"customers": n, "services": len(subs), "card": len(cards)}


_SINK = """
import sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


class SmtpSink:
    """A local SMTP server that accepts everything, in its own process (as
    a mail relay is: its CPU must not count against the sender's GIL)."""

    def __init__(self) -> None:
        self.port = 2525 + random.randint(0, 1000)
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", _SINK, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def smtp_sink():
    sink = SmtpSink()
    return sink, sink.port, sink


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_of(pid) -> float | None:
    """Another running process's peak RSS in MB (VmHWM), None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024
    except (OSError, StopIteration):
        return None


SENDERS = int(os.environ.get("BENCH_SENDERS", "2"))


def deliver_from_processes(port: int) -> int:
    """Send everything pending from SENDERS `isocnet deliver` processes at
    once (each message is claimed by one), as an operator clears a backlog
    on every core; returns how many were sent."""
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "isocnet.cli.main", "deliver"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(SENDERS)
    ]
    sent = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=4 * 3600)  # N = 100,000: well over an hour
        assert proc.returncode == 0, out
        sent += int(out.split("sent ")[1].split(",")[0])
    return sent


def deliver_all(deliver_pending) -> int:
    """Send everything pending; returns how many were sent."""
    sent = 0
    while True:
        report = deliver_pending(limit=500)
        sent += report.sent
        if report.handled == 0:
            return sent


def in_process(rows: list) -> None:
    from django.conf import settings

    from isocnet.core import clock
    from isocnet.core.actors import Actor
    from isocnet.core.money import Money
    from isocnet.documents.invoices import invoice_pdfs_render
    from isocnet.invoicing.models import BillingRunItem
    from isocnet.notifications.delivery import deliver_pending
    from isocnet.operations.auto_debit import collect_due
    from isocnet.operations.billing_run import (
        RunSummary,
        bill_chunk,
        due_customer_ids,
        run_start,
    )

    controller, port, _sink = smtp_sink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    actor = Actor("bench")
    with clock.frozen_at(DAY):
        ids = due_customer_ids(DAY)
        run, _ = run_start(date=DAY, actor=actor, customers=len(ids))
        summary = RunSummary(date=DAY, dry_run=False, run=run)
        summary.total = Money.zero("USD")
        t0 = time.perf_counter()
        bill_chunk(run=run, customer_ids=ids, date=DAY, actor=actor, summary=summary)
        t_gen = time.perf_counter() - t0
        rows.append(("1", "1. invoice generation (in-process)", summary.invoices, t_gen))
        if "pipeline" not in STEPS:
            controller.stop()
            return
        t1 = time.perf_counter()
        issued = list(
            BillingRunItem.objects.filter(run=run, outcome="issued").values_list(
                "invoice_id", flat=True
            )
        )
        invoice_pdfs_render(invoice_ids=issued)
        t_pdf = time.perf_counter() - t1
        rows.append(("2a", "2a. PDFs rendered and stored", summary.invoices, t_pdf))
        t2 = time.perf_counter()
        from django.db import connections

        connections.close_all()
        sent = deliver_from_processes(port) if SENDERS > 1 else deliver_all(deliver_pending)
        t_mail = time.perf_counter() - t2
        rows.append(("2b", f"2b. emails delivered to SMTP, {SENDERS} sender(s)", sent, t_mail))
        # The in-process sandbox answers at once: its charges are not paced
        # to a real processor's rate limit in this row (2c' measures the
        # defaults against a gateway that takes 300 ms), so old and new code
        # are compared alike.
        settings.AUTO_DEBIT_RATE = 10**6
        t3 = time.perf_counter()
        counts = collect_due(actor=actor, date=DAY)
        t_pay = time.perf_counter() - t3
        rows.append(("2c", "2c. auto debit, in-process sandbox", counts["charged"], t_pay))
        t4 = time.perf_counter()
        connections.close_all()
        # the receipts of 2c, each with its PDF
        receipts = deliver_from_processes(port) if SENDERS > 1 else deliver_all(deliver_pending)
        t_receipts = time.perf_counter() - t4
        rows.append(("2d", f"2d. receipt emails (PDF), {SENDERS} sender(s)", receipts, t_receipts))
        rows.append(
            (
                "2",
                "2. full pipeline (1-2d)",
                summary.invoices,
                t_gen + t_pdf + t_mail + t_pay + t_receipts,
            )
        )
    controller.stop()


def portal(results: dict) -> None:
    """Step 4: the portal under PORTAL_USERS concurrent signed-in customers,
    with wrk (BENCH_LOAD=wrk, the default) or locust (BENCH_LOAD=locust)."""
    import socket
    import tempfile

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import connections

    from isocnet.customers.logins import portal_login_ensure
    from isocnet.customers.models import Customer
    from isocnet.invoicing.models import Invoice

    password = "bench-portal-password"
    users = []
    chosen = Customer.objects.filter(invoices__isnull=False).distinct().order_by("?")
    for customer in chosen[:PORTAL_USERS]:
        portal_login_ensure(customer)
        users.append(
            {
                "email": customer.email,
                "password": password,
                "account": customer.account_number,
                "name": customer.name,
                "invoices": list(
                    Invoice.objects.filter(customer=customer).values_list("number", flat=True)
                ),
            }
        )
    User.objects.filter(portal__isnull=False).update(password=make_password(password))
    work = Path(tempfile.mkdtemp(prefix="isocnet-bench-portal-"))
    (work / "users.json").write_text(json.dumps(users))
    if LOAD == "wrk":
        (work / "sessions").write_text("\n".join(_sessions(users)) + "\n")
    _checkpoint()
    connections.close_all()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LOG_LEVEL": "WARNING", "EMAIL_URL": f"file://{work / 'mail'}"}
    server = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "isocnet.cli.main", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    host = f"http://127.0.0.1:{port}"
    if LOAD == "wrk":
        results["portal"] = _load_wrk(host, work, env)
    else:
        results["portal"] = _load_locust(host, work, env)
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    pids = children.read_text().split() if children.exists() else []
    rss = [mb for pid in [server.pid, *pids] if (mb := peak_rss_of(pid)) is not None]
    server.terminate()
    server.wait(timeout=30)
    results["portal_rss"] = rss


def _checkpoint() -> None:
    """Write back what the earlier steps left in PostgreSQL's buffers now,
    so that the checkpoints those writes bring on do not fall inside the
    portal's measurement (they halved one page's figure at N = 100,000)."""
    from django.db import connection
    from django.db.utils import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:  # not a superuser: measure anyway
        print(f"no CHECKPOINT before the portal step: {exc}".strip())


def _sessions(users: list[dict]) -> list[str]:
    """A signed-in session for each bench customer, as the sign-in page
    would leave it (the sign-ins themselves are not what step 4 measures)."""
    from django.contrib.auth.models import User
    from django.test import Client

    keys = []
    for user in User.objects.filter(email__in=[u["email"] for u in users]).order_by("id"):
        client = Client()
        client.force_login(user, backend="isocnet.portal.auth.AccountBackend")
        keys.append(client.cookies["sessionid"].value)
    assert len(keys) == len(users), f"{len(keys)} sessions for {len(users)} customers"
    return keys


def _load_wrk(host: str, work: Path, env: dict) -> dict:
    """wrk (C, epoll; Debian's package) on each page in turn for half of
    PORTAL_SECONDS: 2 threads, PORTAL_USERS connections, no think time,
    after PORTAL_WARMUP seconds of the same that are not counted (the web
    workers' first requests, their connections, PostgreSQL's cache)."""
    rows = {}
    for name, page in (("dashboard", "/portal/dashboard/"), ("invoice list", "/portal/invoices/")):
        if PORTAL_WARMUP:
            _wrk(host, page, work, env, seconds=PORTAL_WARMUP)
        row = _wrk(host, page, work, env, seconds=max(PORTAL_SECONDS // 2, 1))
        rows[name] = {
            "requests": row["requests"],
            "per_second": row["requests"] / row["seconds"],
            "p50": row["p50_ms"],
            "p95": row["p95_ms"],
            "p99": row["p99_ms"],
            "failures": row["bad"] + row["socket_errors"],
        }
    return rows


def _wrk(host: str, page: str, work: Path, env: dict, *, seconds: int) -> dict:
    out = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{PORTAL_USERS}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(ROOT / "bench" / "portal.lua"),
            host + page,
        ],
        env={**env, "SESSIONS": str(work / "sessions"), "PAGE": page},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _load_locust(host: str, work: Path, env: dict) -> dict:
    """locust (tests/load/locustfile.py): each simulated customer signs in
    over HTTP, then alternates the two pages; every answer is checked for
    another account's data."""
    import csv

    locust = Path(sys.executable).with_name("locust")
    subprocess.run(  # noqa: S603
        [
            str(locust),
            "-f",
            str(ROOT / "tests" / "load" / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(PORTAL_USERS),
            "-r",
            str(PORTAL_USERS),
            "-t",
            f"{PORTAL_SECONDS}s",
            "--host",
            host,
            "--csv",
            str(work / "locust"),
        ],
        env={**env, "LOAD_USERS": str(work / "users.json"), "LOAD_MODE": "bench"},
        capture_output=True,
        check=False,
    )
    with open(work / "locust_stats.csv") as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    return {
        name: {
            "requests": int(row["Request Count"]),
            "per_second": float(row["Requests/s"]),
            "p50": float(row["50%"]),
            "p95": float(row["95%"]),
            "p99": float(row["99%"]),
            "failures": int(row["Failure Count"]),
        }
        for name, row in stats.items()
        if name in ("dashboard", "invoice list", "Aggregated")
    }


def on_workers(rows: list) -> dict:
    """Fresh data, then the same run on WORKERS worker processes."""
    env = {**os.environ, "CELERY_BROKER_URL": BROKER, "BENCH": "1"}
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    controller, port, _sink = smtp_sink()
    env["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "isocnet.cli.main",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            cwd=ROOT,
        )
        for _ in range(WORKERS)
    ]
    time.sleep(4)
    t0 = time.perf_counter()
    bill = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "isocnet.cli.main", "bill", "--date", DAY.isoformat()],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    from isocnet.outbox.models import OutboxMessage

    while OutboxMessage.objects.filter(status="pending").exists():
        time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    from isocnet.invoicing.models import Invoice

    invoices = Invoice.objects.count()
    rows.append(("3", f"3. full pipeline, {WORKERS} Celery workers", invoices, elapsed))
    rss = {}
    for p in procs:
        if (mb := peak_rss_of(p.pid)) is not None:
            rss[p.pid] = mb
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=60)  # a warm shutdown finishes the task in hand
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    controller.stop()
    if bill.returncode:
        print(bill.stdout, bill.stderr)
    return rss


def build_elsewhere() -> None:
    """A fresh database with the data set, built by a child process: the
    builder holds every row in memory (hundreds of MB at 100,000), which
    must not count as this process's peak RSS."""
    recreate_database()
    t = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--build"], env={**os.environ, "BENCH_N": str(N)}, check=True
    )
    print(f"data set built in {time.perf_counter() - t:.1f} s")


def print_rows(rows: list, floor: float | None = None) -> None:
    print(f"\nN = {N} customers, {os.cpu_count()} cores, PostgreSQL", flush=True)
    print(f"{'step':48} {'count':>8} {'seconds':>9} {'per second':>11} {'goal':>7} {'of goal':>8}")
    if floor:
        print(
            f"{'0. COPY floor: ~10 rows an invoice (psycopg)':48} {N:>8} {N / floor:>9.1f}"
            f" {floor:>11.0f}"
        )
    for key, name, count, seconds in rows:
        if key == "2c-double":
            print(f"{name:48} {count:>8}  (goal: 0)")
            continue
        rate = count / seconds if seconds else 0
        goal = GOALS.get(key)
        shown = f"{goal:>7} {rate / goal:>7.0%}" if goal else ""
        print(f"{name:48} {count:>8} {seconds:>9.1f} {rate:>11.0f} {shown}", flush=True)
        if key == "1" and floor:
            print(
                f"{'   generation against the COPY floor':48} {'':>8} {'':>9} {rate / floor:>11.0%}"
                f" {round(floor / 3):>7} {rate / (floor / 3):>7.0%}  (goal: a third of the floor)"
            )


def latency_step(rows: list) -> None:
    """Auto debit against a gateway that takes BENCH_LATENCY_MS (300) a
    call, BENCH_LATENCY_N customers (2857: about 2,000 cards), on its own
    data set (bench/collection.py, in a child process)."""
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="isocnet-bench-")) / "latency.json"
    n = os.environ.get("BENCH_LATENCY_N", "2857")
    env = {
        **os.environ,
        "SANDBOX_LATENCY_MS": os.environ.get("BENCH_LATENCY_MS", "300"),
        "BENCH_JSON": str(out),
        "BENCH_N": n,
    }
    subprocess.run([sys.executable, str(ROOT / "bench" / "collection.py"), n], env=env, check=True)  # noqa: S603
    figures = json.loads(out.read_text())
    rows.append(
        (
            "2c-latency",
            f"2c'. auto debit, {env['SANDBOX_LATENCY_MS']} ms gateway, {figures['charged']} cards",
            figures["charged"],
            figures["seconds"],
        )
    )
    rows.append(("2c-double", "     double charges in 2c'", figures["double_charges"], 0))


def main() -> None:
    rows: list = []
    build_elsewhere()
    setup_django()
    floor = floor_elsewhere() if "generate" in STEPS else None
    in_process(rows)
    rss_main = peak_rss_mb()
    print_rows(rows, floor)  # now, should a later step fail
    results: dict = {}
    if "portal" in STEPS:
        portal(results)
    worker_rss = {}
    if WORKERS and "workers" in STEPS:
        from django.db import connections

        connections.close_all()
        build_elsewhere()
        worker_rss = on_workers(rows)
    if "latency" in STEPS:
        from django.db import connections

        connections.close_all()
        latency_step(rows)
    print_rows(rows, floor)
    for name, row in results.get("portal", {}).items():
        print(
            f"4. portal ({LOAD}), {PORTAL_USERS} connections: {name:13} {row['requests']:>8}"
            f" requests {row['per_second']:>6.0f}/s  p50 {row['p50']:.0f} ms"
            f"  p95 {row['p95']:.0f} ms  p99 {row['p99']:.0f} ms  failures {row['failures']}"
            f"   (goal: {GOALS['portal']}/s, {row['per_second'] / GOALS['portal']:.0%};"
            f" p99 <= 150 ms, {row['p99'] / 150:.0%})"
        )
    print(
        f"peak RSS: this process {rss_main:.0f} MB; workers "
        + ", ".join(f"{v:.0f} MB" for v in worker_rss.values())
        + "; web server "
        + ", ".join(f"{v:.0f} MB" for v in results.get("portal_rss", []))
        + "   (goal: <= 300 MB each, flat in N)"
    )
    if RESULTS:
        Path(RESULTS).write_text(
            json.dumps(
                {
                    "n": N,
                    "floor": floor,
                    "rows": rows,
                    "portal": results.get("portal", {}),
                    "rss": {
                        "main": rss_main,
                        "workers": list(worker_rss.values()),
                        "web": results.get("portal_rss", []),
                    },
                }
            )
        )


if __name__ == "__main__":
    if "--floor" in sys.argv:
        print(copy_floor(N))
    elif "--build" in sys.argv:
        setup_django()
        print(f"data set: {build(N)}")
    else:
        main()
