"""What the network knows a service by, and the requests sent to NASes."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from isocnet.catalog.models import Plan
from isocnet.subscriptions.models import Subscription


class SpeedProfile(models.Model):
    """A plan's speed on the network: its RADIUS group and rate."""

    plan = models.OneToOneField(Plan, on_delete=models.PROTECT, related_name="speed_profile")
    download_kbps = models.PositiveIntegerField()
    upload_kbps = models.PositiveIntegerField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.plan}: {self.download_kbps}/{self.upload_kbps} kbit/s"

    @property
    def group(self) -> str:
        return group_of(self.plan.code)


def group_of(plan_code: str) -> str:
    """The RADIUS group of a plan."""
    return f"plan-{plan_code}"[:64]


class ServiceIdentity(models.Model):
    """How the network knows one service: a PPPoE/IPoE username and
    password (a MAC address as the username for MAC-authenticated IPoE),
    a circuit id, a static IP (on the service, or on a static-IP add-on
    service of the same customer, which has no username of its own)."""

    subscription = models.OneToOneField(
        Subscription, on_delete=models.PROTECT, related_name="network"
    )
    username = models.CharField(max_length=64, null=True, blank=True, unique=True)
    password = models.CharField(
        max_length=128, blank=True, help_text="The PPPoE password (RADIUS needs it as set)"
    )
    mac = models.CharField(max_length=17, blank=True)
    circuit_id = models.CharField(max_length=64, blank=True)
    static_ip = models.GenericIPAddressField(null=True, blank=True, unique=True)
    radius_state = models.CharField(
        max_length=80, blank=True, help_text="The group RADIUS was last given (empty: none)"
    )
    radius_username = models.CharField(
        max_length=64, blank=True, help_text="The username RADIUS holds it under (empty: none)"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "service identities"
        constraints = [
            # "Alice" and "alice" are one login to a NAS and to FreeRADIUS
            models.UniqueConstraint(Lower("username"), name="network_identity_username_ci"),
        ]

    def __str__(self) -> str:
        return self.username or (self.static_ip or f"service {self.subscription_id}")


class NasRequestKind(models.TextChoices):
    DISCONNECT = "disconnect", "Disconnect-Request"
    COA = "coa", "CoA-Request"


class NasRequestStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    ACK = "ack", "Acknowledged"
    NAK = "nak", "Refused (NAK)"
    NO_ANSWER = "no_answer", "No answer"


class NasRequest(models.Model):
    """An RFC 5176 request to the NAS a live session is on, and its answer."""

    identity = models.ForeignKey(
        ServiceIdentity, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    username = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=NasRequestKind.choices)
    nas_ip = models.CharField(max_length=45)
    session_id = models.CharField(max_length=64)
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=NasRequestStatus.choices, default=NasRequestStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    answer = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "NAS request"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username}@{self.nas_ip} ({self.status})"


class DriftCheck(models.Model):
    """Each run of the drift check: when, how much drift, of which kinds."""

    checked_at = models.DateTimeField()
    drifts = models.PositiveIntegerField()
    kinds = models.JSONField(default=dict)
    repaired = models.BooleanField(default=False)
    checked_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M}: {self.drifts} drift(s)"
