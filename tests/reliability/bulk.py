"""Many customers quickly, for the long tests: rows written straight to the
tables, shaped as the services would write them."""

import datetime as dt

from isocnet.catalog.models import Plan
from isocnet.core import clock
from isocnet.customers.models import Customer
from isocnet.subscriptions.models import Subscription


def build_customers(n: int, *, services_each: int, due: dt.date, card_behaviour=None) -> None:
    """``card_behaviour(i)``: give customer i a sandbox card with that
    behaviour ("ok", "timeout_after_charge" …) and put it on auto debit;
    None: customer i pays by check."""
    now = clock.now()
    behaviours = [card_behaviour(i) if card_behaviour else None for i in range(n)]
    plans = [
        Plan.objects.create(
            code=f"bulk-{i}",
            name=f"Plan {i}",
            currency="USD",
            price_minor=1000 * (i + 1),
            cycle="monthly",
            created_at=now,
        )
        for i in range(services_each)
    ]
    Customer.objects.bulk_create(
        [
            Customer(
                account_number=f"R{i:07d}",
                name=f"Customer {i}",
                email=f"r{i}@example.com",
                address_line1="1 Main St",
                city="Springfield",
                postal_code="62701",
                country="US",
                currency="USD",
                payment_method="card" if behaviours[i] else "check",
                created_at=now,
                updated_at=now,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    Subscription.objects.bulk_create(
        [
            Subscription(
                customer=c,
                plan=p,
                quantity=1,
                status="active",
                start_date=due,
                next_due_date=due,
                anchor_day=due.day,
                created_at=now,
                updated_at=now,
            )
            for c in Customer.objects.filter(account_number__startswith="R")
            for p in plans
        ],
        batch_size=2000,
    )
    if card_behaviour:
        from isocnet.payments.models import PaymentMethod
        from isocnet.payments.sandbox_models import SandboxCard

        customers = list(Customer.objects.filter(account_number__startswith="R").order_by("pk"))
        customers = [(i, c) for i, c in enumerate(customers) if behaviours[i]]
        SandboxCard.objects.bulk_create(
            [
                SandboxCard(
                    pm_id=f"pm_rel_{c.pk}",
                    behaviour=behaviours[i],
                    brand="Visa",
                    last4="4242",
                    exp_month=12,
                    exp_year=2030,
                    created_at=now,
                )
                for i, c in customers
            ],
            batch_size=2000,
        )
        PaymentMethod.objects.bulk_create(
            [
                PaymentMethod(
                    customer=c,
                    gateway="sandbox",
                    token=f"pm_rel_{c.pk}",
                    brand="Visa",
                    last4="4242",
                    exp_month=12,
                    exp_year=2030,
                    is_default=True,
                    created_at=now,
                )
                for _, c in customers
            ],
            batch_size=2000,
        )
