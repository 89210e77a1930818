"""The billing run on workers: the coordinator (``isocnet bill``, or beat's
daily task) starts the run, sends chunks of customers to the billing queue,
waits for them, then runs dunning and sends collection to its queue. Each
customer is still billed in its own locked transaction, so chunks run in
parallel safely, and a chunk run twice (a worker lost) bills nothing twice.
"""

from __future__ import annotations

import datetime as dt

from celery import group, shared_task
from django.conf import settings

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.jobs import jobs_run_due
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.documents.invoices import invoice_pdfs_render
from isocnet.invoicing.models import BillingRun, BillingRunItem
from isocnet.network.drift import network_verify
from isocnet.notifications.tasks import deliver_task
from isocnet.operations.auto_debit import (
    collect_installments,
    collect_invoices,
    collection_counts,
    due_for_collection,
)
from isocnet.operations.billing_run import (
    RunSummary,
    bill_chunk,
    billing_date_check,
    due_customer_ids,
    run_finish,
    run_future_override_audit,
    run_mark_failed,
    run_start,
)


@shared_task(name="billing.chunk")
def bill_chunk_task(run_id: int, customer_ids: list[int], date: str, actor: str) -> dict:
    run = BillingRun.objects.get(pk=run_id)
    summary = RunSummary(date=dt.date.fromisoformat(date), dry_run=False, run=run)
    summary.total = Money.zero(run.currency)
    bill_chunk(
        run=run, customer_ids=customer_ids, date=summary.date, actor=Actor(actor), summary=summary
    )
    issued = list(
        BillingRunItem.objects.filter(
            run=run, customer_id__in=customer_ids, outcome=BillingRunItem.Outcome.ISSUED
        ).values_list("invoice_id", flat=True)
    )
    if issued:
        render_invoices_task.delay(issued)  # PDFs first, then the emails find them stored
    return {
        "invoices": summary.invoices,
        "total_minor": summary.total.minor(),
        "refused": summary.refused,
        "errors": summary.errors,
        "problems": summary.problems[:50],
    }


def billing_run_distributed(
    *,
    date: dt.date,
    actor: Actor,
    chunk_size: int | None = None,
    timeout: int = 6 * 3600,
    future_override: str | None = None,
    today: dt.date | None = None,
) -> RunSummary:
    require(actor, "billing.run")
    today = today or clock.today()
    override = billing_date_check(date=date, today=today, future_override=future_override)
    size = chunk_size or settings.BILLING_CHUNK_SIZE
    ids = due_customer_ids(date)
    summary = RunSummary(date=date, dry_run=False, run=None, customers=len(ids))
    summary.total = Money.zero(settings.CURRENCY)
    run, reconciled = run_start(date=date, actor=actor, customers=len(ids))
    summary.run = run
    run_future_override_audit(run=run, actor=actor, today=today, reason=override)
    try:
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        if chunks:
            parts = (
                group(
                    bill_chunk_task.s(run.pk, chunk, date.isoformat(), actor.label)
                    for chunk in chunks
                )
                .apply_async()
                .get(timeout=timeout, disable_sync_subtasks=False)
            )
            for part in parts:
                summary.invoices += part["invoices"]
                summary.total = summary.total + Money.from_minor(part["total_minor"], run.currency)
                summary.refused += part["refused"]
                summary.errors += part["errors"]
                summary.problems.extend(part["problems"])
        run_finish(
            run=run,
            date=date,
            actor=actor,
            summary=summary,
            reconciled=reconciled,
            collect=lambda actor, date: _collect_on_workers(actor, date, size, timeout),
        )
    except BaseException:
        run_mark_failed(run)
        raise
    deliver_task.delay()
    return summary


def _collect_on_workers(actor: Actor, date: dt.date, size: int, timeout: int) -> dict:
    ids = due_for_collection(date)
    counts = collection_counts()
    # plan installments: few, charged here (each under its customer's lock)
    counts["installments"] = collect_installments(actor=actor, date=date)
    if not ids:
        return counts
    parts = (
        group(collect_task.s(ids[i : i + size], actor.label) for i in range(0, len(ids), size))
        .apply_async()
        .get(timeout=timeout, disable_sync_subtasks=False)
    )
    for part in parts:
        for key in counts:
            counts[key] += part.get(key, 0)
    return counts


@shared_task(name="email.jobs")
def run_jobs_task() -> int:
    """Side-effect jobs (RADIUS changes, NAS requests, webhook deliveries)
    on a worker: beat's sweep every JOB_POLL_SECONDS (core.jobs)."""
    return jobs_run_due()


@shared_task(name="email.network_verify")
def network_verify_task() -> int:
    """Beat's hourly drift check (docs/network.md): recorded, shown on the
    back office's home page; repairs stay a person's decision."""
    if not settings.RADIUS_DATABASE_URL:
        return 0
    return len(network_verify(actor=Actor("beat")))


@shared_task(name="billing.daily")
def daily_billing_task() -> dict:
    """Beat's daily run (or cron `isocnet bill`)."""
    summary = billing_run_distributed(date=clock.today(), actor=Actor("beat"))
    return {"run": summary.run.pk, "invoices": summary.invoices}


@shared_task(name="documents.render_invoices")
def render_invoices_task(invoice_ids: list[int]) -> int:
    """Render and store the PDFs of new invoices (each once: invoice_pdf
    keeps the first), so sending their emails is quick; then wake the
    email queue."""
    invoice_pdfs_render(invoice_ids=list(invoice_ids))
    deliver_task.delay()
    return len(invoice_ids)


@shared_task(name="collection.collect")
def collect_task(invoice_ids: list[int], actor: str) -> dict:
    """Charge these auto-debit invoices (each through the three-step,
    idempotent charge of payments.calls and payments.settling)."""
    return collect_invoices(actor=Actor(actor), invoice_ids=invoice_ids)
