"""Webhook endpoints, their deliveries (one per endpoint and event) and
every attempt."""

from __future__ import annotations

from django.db import models

from isocnet.core.models import Event


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text='Event types, or ["*"] for all')
    secret_encrypted = models.TextField(help_text="whsec_… encrypted with the SECRET_KEY")
    secret_hint = models.CharField(max_length=16)
    active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (tries used up)"
    CANCELLED = "cancelled", "Not sent (endpoint disabled)"


class WebhookDelivery(models.Model):
    """An event for an endpoint. Sent with ``webhook-id: evt_<event id>``
    on every try and every replay."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    customer_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["customer_id", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_once_per_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} → {self.endpoint}"

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.event_id}"


class WebhookAttempt(models.Model):
    """One try: the answer's status code (or the error), how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
