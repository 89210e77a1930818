"""What to watch (docs/operations.md): queue depth, outbox age, failed
messages, card charges in doubt, the last billing run. As Prometheus
metrics at /metrics (with an API key) and on the staff health page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Min

from isocnet.celery_app import app
from isocnet.core import clock
from isocnet.invoicing.models import BillingRun
from isocnet.outbox.models import MessageStatus, OutboxMessage
from isocnet.payments.calls import IN_FLIGHT
from isocnet.payments.models import GatewayCall

QUEUES = ("billing", "documents", "email", "collection", "celery")


@dataclass
class Health:
    outbox_pending: int
    outbox_oldest_seconds: int
    outbox_failed: int
    charges_in_doubt: int
    last_run: object | None
    queue_depth: dict[str, int]

    @property
    def problems(self) -> list[str]:
        out = []
        if self.outbox_oldest_seconds > 15 * 60:
            out.append(
                f"the oldest unsent email has waited {self.outbox_oldest_seconds // 60} minutes"
            )
        if self.outbox_failed:
            out.append(f"{self.outbox_failed} email(s) failed for good (see Outbox messages)")
        if self.charges_in_doubt:
            out.append(f"{self.charges_in_doubt} card charge(s) in doubt: run isocnet reconcile")
        if self.last_run is not None and self.last_run.status != "completed":
            out.append(f"the last billing run ({self.last_run.date}) is {self.last_run.status}")
        if self.last_run is not None and (clock.today() - self.last_run.date).days > 1:
            out.append(f"no billing run since {self.last_run.date}")
        return out


def queue_depths() -> dict[str, int]:
    """Messages waiting per queue (-1: not known; no broker: none)."""
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if not url:
        return {}
    depths = dict.fromkeys(QUEUES, -1)
    try:
        if url.startswith("redis"):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2)
            for queue in QUEUES:
                depths[queue] = int(client.llen(queue))
        else:
            with app.connection_for_read() as conn:
                channel = conn.default_channel
                for queue in QUEUES:
                    try:
                        depths[queue] = channel.queue_declare(queue, passive=True).message_count
                    except Exception:
                        channel = conn.channel()
    except Exception as exc:  # the broker is down: say so with -1
        import logging

        logging.getLogger(__name__).warning("queue depth unknown: %s", exc)
    return depths


def health() -> Health:

    pending = OutboxMessage.objects.filter(status=MessageStatus.PENDING)
    oldest = pending.aggregate(m=Min("created_at"))["m"]
    return Health(
        outbox_pending=pending.count(),
        outbox_oldest_seconds=int((clock.now() - oldest).total_seconds()) if oldest else 0,
        outbox_failed=OutboxMessage.objects.filter(status=MessageStatus.FAILED).count(),
        charges_in_doubt=GatewayCall.objects.filter(status__in=IN_FLIGHT).count(),
        last_run=BillingRun.objects.order_by("-started_at", "-id").first(),
        queue_depth=queue_depths(),
    )


def prometheus_text(h: Health) -> bytes:
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()

    def gauge(name, doc, value, labels=None):
        g = Gauge(name, doc, list(labels or {}), registry=registry)
        (g.labels(**labels) if labels else g).set(value)
        return g

    gauge("isocnet_outbox_pending", "Customer emails waiting to be sent", h.outbox_pending)
    gauge(
        "isocnet_outbox_oldest_pending_seconds",
        "Age of the oldest unsent email",
        h.outbox_oldest_seconds,
    )
    gauge("isocnet_outbox_failed", "Emails that failed for good", h.outbox_failed)
    gauge(
        "isocnet_gateway_charges_in_doubt",
        "Card charges pending or unknown (to reconcile)",
        h.charges_in_doubt,
    )
    depth = Gauge("isocnet_queue_depth", "Tasks waiting per queue", ["queue"], registry=registry)
    for queue, n in h.queue_depth.items():
        depth.labels(queue=queue).set(n)
    if h.last_run is not None:
        run = h.last_run
        gauge(
            "isocnet_last_billing_run_timestamp_seconds",
            "When the last billing run started",
            run.started_at.timestamp(),
        )
        gauge(
            "isocnet_last_billing_run_ok",
            "1 when the last billing run completed",
            1 if run.status == "completed" else 0,
        )
        gauge("isocnet_last_billing_run_invoices", "Invoices of the last run", run.invoices_created)
        gauge("isocnet_last_billing_run_errors", "Errors of the last run", run.errors)
    return generate_latest(registry)
