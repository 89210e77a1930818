"""Auto debit alone, on PostgreSQL: build BENCH_N customers (the data set
of bench/pipeline.py), bill them, then time the collection step without
rendering the receipts' PDFs, and count its statements.

    .venv/bin/python bench/collection.py 2000          (BENCH_PROFILE=1: cProfile too)

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
    print(f"N = {bench.N}: {counts}")
    print(
        f"auto debit: {charged} charged in {seconds:.1f} s, {charged / seconds:.1f}/s, "
        f"{statements[0]} statements ({statements[0] / max(charged, 1):.1f} a charge)"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
