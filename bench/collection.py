"""Auto debit alone, on PostgreSQL: build BENCH_N customers (the data set
of bench/pipeline.py), bill them, then time the collection step without
rendering the receipts' PDFs, and count its statements.

    .venv/bin/python bench/collection.py 2000          (BENCH_PROFILE=1: cProfile too)
    SANDBOX_LATENCY_MS=300 .venv/bin/python bench/collection.py 2857
        (about 2,000 cards, each call taking a real processor's 300 ms: the
        calls overlap, AUTO_DEBIT_CONCURRENCY at once, AUTO_DEBIT_RATE a second)

Statements are those of this thread's connection (steps 1 and 3); the
calls' threads have their own. After the run every charge is checked: no
invoice charged twice at the gateway, every payment backed by a charge.

Uses (drops and creates) the bench database of bench/pipeline.py.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline as bench  # sets the environment up first


def main() -> None:
    bench.recreate_database()
    bench.setup_django()
    bench.build(bench.N)
    from django.db import connection

    from isocnet.core import clock
    from isocnet.core.actors import Actor
    from isocnet.core.money import Money
    from isocnet.operations import auto_debit as collection
    from isocnet.operations.billing_run import RunSummary, bill_chunk, due_customer_ids, run_start

    actor = Actor("bench")
    statements = [0]
    from django.conf import settings as django_settings

    latency = int(os.environ.get("SANDBOX_LATENCY_MS", "0"))
    if latency and not hasattr(django_settings, "SANDBOX_LATENCY_MS"):
        # code from before the sandbox had a latency (old against new, from
        # a git worktree): the same round trip, added around its charge
        from isocnet.payments.gateways.sandbox import SandboxGateway

        real_charge = SandboxGateway.charge

        def slow_charge(self, **kwargs):
            time.sleep(latency / 1000)
            return real_charge(self, **kwargs)

        SandboxGateway.charge = slow_charge

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    with clock.frozen_at(bench.DAY):
        ids = due_customer_ids(bench.DAY)
        run, _ = run_start(date=bench.DAY, actor=actor, customers=len(ids))
        summary = RunSummary(date=bench.DAY, dry_run=False, run=run)
        summary.total = Money.zero("USD")
        bill_chunk(run=run, customer_ids=ids, date=bench.DAY, actor=actor, summary=summary)
        collection._render_receipts = lambda payment_ids: None  # the charging only
        profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            if profile:
                profile.enable()
            counts = collection.collect_due(actor=actor, date=bench.DAY)
            if profile:
                profile.disable()
        seconds = time.perf_counter() - started
    charged = counts["charged"]
    from django.conf import settings
    from django.db.models import Count

    from isocnet.payments.models import GatewayCall, Payment
    from isocnet.payments.sandbox_models import SandboxCharge

    keys_of_invoice = GatewayCall.objects.filter(kind="charge").values("invoice_id")
    twice = (
        SandboxCharge.objects.filter(
            idempotency_key__in=GatewayCall.objects.values("idempotency_key")
        )
        .values("idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    invoices_twice = (
        keys_of_invoice.annotate(n=Count("id")).filter(n__gt=1, status="succeeded").count()
    )
    print(
        f"gateway latency {latency} ms,"
        f" {getattr(settings, 'AUTO_DEBIT_CONCURRENCY', 1)} calls at once,"
        f" at most {getattr(settings, 'AUTO_DEBIT_RATE', '(no limit)')}/s; sandbox charges"
        f" {SandboxCharge.objects.filter(status='succeeded').count()}, payments"
        f" {Payment.objects.count()}; double charges: {twice + invoices_twice}"
    )
    print(f"N = {bench.N}: {counts}")
    if os.environ.get("BENCH_JSON"):
        import json

        Path(os.environ["BENCH_JSON"]).write_text(
            json.dumps(
                {
                    "charged": charged,
                    "seconds": seconds,
                    "double_charges": twice + invoices_twice,
                    "statements": statements[0],
                }
            )
        )
    print(
        f"auto debit: {charged} charged in {seconds:.1f} s, {charged / seconds:.1f}/s, "
        f"{statements[0]} statements ({statements[0] / max(charged, 1):.1f} a charge)"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
