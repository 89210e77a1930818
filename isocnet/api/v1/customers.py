import datetime as dt

from django.db.models import Q
from ninja import Query, Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.pagination import PageParams, page
from isocnet.api.v1.schemas import AddressIn, AddressOut, AddressPatch, ErrorOut, Strict, StrictBool
from isocnet.core.errors import NotFound
from isocnet.customers.models import Customer
from isocnet.customers.services import customer_create, customer_update
from isocnet.payments.selectors import account_summary

router = Router(tags=["customers"])


class CustomerIn(Strict):
    name: str
    email: str
    company: str = ""
    phone: str = ""
    address: AddressIn
    payment_method: str
    currency: str | None = None
    tax_exempt: StrictBool = False
    notes: str = ""
    cc_emails: list[str] | None = None
    external_id: str | None = None


class CustomerPatch(Strict):
    name: str | None = None
    email: str | None = None
    company: str | None = None
    phone: str | None = None
    address: AddressPatch | None = None
    payment_method: str | None = None
    currency: str | None = None
    tax_exempt: StrictBool | None = None
    notes: str | None = None
    cc_emails: list[str] | None = None
    status: str | None = None


class CustomerOut(Schema):
    id: int
    account_number: str
    external_id: str | None
    name: str
    company: str
    email: str
    cc_emails: list[str]
    phone: str
    address: AddressOut
    payment_method: str
    currency: str
    tax_exempt: bool
    status: str
    notes: str
    created_at: dt.datetime
    balance: str | None = None
    credit: str | None = None
    open_invoices: str | None = None


def customer_out(customer: Customer, *, with_balance: bool = True) -> dict:
    out = {
        "id": customer.pk,
        "account_number": customer.account_number,
        "external_id": customer.external_id,
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "cc_emails": customer.cc_emails,
        "phone": customer.phone,
        "address": customer.address(),
        "payment_method": customer.payment_method,
        "currency": customer.currency,
        "tax_exempt": customer.tax_exempt,
        "status": customer.status,
        "notes": customer.notes,
        "created_at": customer.created_at,
    }
    if with_balance:
        summary = account_summary(customer)
        out.update(
            balance=summary.balance.as_string(),
            credit=summary.credit.as_string(),
            open_invoices=summary.open_invoices.as_string(),
        )
    return out


def _get(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}", field="id")
    return customer


@router.post("/customers", response={201: CustomerOut, 409: ErrorOut, 422: ErrorOut})
def create_customer(request, payload: CustomerIn):
    data = payload.dict()
    address = {k: v for k, v in data.pop("address").items() if v is not None}
    customer = customer_create(actor=actor_of(request), address=address, **data)
    return Status(201, customer_out(customer))


class CustomerFilter(Schema):
    q: str | None = None
    status: str | None = None
    payment_method: str | None = None


class CustomerOutPage(Schema):
    items: list[CustomerOut]
    count: int


@router.get("/customers", response=CustomerOutPage)
def list_customers(request, filters: Query[CustomerFilter], paging: Query[PageParams]):
    """Search by name, company, email or account number (``q``); filter by
    ``status`` and ``payment_method``. Balances are in the single-customer
    view."""
    qs = Customer.objects.order_by("account_number")
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(company__icontains=q)
            | Q(email__icontains=q)
            | Q(account_number__iexact=q)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.payment_method:
        qs = qs.filter(payment_method=filters.payment_method)
    return page(qs, paging, lambda c: customer_out(c, with_balance=False))


@router.get("/customers/{customer_id}", response={200: CustomerOut, 404: ErrorOut})
def get_customer(request, customer_id: int):
    return customer_out(_get(customer_id))


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def patch_customer(request, customer_id: int, payload: CustomerPatch):
    changes = payload.dict(exclude_unset=True)
    if "address" in changes and changes["address"] is not None:
        changes["address"] = {k: v for k, v in changes["address"].items() if v is not None}
    customer = customer_update(
        actor=actor_of(request), customer_id=_get(customer_id).pk, changes=changes
    )
    return customer_out(customer)
