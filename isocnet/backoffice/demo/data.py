"""A realistic small ISP for `make demo`: its price list and ~50 customers.
The customers and their services arrive as CSV files through the importer
(isocnet.imports), idempotently (by plan code and external id)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from isocnet.backoffice.demo.people import CITIES, COMPANIES, FIRST, LAST, PLANS, STREETS
from isocnet.catalog.models import Plan
from isocnet.catalog.services import plan_create, tax_rate_for_percent
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.periods import CYCLE_MONTHS, add_months
from isocnet.customers.logins import portal_login_ensure
from isocnet.customers.models import Customer, PortalUser
from isocnet.imports.services import run_import
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.payments.models import Payment
from isocnet.payments.services import payment_record

DEMO = Actor("demo-loader")
DECLINING = {3, 17}  # demo customers whose card declines
DEMO_CHECK = "Check 1042 (demo)"  # the check one demo customer paid half an invoice with


def _ascii(name: str) -> str:
    return slugify(name.translate(_FOLD)).replace("-", "")


_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss"})


def load_catalog() -> dict[str, Plan]:
    tax = None
    plans = {}
    for code, name, description, price, cycle, setup, taxed in PLANS:
        existing = Plan.objects.filter(code=code).first()
        if existing is None:
            if taxed and tax is None:
                tax = tax_rate_for_percent(actor=DEMO, rate="8.25")
            existing = plan_create(
                actor=DEMO,
                code=code,
                name=name,
                description=description,
                price=price,
                cycle=cycle,
                setup_fee=setup,
                tax_rates=[tax] if taxed else [],
            )
        plans[code] = existing
    return plans


def _first_period_on_or_after(start: dt.date, months: int, day: dt.date) -> dt.date:
    """The first period start on or after ``day`` for a service started on
    ``start``: the previous billing system billed everything before it."""
    step = 0
    current = start
    while current < day:
        step += 1
        current = add_months(start, months * step, start.day)
    return current


CUSTOMER_HEADER = [
    "external_id",
    "name",
    "company",
    "email",
    "phone",
    "address_line1",
    "city",
    "region",
    "postal_code",
    "country",
    "payment_method",
    "card_token",
]
SERVICE_HEADER = [
    "external_id",
    "customer_external_id",
    "plan",
    "start_date",
    "next_due_date",
    "quantity",
    "description",
]
EXTRAS = [
    "static-ip",
    "hosting-basic",
    "hosting-business",
    "domain-com",
    "email-pro",
    "backup-offsite",
]


def demo_csv(plans: dict[str, Plan], count: int = 50) -> tuple[str, str]:
    """The demo ISP's customers and services as the previous billing
    system would export them (docs/import.md): two CSV texts."""
    rng = random.Random(20261124)  # same customers every time
    today = clock.today()
    customers, services = io.StringIO(), io.StringIO()
    cw = csv.writer(customers, lineterminator="\n")
    sw = csv.writer(services, lineterminator="\n")
    cw.writerow(CUSTOMER_HEADER)
    sw.writerow(SERVICE_HEADER)
    for i in range(1, count + 1):
        row, codes, start = _demo_customer(i, rng, today)
        cw.writerow(row)
        for code in codes:
            sw.writerow(_demo_service(row, code, plans[code], start, i, rng, today))
    return customers.getvalue(), services.getvalue()


def _demo_customer(i: int, rng: random.Random, today: dt.date) -> tuple[list, list[str], dt.date]:
    """One customer's CSV row, the plan codes of their services and the day
    they started (the draws are in a fixed order: the same customers on
    every load)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = rng.choice(COMPANIES)
    city, region, postal = rng.choice(CITIES)
    street = f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"
    card = rng.random() < 0.7
    # Fiber on a day of the month spread over 1..31, so month ends show.
    start = today - dt.timedelta(days=rng.randint(20, 400))
    extras = rng.sample(EXTRAS, k=rng.randint(0, 3))
    fiber = rng.choice(["fiber-100", "fiber-100", "fiber-500", "fiber-1000"])
    if card and i % 4 == 0:  # some card payers renew today: charged in today's run
        start = add_months(today, -rng.randint(1, 12), today.day)
    if i in DECLINING:  # on auto debit, due today, and the card will decline
        card, start = True, add_months(today, -1, today.day)
    token = ""
    if card:
        token = (
            "tok_chargeDeclinedInsufficientFunds"
            if i in DECLINING
            else rng.choice(["tok_visa", "tok_visa", "tok_mastercard"])
        )
    row = [
        f"demo-{i:04d}",
        f"{first} {last}",
        company,
        f"{_ascii(first)}.{_ascii(last)}.{i}@customers.example",
        f"+1 217 555 {rng.randint(1000, 9999)}",
        street,
        city,
        region,
        postal,
        "US",
        "card" if card else "check",
        token,
    ]
    return row, [fiber, *extras], start


def _demo_service(
    customer_row: list, code: str, plan: Plan, start: dt.date, i: int, rng, today: dt.date
) -> list:
    external_id, name, street = customer_row[0], customer_row[1], customer_row[5]
    if code.startswith("fiber") or code == "static-ip":
        label = street
    elif code in {"hosting-basic", "hosting-business", "domain-com"}:
        label = f"{_ascii(name.split(' ', 1)[1])}{i}.example.com"
    else:
        label = ""
    # The previous system billed every period that started before today;
    # today's run bills the periods starting within INVOICE_LEAD_DAYS, ahead
    # of their due dates, as a real month does.
    next_due = _first_period_on_or_after(start, CYCLE_MONTHS[plan.cycle], today)
    quantity = rng.randint(2, 5) if code == "email-pro" else 1
    return [
        f"{external_id}-{code}",
        external_id,
        code,
        start.isoformat(),
        next_due.isoformat(),
        quantity,
        label,
    ]


def load_customers(plans: dict[str, Plan], count: int = 50) -> int:
    """Bring the demo customers in through the importer, as a provider
    moving from its old system would. Returns how many were new."""

    customers, services = demo_csv(plans, count)
    before = Customer.objects.count()
    for text in (customers, services):
        report = run_import(actor=DEMO, kind=None, text=text, welcome=True)
        if not report.ok:
            raise RuntimeError(report.summary())
    return Customer.objects.count() - before


def record_partial_check_payment() -> str | None:
    """One check customer has paid part of an invoice (idempotent)."""

    if Payment.objects.filter(reference=DEMO_CHECK).exists():
        return None
    invoice = (
        Invoice.objects.filter(
            customer__payment_method="check",
            status="unpaid",
            customer__external_id__startswith="demo-",
        )
        .order_by("customer__account_number")
        .first()
    )
    if invoice is None:
        return None
    half = invoice.balance_minor // 2
    payment_record(
        actor=DEMO,
        amount=f"{half // 100}.{half % 100:02d}",
        method="check",
        reference=DEMO_CHECK,
        invoice_number=invoice.number,
    )
    return f"{invoice.customer.name} ({invoice.customer.account_number}) paid half of invoice #{invoice.number} by check"


def ensure_staff(username: str = "staff", password: str = "isocnet-demo") -> tuple[str, str]:  # noqa: S107
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": "staff@isocnet.example"}
    )
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return username, password


def ensure_customer_login(password: str = "isocnet-demo") -> tuple[str, str] | None:  # noqa: S107
    """A portal login for the demo's check customer: the one who paid half an
    invoice by check 1042 (the same customer however often the demo is
    loaded), else the first demo check customer with an open invoice."""

    paid_half = (
        Payment.objects.filter(reference=DEMO_CHECK).select_related("customer").order_by("pk")
    ).first()
    customer = paid_half.customer if paid_half else None
    if customer is None:
        invoice = (
            Invoice.objects.filter(
                customer__payment_method="check",
                status__in=OPEN_STATUSES,
                customer__external_id__startswith="demo-",
            )
            .order_by("customer__account_number")
            .select_related("customer")
            .first()
        )
        customer = invoice.customer if invoice else None
    if customer is None:
        return None
    with transaction.atomic():
        login, _reason = portal_login_ensure(customer)
        if login is None:
            return None
        login = PortalUser.objects.select_related("user").get(pk=login.pk)
        login.user.set_password(password)
        login.user.save()
    return login.user.username, password
