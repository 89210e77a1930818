"""Staff register webhook endpoints (the secret is shown once, kept
encrypted), disable and enable them, and replay a delivery."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction

from isocnet.core import clock, outbound
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.events import DISPATCH_JOB, TYPES
from isocnet.core.jobs import job_queue
from isocnet.core.permissions import require
from isocnet.core.validation import clean_line
from isocnet.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def _fernet() -> Fernet:
    key = hashlib.sha256(f"isocnet-webhooks:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    return _fernet().decrypt(endpoint.secret_encrypted.encode()).decode()


def endpoint_input_clean(*, url, events, description="") -> tuple[str, list[str], str]:
    """The one check of an endpoint's values (API, admin form): an address
    the outbound client may reach (core.outbound), known event types."""
    return (
        outbound.url_check(url, "url"),
        _clean_events(list(events) if isinstance(events, list | tuple) else events),
        clean_line(description or "", "description", max_length=200, required=False),
    )


def _clean_events(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise InvalidInput(f'a list of event types ({", ".join(TYPES)}) or ["*"]', field="events")
    for name in events:
        if name != "*" and name not in TYPES:
            raise InvalidInput(f"{name!r} is not an event type", field="events")
    return sorted(set(events))


def endpoint_create(
    *, actor: Actor, url: str, events, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint. Returns it and its signing secret, shown this
    once (stored encrypted with the SECRET_KEY)."""
    require(actor, "webhooks.manage")
    url, events, description = endpoint_input_clean(url=url, events=events, description=description)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            description=description,
            events=events,
            secret_encrypted=_fernet().encrypt(secret.encode()).decode(),
            secret_hint=secret[:10] + "…",
            created_at=clock.now(),
            created_by=actor.label,
        )
        audit_record(
            actor=actor,
            action="webhooks.endpoint_create",
            obj=endpoint,
            after={"url": url, "events": events},
        )
    return endpoint, secret


def endpoint_set_active(
    *, actor: Actor, endpoint_id: int, active: bool, reason: str = ""
) -> WebhookEndpoint:
    require(actor, "webhooks.manage")
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            raise NotFound(f"no webhook endpoint with id {endpoint_id}", field="endpoint")
        endpoint_switch(endpoint, active=active, reason=reason or "by staff", actor=actor)
    return endpoint


def endpoint_switch(endpoint: WebhookEndpoint, *, active: bool, reason: str, actor: Actor) -> None:
    """Enable or disable (the caller holds the row): disabling cancels what
    waits for it; enabling starts afresh (staff replay what they want)."""
    if endpoint.active == active:
        return
    now = clock.now()
    endpoint.active = active
    endpoint.failing_since = None
    endpoint.disabled_at = None if active else now
    endpoint.disabled_reason = "" if active else reason[:300]
    endpoint.save(update_fields=["active", "failing_since", "disabled_at", "disabled_reason"])
    if not active:
        endpoint.deliveries.filter(status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED
        )
    audit_record(
        actor=actor,
        action="webhooks.endpoint_enabled" if active else "webhooks.endpoint_disabled",
        obj=endpoint,
        after={"url": endpoint.url, "reason": reason},
    )


def delivery_replay(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now, with the same webhook-id."""
    require(actor, "webhooks.manage")
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound(f"no webhook delivery with id {delivery_id}", field="delivery")
        if not delivery.endpoint.active:
            raise Conflict("the endpoint is disabled: enable it first", field="endpoint")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = clock.now()
        delivery.save(update_fields=["status", "next_attempt_at"])
        audit_record(
            actor=actor,
            action="webhooks.replay",
            obj=delivery,
            customer_id=delivery.customer_id,
            after={"webhook_id": delivery.webhook_id, "endpoint": delivery.endpoint.url},
        )
        job_queue(DISPATCH_JOB, delivery.customer_id or 0)
    return delivery
