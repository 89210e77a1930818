from django.db import models


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the token
    itself is shown once, when created."""

    name = models.CharField(max_length=80, unique=True)
    prefix = models.CharField(
        max_length=12, help_text="First characters, to recognise a token in logs"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
