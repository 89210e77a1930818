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


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed (retries used up)"


class Job(models.Model):
    """A side effect that is not an email (a RADIUS change, a NAS request,
    a webhook delivery): recorded in the transaction of the change that
    causes it, run after commit, retried with backoff until done
    (core.jobs). Jobs are level-triggered — a job reads the current state
    of its subject when it runs — so at most one waits per subject, and
    running one twice is harmless."""

    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    result = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(status="pending"),
                name="one_waiting_job_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} ({self.status})"


class Event(models.Model):
    """Something other systems may want to hear about (``invoice.issued``,
    ``payment.succeeded``, ``service.suspended`` ...), recorded in the
    transaction of the change (core.events). Its id is the webhook id every
    endpoint receives it under, on every try."""

    type = models.CharField(max_length=40)
    customer_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField()
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its deliveries to the endpoints were made"
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["type"]),
            models.Index(fields=["customer_id", "dispatched_at"]),
        ]

    def __str__(self) -> str:
        return f"evt_{self.pk} {self.type}"
