"""Posting a bank file at volume, on PostgreSQL: build BENCH_N customers
(bench/pipeline.py's data set: ~30 % pay by check), bill them, write a BAI2
file of BENCH_ITEMS check items for the check payers' invoices (90 % with
the slip's scan line, 5 % an invoice number, 3 % an account number, 2 %
only a name: to the exceptions queue), and time its import: items per
second and statements per item. Then import it again (nothing posts).

    .venv/bin/python bench/bank_file.py 17000 5000    (BENCH_PROFILE=1: cProfile too)

Uses (drops and creates) the bench database of bench/pipeline.py.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline as bench  # sets the environment up first

ITEMS = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_ITEMS", "5000"))


def bai2(items: list[tuple[str, int, str, str]], ymd: str) -> str:
    """BAI2 as its specification lays it out (see tests/deposits/bankfiles.py)."""
    details = [
        f"16,115,{amount},Z,{ref},{check},{text}" if text else f"16,115,{amount},Z,{ref},{check},/"
        for ref, amount, check, text in items
    ]
    total = sum(amount for _, amount, _, _ in items)
    account = ["03,000123456789,USD/", *details]
    account.append(f"49,{total},{len(account) + 1}/")
    group = [f"02,ISOCNET,BANK01,1,{ymd},2359,USD,2/", *account]
    group.append(f"98,{total},1,{len(group) + 1}/")
    lines = [f"01,BANK01,ISOCNET,{ymd},0600,1,80,,2/", *group]
    lines.append(f"99,{total},1,{len(lines) + 1}/")
    return "\n".join(lines) + "\n"


def main() -> None:
    bench.recreate_database()
    bench.setup_django()
    bench.build(bench.N)
    from django.db import connection

    from isocnet.core import clock
    from isocnet.core.actors import Actor
    from isocnet.core.money import Money
    from isocnet.deposits.bank_files import bank_file_import
    from isocnet.invoicing.models import Invoice
    from isocnet.invoicing.scanline import scan_line
    from isocnet.operations.billing_run import RunSummary, bill_chunk, due_customer_ids, run_start

    actor = Actor("bench")
    with clock.frozen_at(bench.DAY):
        ids = due_customer_ids(bench.DAY)
        run, _ = run_start(date=bench.DAY, actor=actor, customers=len(ids))
        summary = RunSummary(date=bench.DAY, dry_run=False, run=run)
        summary.total = Money.zero("USD")
        bill_chunk(run=run, customer_ids=ids, date=bench.DAY, actor=actor, summary=summary)
    invoices = list(
        Invoice.objects.filter(customer__payment_method="check", balance_minor__gt=0)
        .order_by("pk")
        .values_list("number", "balance_minor", "customer__account_number", "customer__name")
    )
    rng = random.Random(7)
    items = []
    for n in range(ITEMS):
        number, balance, account, name = invoices[n % len(invoices)]
        draw = rng.random()
        if draw < 0.90:
            text = f"REMIT {scan_line(account, number, balance)}"
        elif draw < 0.95:
            text = f"INV {number}"
        elif draw < 0.98:
            text = f"ACCT {account}"
        else:
            text = f"NAME {name}"
        items.append((f"BR{n:07d}", balance, str(1000 + n), text))
    content = bai2(items, bench.DAY.strftime("%y%m%d"))
    print(f"N = {bench.N}: {len(invoices)} check payers' invoices, a BAI2 file of {ITEMS} items")

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    with clock.frozen_at(bench.DAY):
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            if profile:
                profile.enable()
            result = bank_file_import(
                actor=actor, format="bai2", filename="bench.bai", content=content
            )
            if profile:
                profile.disable()
        seconds = time.perf_counter() - started
        again_started = time.perf_counter()
        again = bank_file_import(actor=actor, format="bai2", filename="bench.bai", content=content)
        again_seconds = time.perf_counter() - again_started
    print(f"import: {result.as_dict()}")
    print(
        f"bank file: {ITEMS} items in {seconds:.1f} s, {ITEMS / seconds:.0f} items/s, "
        f"{statements[0]} statements ({statements[0] / ITEMS:.1f} an item)"
    )
    print(
        f"the same file again: {again.posted} posted, {again.already} already there, {again_seconds:.1f} s"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
