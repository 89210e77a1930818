import datetime as dt

from ninja import Router, Schema, Status
from pydantic import StrictBool

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.schemas import ErrorOut, Strict
from isocnet.core import clock
from isocnet.core.errors import NotFound
from isocnet.core.money import Money
from isocnet.core.validation import clean_date
from isocnet.invoicing.models import BillingRun
from isocnet.operations.billing_run import billing_run

router = Router(tags=["billing runs"])


class BillingRunIn(Strict):
    date: str | None = None
    dry_run: StrictBool = False
    # A real run for a day after today: the reason (audited); refused without it
    future_override: str | None = None


class BillingRunOut(Schema):
    id: int | None
    date: dt.date
    dry_run: bool
    status: str
    customers: int
    invoices_created: int
    total: str
    refused: int
    errors: int
    marked_overdue: int
    notices_queued: int
    suspended: int
    reactivated: int
    to_collect: int
    problems: list[str] = []
    preview: list[dict] = []
    items: list[dict] = []


def run_out(run: BillingRun, *, with_items: bool = False) -> dict:

    out = {
        "id": run.pk,
        "date": run.date,
        "dry_run": False,
        "status": run.status,
        "customers": run.customers_seen,
        "invoices_created": run.invoices_created,
        "total": Money.from_minor(run.invoices_total_minor, run.currency or "USD").as_string(),
        "refused": run.refused,
        "errors": run.errors,
        "marked_overdue": run.marked_overdue,
        "notices_queued": run.notices_queued,
        "suspended": run.suspended,
        "reactivated": run.reactivated,
        "to_collect": run.to_collect,
    }
    if with_items:
        out["items"] = [
            {
                "customer": i.customer_id,
                "outcome": i.outcome,
                "invoice": i.invoice.number if i.invoice else None,
                "lines": i.lines,
                "message": i.message,
            }
            for i in run.items.select_related("invoice")
        ]
    return out


@router.post("/billing-runs", response={201: BillingRunOut, 200: BillingRunOut, 422: ErrorOut})
def create_billing_run(request, payload: BillingRunIn):
    """Run billing for ``date`` (default today). With ``dry_run`` nothing is
    written and the answer (200) carries the preview per customer. A real
    run for a date after today is refused (422, field date) unless
    ``future_override`` gives the reason, which is audited."""
    day = clean_date(payload.date, "date") if payload.date else clock.today()
    summary = billing_run(
        date=day,
        dry_run=payload.dry_run,
        actor=actor_of(request),
        future_override=payload.future_override,
    )
    if payload.dry_run:
        d = summary.dunning
        return Status(
            200,
            {
                "id": None,
                "date": day,
                "dry_run": True,
                "status": "preview",
                "customers": summary.customers,
                "invoices_created": summary.invoices,
                "total": summary.total.as_string(),
                "refused": summary.refused,
                "errors": summary.errors,
                "marked_overdue": d.marked_overdue,
                "notices_queued": d.notices,
                "suspended": d.suspended_customers,
                "reactivated": d.reactivated_customers,
                "to_collect": d.to_collect,
                "problems": summary.problems,
                "preview": summary.preview,
            },
        )
    return Status(201, {**run_out(summary.run), "problems": summary.problems})


@router.get("/billing-runs/{run_id}", response={200: BillingRunOut, 404: ErrorOut})
def get_billing_run(request, run_id: int):
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"no billing run with id {run_id}", field="id")
    return run_out(run, with_items=True)
