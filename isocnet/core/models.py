from django.db import models


class AuditEvent(models.Model):
    """Append-only record of every change of money or account state."""

    created_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}#{self.object_id}"


class Sequence(models.Model):
    """A counter row per named series (invoice numbers per year, account
    numbers, ...). Advanced only by :func:`isocnet.core.sequences.sequence_take`
    inside the caller's transaction, so a rollback gives the numbers back and
    the series stays gapless."""

    name = models.CharField(max_length=80, unique=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"
