from django.db import models


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the token
    itself is shown once, when created."""

    name = models.CharField(max_length=80, unique=True)
    prefix = models.CharField(
        max_length=12, help_text="First characters, to recognise a token in logs"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(
        max_length=8,
        choices=[("read", "Read only"), ("write", "Read and write")],
        default="write",
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``
    header; a retry with the same key (and the same request) gets it back
    instead of doing the work again. Keys are per API key."""

    token_hash = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token_hash", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
