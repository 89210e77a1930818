from ninja import Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.schemas import ErrorOut, Strict
from isocnet.catalog.models import Plan
from isocnet.catalog.services import plan_create, tax_rate_for_percent

router = Router(tags=["plans"])


class PlanIn(Strict):
    name: str
    description: str = ""
    price: str
    cycle: str
    setup_fee: str | None = None
    tax_rate: str | None = None  # a percentage such as "8.25"
    code: str | None = None


class PlanTaxRateOut(Schema):
    """A tax rate as a plan lists it (the rate as a percentage)."""

    id: int
    name: str
    rate: str


class PlanOut(Schema):
    id: int
    code: str
    name: str
    description: str
    price: str
    currency: str
    cycle: str
    setup_fee: str
    active: bool
    tax_rates: list[PlanTaxRateOut]


def plan_out(plan: Plan) -> dict:
    return {
        "id": plan.pk,
        "code": plan.code,
        "name": plan.name,
        "description": plan.description,
        "price": plan.price.as_string(),
        "currency": plan.currency,
        "cycle": plan.cycle,
        "setup_fee": plan.setup_fee.as_string(),
        "active": plan.active,
        "tax_rates": [
            {"id": t.pk, "name": t.name, "rate": f"{t.rate.normalize():f}"}
            for t in plan.tax_rates.all()
        ],
    }


@router.post("/plans", response={201: PlanOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def create_plan(request, payload: PlanIn):
    actor = actor_of(request)
    tax_rates = (
        [tax_rate_for_percent(actor=actor, rate=payload.tax_rate)] if payload.tax_rate else []
    )
    plan = plan_create(
        actor=actor,
        name=payload.name,
        description=payload.description,
        price=payload.price,
        cycle=payload.cycle,
        setup_fee=payload.setup_fee,
        tax_rates=tax_rates,
        code=payload.code,
    )
    return Status(201, plan_out(plan))


@router.get("/plans", response=list[PlanOut])
def list_plans(request):
    return [plan_out(p) for p in Plan.objects.prefetch_related("tax_rates").order_by("id")]


@router.get("/plans/{plan_id}", response={200: PlanOut, 404: ErrorOut})
def get_plan(request, plan_id: int):
    plan = Plan.objects.prefetch_related("tax_rates").filter(pk=plan_id).first()
    if plan is None:
        return Status(404, {"error": "not_found", "message": f"no plan with id {plan_id}"})
    return plan_out(plan)
