"""Money received, as collections sees it: called by payments in the
payment's own transaction, under the customer's lock."""

from __future__ import annotations

from isocnet.collections.models import PaymentPlan, PlanStatus, Promise, PromiseStatus
from isocnet.collections.plans import plan_payments_received
from isocnet.collections.promises import promise_payments_received
from isocnet.core.actors import Actor


def holds_of(customer_ids) -> set[int]:
    """Which of these customers have a promise or a plan that a payment
    counts towards (one look-up for a batch of payments)."""
    ids = list(customer_ids)
    return set(
        Promise.objects.filter(customer_id__in=ids, status=PromiseStatus.ACTIVE).values_list(
            "customer_id", flat=True
        )
    ) | set(
        PaymentPlan.objects.filter(customer_id__in=ids, status=PlanStatus.ACTIVE).values_list(
            "customer_id", flat=True
        )
    )


def payment_received(
    *, actor: Actor, customer_id: int, amount_minor: int, applied: list[tuple[int, int]]
) -> None:
    """A payment of ``amount_minor`` was applied (``applied``: invoice id,
    minor units): it counts towards the account's promise to pay, and what
    it paid on a plan's invoices towards the plan."""
    promise_payments_received(actor=actor, customer_id=customer_id, amount_minor=amount_minor)
    plan_payments_received(actor=actor, customer_id=customer_id, applied=applied)
