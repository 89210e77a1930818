"""What promises to pay and payment plans share: a status that moves
active → kept, broken or cancelled (each model's own transition table),
always under the customer's lock."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from isocnet.collections.holds import scoped
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, NotFound
from isocnet.core.permissions import require
from isocnet.core.states import transition
from isocnet.core.validation import clean_line
from isocnet.customers.services import customer_lock

ACTIVE = "active"


def hold_move(hold, new: str, transitions: dict, *, what: str) -> None:
    """Move a promise's or a plan's status along ``transitions``."""
    hold.status = transition(hold.status, new, transitions, what=what)
    hold.closed_at = clock.now()
    hold.save(update_fields=["status", "closed_at"])


def holds_settle(model, *, only: list[int] | None, decide: Callable) -> list:
    """Each active hold of ``model`` (of the customers ``only``), in its own
    transaction under its customer's lock, still active once locked:
    ``decide(hold)``'s answers, in order."""
    answers = []
    for hold_id, customer_id in scoped(model.objects.filter(status=ACTIVE), only).values_list(
        "pk", "customer_id"
    ):
        with transaction.atomic():
            customer_lock(customer_id)
            hold = model.objects.select_for_update().get(pk=hold_id)
            if hold.status == ACTIVE:
                answers.append(decide(hold))
    return answers


def hold_cancel(
    *,
    actor: Actor,
    model,
    hold_id: int,
    reason: str,
    move: Callable,
    cancelled: str,
    what: str,
    field: str,
    action: str,
):
    """Staff withdraw an active promise or plan (the customer called back):
    the policy resumes at once, without a notice. Audited."""
    require(actor, "promise")
    reason = clean_line(reason, "reason", max_length=300)
    customer_id = model.objects.filter(pk=hold_id).values_list("customer_id", flat=True).first()
    if customer_id is None:
        raise NotFound(f"no {what} {hold_id}", field=field)
    with transaction.atomic():
        customer_lock(customer_id)
        hold = model.objects.select_for_update().get(pk=hold_id)
        if hold.status != ACTIVE:
            raise Conflict(f"this {what} is {hold.get_status_display().lower()}", field=field)
        move(hold, cancelled)
        audit_record(
            actor=actor, action=action, obj=hold, customer_id=customer_id, after={"reason": reason}
        )
    return hold
