from __future__ import annotations

from typing import Any

from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.models import AuditEvent


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    customer_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Write an audit row. Must run inside the transaction of the change it
    describes, so the change and its record commit (or vanish) together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the service's transaction")
    event = audit_event(
        actor=actor, action=action, obj=obj, customer_id=customer_id, before=before, after=after
    )
    event.save(force_insert=True)
    return event


def audit_changes(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    customer_id: int | None,
    before: dict,
    after: dict,
    extra: dict | None = None,
) -> AuditEvent:
    """An audit row naming only what changed between two snapshots (the same
    keys), before → after; ``extra`` joins the after side."""
    changed = [key for key in after if before.get(key) != after[key]]
    return audit_record(
        actor=actor,
        action=action,
        obj=obj,
        customer_id=customer_id,
        before={key: before.get(key) for key in changed},
        after={**{key: after[key] for key in changed}, **(extra or {})},
    )


def audit_event(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    customer_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """The audit row, unsaved: for services that write many at once
    (``AuditEvent.objects.bulk_create``, in the same transaction)."""
    return AuditEvent(
        created_at=clock.now(),
        actor=actor.label,
        action=action,
        # a model's own name, also through a lazy wrapper such as request.user
        object_type=obj._meta.object_name if hasattr(obj, "_meta") else type(obj).__name__,
        object_id=str(obj.pk),
        customer_id=customer_id,
        before=before,
        after=after,
    )


AUDIT_FIELDS = (
    "created_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "customer_id",
    "before",
    "after",
)


def audit_rows_write(*, actor: Actor, action: str, object_type: str, rows) -> int:
    """Many audit rows of one action at once, without model instances (the
    batch paths): ``rows`` are (object id, customer id, before, after).
    In the caller's transaction, like audit_record."""
    from isocnet.core.bulk import rows_write

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_rows_write must be called inside the service's transaction")
    now, label = clock.now(), actor.label
    return rows_write(
        AuditEvent,
        AUDIT_FIELDS,
        (
            (now, label, action, object_type, str(object_id), customer_id, before, after)
            for object_id, customer_id, before, after in rows
        ),
    )
