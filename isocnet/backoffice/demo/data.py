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

# code, name, description, price, cycle, setup fee, taxed (internet access is
# not taxed: US Internet Tax Freedom Act; hosting, IPs and domains are)
PLANS = [
    (
        "fiber-100",
        "Fiber 100 Mbps",
        "Symmetric fiber internet, 100 Mbps",
        "49.95",
        "monthly",
        "0.00",
        False,
    ),
    (
        "fiber-500",
        "Fiber 500 Mbps",
        "Symmetric fiber internet, 500 Mbps",
        "69.95",
        "monthly",
        "0.00",
        False,
    ),
    (
        "fiber-1000",
        "Fiber 1 Gbps",
        "Symmetric fiber internet, 1 Gbps",
        "89.95",
        "monthly",
        "99.00",
        False,
    ),
    (
        "static-ip",
        "Static IP address",
        "One static public IPv4 address",
        "10.00",
        "monthly",
        "0.00",
        True,
    ),
    (
        "hosting-basic",
        "Web Hosting Basic",
        "10 GB web hosting, 5 mailboxes, free TLS",
        "119.40",
        "annual",
        "0.00",
        True,
    ),
    (
        "hosting-business",
        "Web Hosting Business",
        "50 GB web hosting, 50 mailboxes, daily backups",
        "239.40",
        "annual",
        "0.00",
        True,
    ),
    (
        "domain-com",
        "Domain renewal (.com)",
        "Annual .com domain registration",
        "18.99",
        "annual",
        "0.00",
        True,
    ),
    (
        "email-pro",
        "Business Email",
        "Hosted business email, per mailbox",
        "15.00",
        "quarterly",
        "0.00",
        True,
    ),
    (
        "backup-offsite",
        "Offsite Backup 100 GB",
        "Encrypted offsite backup",
        "59.94",
        "semiannual",
        "0.00",
        True,
    ),
    (
        "install",
        "Professional installation",
        "On-site installation by a technician",
        "99.00",
        "one_time",
        "0.00",
        True,
    ),
]

FIRST = [
    "Alice",
    "Bob",
    "Carmen",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ingrid",
    "José",
    "Kwame",
    "Łukasz",
    "Maya",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
]
LAST = [
    "Example",
    "Anderson",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hoang",
    "Ivanova",
    "Jackson",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Nakamura",
    "O'Connor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Vargas",
    "Weber",
    "Young",
    "Zieliński",
]
COMPANIES = [
    "",
    "",
    "",
    "Acme Bakery LLC",
    "Riverside Dental",
    "Blue Fern Studio",
    "Northgate Realty",
    "Summit Auto Repair",
    "Lakeside Books",
    "Harbor Yoga",
]
STREETS = [
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Washington Blvd",
    "Lincoln Rd",
    "Park Pl",
]
CITIES = [
    ("Springfield", "IL", "62701"),
    ("Decatur", "IL", "62521"),
    ("Champaign", "IL", "61820"),
    ("Peoria", "IL", "61602"),
    ("Bloomington", "IL", "61701"),
]


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


def demo_csv(plans: dict[str, Plan], count: int = 50) -> tuple[str, str]:
    """The demo ISP's customers and services as the previous billing
    system would export them (docs/import.md): two CSV texts."""
    rng = random.Random(20261124)  # same customers every time
    today = clock.today()
    customers = io.StringIO()
    services = io.StringIO()
    cw = csv.writer(customers, lineterminator="\n")
    sw = csv.writer(services, lineterminator="\n")
    cw.writerow(
        [
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
    )
    sw.writerow(
        [
            "external_id",
            "customer_external_id",
            "plan",
            "start_date",
            "next_due_date",
            "quantity",
            "description",
        ]
    )
    for i in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(COMPANIES)
        city, region, postal = rng.choice(CITIES)
        street = f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"
        card = rng.random() < 0.7
        # Fiber on a day of the month spread over 1..31, so month ends show.
        start = today - dt.timedelta(days=rng.randint(20, 400))
        extras = rng.sample(
            [
                "static-ip",
                "hosting-basic",
                "hosting-business",
                "domain-com",
                "email-pro",
                "backup-offsite",
            ],
            k=rng.randint(0, 3),
        )
        fiber = rng.choice(["fiber-100", "fiber-100", "fiber-500", "fiber-1000"])
        if card and i % 4 == 0:  # some card payers renew today: charged in today's run
            start = add_months(today, -rng.randint(1, 12), today.day)
        if i in DECLINING:  # on auto debit, due today, and the card will decline
            card, start = True, add_months(today, -1, today.day)
        external_id = f"demo-{i:04d}"
        token = ""
        if card:
            token = (
                "tok_chargeDeclinedInsufficientFunds"
                if i in DECLINING
                else rng.choice(["tok_visa", "tok_visa", "tok_mastercard"])
            )
        cw.writerow(
            [
                external_id,
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
        )
        for code in [fiber, *extras]:
            plan = plans[code]
            months = CYCLE_MONTHS[plan.cycle]
            slug = _ascii(last)
            if code.startswith("fiber") or code == "static-ip":
                label = street
            elif code in {"hosting-basic", "hosting-business", "domain-com"}:
                label = f"{slug}{i}.example.com"
            else:
                label = ""
            # The previous system billed every period that started before
            # today; today's run bills the periods starting within
            # INVOICE_LEAD_DAYS, ahead of their due dates, as a real month does.
            next_due = _first_period_on_or_after(start, months, today)
            quantity = rng.randint(2, 5) if code == "email-pro" else 1
            sw.writerow(
                [
                    f"{external_id}-{code}",
                    external_id,
                    code,
                    start.isoformat(),
                    next_due.isoformat(),
                    quantity,
                    label,
                ]
            )
    return customers.getvalue(), services.getvalue()


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
