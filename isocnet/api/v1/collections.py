"""Collections: the policy, a customer's timeline, promises to pay,
disputes and late fees. Each endpoint calls one service or selector."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.schemas import ErrorOut, Id, IsoDate, Strict
from isocnet.collections.late_fees import late_fee_waive
from isocnet.collections.models import Dispute, LateFee, PaymentPlan, Promise
from isocnet.collections.plans import plan_cancel, plan_create
from isocnet.collections.policy import Policy, current, policy_update
from isocnet.collections.promises import (
    dispute_open,
    dispute_resolve,
    promise_cancel,
    promise_create,
)
from isocnet.core.errors import NotFound
from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.operations.timeline import TIMELINE_DAYS, customer_timeline, next_step

router = Router(tags=["collections"])


class StepOut(Schema):
    day: int | None  # relative to the due date (None: whenever it applies)
    what: str


class PolicyOut(Schema):
    reminder_days_before_due: int
    notice_days: list[int]
    suspend_after_days: int
    suspension_warning_days: int
    suspension_days: int
    card_retry_days: list[int]
    late_fee_flat: str
    late_fee_percent: str
    late_fee_min: str
    late_fee_max: str
    late_fee_cap_percent: str
    late_fee_grace_days: int
    late_fee_repeat: str
    late_fee_on: str
    late_fee_tax_rate_id: int | None
    promise_max_days: int
    portal_promises_max: int
    portal_promises_days: int
    steps: list[StepOut]


class PolicyPatch(Strict):
    reminder_days_before_due: int | None = None
    notice_days: list[int] | None = None
    suspend_after_days: int | None = None
    suspension_warning_days: int | None = None
    card_retry_days: list[int] | None = None
    late_fee_flat: str | None = None
    late_fee_percent: str | None = None
    late_fee_min: str | None = None
    late_fee_max: str | None = None
    late_fee_cap_percent: str | None = None
    late_fee_grace_days: int | None = None
    late_fee_repeat: str | None = None
    late_fee_on: str | None = None
    late_fee_tax_rate_id: Id | None = None
    promise_max_days: int | None = None
    portal_promises_max: int | None = None
    portal_promises_days: int | None = None


def policy_out(policy: Policy) -> dict:
    def text(value: Decimal) -> str:
        return f"{value:f}"

    return {
        "reminder_days_before_due": policy.reminder_days_before_due,
        "notice_days": list(policy.notice_days),
        "suspend_after_days": policy.suspend_after_days,
        "suspension_warning_days": policy.suspension_warning_days,
        "suspension_days": policy.suspension_days,
        "card_retry_days": list(policy.card_retry_days),
        "late_fee_flat": text(policy.late_fee_flat),
        "late_fee_percent": text(policy.late_fee_percent),
        "late_fee_min": text(policy.late_fee_min),
        "late_fee_max": text(policy.late_fee_max),
        "late_fee_cap_percent": text(policy.late_fee_cap_percent),
        "late_fee_grace_days": policy.late_fee_grace_days,
        "late_fee_repeat": policy.late_fee_repeat,
        "late_fee_on": policy.late_fee_on,
        "late_fee_tax_rate_id": policy.late_fee_tax_rate_id,
        "promise_max_days": policy.promise_max_days,
        "portal_promises_max": policy.portal_promises_max,
        "portal_promises_days": policy.portal_promises_days,
        "steps": [
            {"day": day if isinstance(day, int) else None, "what": what}
            for day, what in policy.steps()
        ],
    }


@router.get("/collections/policy", response=PolicyOut)
def get_policy(request):
    """The collections policy: every step's day relative to the due date."""
    return policy_out(current())


@router.patch("/collections/policy", response={200: PolicyOut, 403: ErrorOut, 422: ErrorOut})
def patch_policy(request, payload: PolicyPatch):
    """Change the policy (audited); the next daily run follows it."""
    return policy_out(policy_update(actor=actor_of(request), **payload.dict(exclude_unset=True)))


class EventOut(Schema):
    date: dt.date
    kind: str
    text: str
    amount: str | None
    currency: str | None
    invoice_due_date: dt.date | None


class TimelineOut(Schema):
    customer: int
    days: int
    next_step: str
    assumes: str
    events: list[EventOut]


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}", field="id")
    return customer


@router.get("/customers/{customer_id}/timeline", response={200: TimelineOut, 404: ErrorOut})
def get_timeline(request, customer_id: int):
    """The next 60 days of this account as the daily runs will make them
    (the billing run's own code, run ahead and rolled back), assuming no
    payment arrives but the scheduled card charges."""
    customer = _customer(customer_id)
    events = customer_timeline(customer.pk)
    return {
        "customer": customer.pk,
        "days": TIMELINE_DAYS,
        "next_step": next_step(events),
        "assumes": "no payment arrives but the card charges auto debit makes as scheduled",
        "events": [e.as_dict() for e in events],
    }


class PromiseIn(Strict):
    amount: str
    promised_on: IsoDate
    note: str = ""


class PromiseOut(Schema):
    id: int
    customer: int
    amount: str
    paid: str
    currency: str
    promised_on: dt.date
    status: str
    source: str
    note: str
    invoices: list[str]
    created_at: dt.datetime
    created_by: str


def promise_out(promise: Promise) -> dict:
    return {
        "id": promise.pk,
        "customer": promise.customer_id,
        "amount": Money.from_minor(promise.amount_minor, promise.currency).as_string(),
        "paid": Money.from_minor(promise.paid_minor, promise.currency).as_string(),
        "currency": promise.currency,
        "promised_on": promise.promised_on,
        "status": promise.status,
        "source": promise.source,
        "note": promise.note,
        "invoices": [i.number for i in promise.invoices.order_by("id")],
        "created_at": promise.created_at,
        "created_by": promise.created_by,
    }


@router.post(
    "/customers/{customer_id}/promises",
    response={201: PromiseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def create_promise(request, customer_id: int, payload: PromiseIn):
    """Record a promise to pay: notices, late fees and suspension hold for
    the account's open invoices until the promised date."""
    promise = promise_create(
        actor=actor_of(request),
        customer_id=_customer(customer_id).pk,
        amount=payload.amount,
        promised_on=payload.promised_on,
        source="api",
        note=payload.note,
    )
    return Status(201, promise_out(promise))


@router.get("/customers/{customer_id}/promises", response={200: list[PromiseOut], 404: ErrorOut})
def list_promises(request, customer_id: int):
    return [promise_out(p) for p in Promise.objects.filter(customer=_customer(customer_id))]


class ReasonIn(Strict):
    reason: str


@router.post(
    "/promises/{promise_id}/cancel",
    response={200: PromiseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def cancel_promise(request, promise_id: int, payload: ReasonIn):
    return promise_out(
        promise_cancel(actor=actor_of(request), promise_id=promise_id, reason=payload.reason)
    )


class DisputeIn(Strict):
    invoice: str
    reason: str


class DisputeOut(Schema):
    id: int
    invoice: str
    customer: int
    reason: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str


def dispute_out(dispute: Dispute) -> dict:
    return {
        "id": dispute.pk,
        "invoice": dispute.invoice.number,
        "customer": dispute.customer_id,
        "reason": dispute.reason,
        "opened_at": dispute.opened_at,
        "resolved_at": dispute.resolved_at,
        "resolution": dispute.resolution,
    }


@router.post(
    "/disputes",
    response={201: DisputeOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def open_dispute(request, payload: DisputeIn):
    """The customer disputes an invoice: it is held until resolved."""
    dispute = dispute_open(
        actor=actor_of(request), invoice_number=payload.invoice, reason=payload.reason
    )
    return Status(201, dispute_out(dispute))


class ResolutionIn(Strict):
    resolution: str


@router.post(
    "/disputes/{dispute_id}/resolve",
    response={200: DisputeOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def resolve_dispute(request, dispute_id: int, payload: ResolutionIn):
    return dispute_out(
        dispute_resolve(
            actor=actor_of(request), dispute_id=dispute_id, resolution=payload.resolution
        )
    )


class LateFeeOut(Schema):
    id: int
    invoice: str
    customer: int
    sequence: int
    charged_on: dt.date
    amount: str
    currency: str
    fee_invoice: str | None
    waived_at: dt.datetime | None
    waive_reason: str


def late_fee_out(fee: LateFee) -> dict:
    return {
        "id": fee.pk,
        "invoice": fee.invoice.number,
        "customer": fee.customer_id,
        "sequence": fee.sequence,
        "charged_on": fee.charged_on,
        "amount": Money.from_minor(fee.amount_minor, fee.currency).as_string(),
        "currency": fee.currency,
        "fee_invoice": fee.fee_invoice.number if fee.fee_invoice else None,
        "waived_at": fee.waived_at,
        "waive_reason": fee.waive_reason,
    }


@router.get("/customers/{customer_id}/late-fees", response={200: list[LateFeeOut], 404: ErrorOut})
def list_late_fees(request, customer_id: int):
    return [
        late_fee_out(f)
        for f in LateFee.objects.filter(customer=_customer(customer_id)).select_related(
            "invoice", "fee_invoice"
        )
    ]


@router.post(
    "/late-fees/{late_fee_id}/waive",
    response={200: LateFeeOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def waive_late_fee(request, late_fee_id: int, payload: ReasonIn):
    """Waive a late fee: off the next invoice, or by a credit note."""
    return late_fee_out(
        late_fee_waive(actor=actor_of(request), late_fee_id=late_fee_id, reason=payload.reason)
    )


class PaymentPlanIn(Strict):
    installments: int
    first_on: IsoDate
    note: str = ""


class InstallmentOut(Schema):
    due_on: dt.date
    amount: str


class PaymentPlanOut(Schema):
    id: int
    customer: int
    total: str
    paid: str
    currency: str
    status: str
    installments: list[InstallmentOut]
    invoices: list[str]
    created_at: dt.datetime


def plan_out(plan: PaymentPlan) -> dict:
    return {
        "id": plan.pk,
        "customer": plan.customer_id,
        "total": Money.from_minor(plan.total_minor, plan.currency).as_string(),
        "paid": Money.from_minor(plan.paid_minor, plan.currency).as_string(),
        "currency": plan.currency,
        "status": plan.status,
        "installments": [
            {
                "due_on": i.due_on,
                "amount": Money.from_minor(i.amount_minor, plan.currency).as_string(),
            }
            for i in plan.installments.all()
        ],
        "invoices": [i.number for i in plan.invoices.order_by("id")],
        "created_at": plan.created_at,
    }


@router.post(
    "/customers/{customer_id}/payment-plans",
    response={201: PaymentPlanOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def create_plan(request, customer_id: int, payload: PaymentPlanIn):
    """Split what the account owes into monthly installments (exact to the
    cent); the invoices it covers are held while the plan is kept."""
    plan = plan_create(
        actor=actor_of(request),
        customer_id=_customer(customer_id).pk,
        installments=payload.installments,
        first_on=payload.first_on,
        note=payload.note,
    )
    return Status(201, plan_out(plan))


@router.get(
    "/customers/{customer_id}/payment-plans", response={200: list[PaymentPlanOut], 404: ErrorOut}
)
def list_plans(request, customer_id: int):
    return [plan_out(p) for p in PaymentPlan.objects.filter(customer=_customer(customer_id))]


@router.post(
    "/payment-plans/{plan_id}/cancel",
    response={200: PaymentPlanOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def cancel_plan(request, plan_id: int, payload: ReasonIn):
    return plan_out(plan_cancel(actor=actor_of(request), plan_id=plan_id, reason=payload.reason))
