import datetime as dt

from ninja import Query, Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.pagination import PageParams, page
from isocnet.api.v1.schemas import ErrorOut, QueryId, Strict, StrictBool, StrictInt
from isocnet.core.errors import NotFound
from isocnet.invoicing.proration import subscription_change
from isocnet.subscriptions.models import Subscription
from isocnet.subscriptions.services import subscription_create

router = Router(tags=["subscriptions"])


class SubscriptionIn(Strict):
    customer: StrictInt
    plan: StrictInt
    start_date: str
    quantity: StrictInt = 1
    price: str | None = None
    description: str = ""


class SubscriptionPatch(Strict):
    plan: StrictInt | None = None
    quantity: StrictInt | None = None
    price: str | None = None
    description: str | None = None
    status: str | None = None
    immediate: StrictBool | None = None


class SubscriptionOut(Schema):
    id: int
    customer: int
    plan: int
    plan_name: str
    cycle: str
    quantity: int
    price: str
    description: str
    start_date: dt.date
    next_due_date: dt.date | None
    anchor_day: int
    status: str
    cancel_at_period_end: bool
    cancellation_date: dt.date | None


def subscription_out(sub: Subscription) -> dict:
    return {
        "id": sub.pk,
        "customer": sub.customer_id,
        "plan": sub.plan_id,
        "plan_name": sub.plan.name,
        "cycle": sub.plan.cycle,
        "quantity": sub.quantity,
        "price": sub.unit_price.as_string(),
        "description": sub.description,
        "start_date": sub.start_date,
        "next_due_date": sub.next_due_date,
        "anchor_day": sub.anchor_day,
        "status": sub.status,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "cancellation_date": sub.cancellation_date,
    }


def _get(subscription_id: int) -> Subscription:
    sub = Subscription.objects.select_related("plan", "customer").filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound(f"no service with id {subscription_id}", field="id")
    return sub


@router.post(
    "/subscriptions", response={201: SubscriptionOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def create_subscription(request, payload: SubscriptionIn):
    sub = subscription_create(
        actor=actor_of(request),
        customer_id=payload.customer,
        plan_id=payload.plan,
        start_date=payload.start_date,
        quantity=payload.quantity,
        price=payload.price,
        description=payload.description,
    )
    return Status(201, subscription_out(_get(sub.pk)))


class SubscriptionFilter(Schema):
    customer: QueryId | None = None
    status: str | None = None


class SubscriptionOutPage(Schema):
    items: list[SubscriptionOut]
    count: int


@router.get("/subscriptions", response=SubscriptionOutPage)
def list_subscriptions(request, filters: Query[SubscriptionFilter], paging: Query[PageParams]):
    qs = Subscription.objects.select_related("plan", "customer").order_by("id")
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, paging, subscription_out)


@router.get("/subscriptions/{subscription_id}", response={200: SubscriptionOut, 404: ErrorOut})
def get_subscription(request, subscription_id: int):
    return subscription_out(_get(subscription_id))


@router.patch(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def patch_subscription(request, subscription_id: int, payload: SubscriptionPatch):
    changes = payload.dict(exclude_unset=True)
    if changes.get("immediate") is None:
        changes.pop("immediate", None)
    sub = subscription_change(
        actor=actor_of(request), subscription_id=_get(subscription_id).pk, changes=changes
    )
    return subscription_out(_get(sub.pk))
