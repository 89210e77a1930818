"""API tokens: created once, stored as SHA-256, checked on each request."""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction

from isocnet.api.models import ApiToken
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.validation import clean_line

TOKEN_PREFIX = "isk_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def apikey_create(*, actor: Actor, name: str, scope: str = "write") -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is not stored anywhere.
    ``scope``: ``read`` (GET only) or ``write``."""
    name = clean_line(name, "name", max_length=80)
    if scope not in {"read", "write"}:
        raise InvalidInput("must be read or write", field="scope")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            row = ApiToken.objects.create(
                name=name,
                prefix=token[:10],
                token_hash=token_digest(token),
                scope=scope,
                created_at=clock.now(),
            )
            audit_record(
                actor=actor,
                action="apikey.create",
                obj=row,
                after={"name": name, "prefix": row.prefix, "scope": scope},
            )
    except IntegrityError:
        raise Conflict(f"an API key named {name!r} already exists", field="name") from None
    return row, token


def apikey_revoke(*, actor: Actor, name: str) -> ApiToken:
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().get(name=name)
        row.revoked_at = clock.now()
        row.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="apikey.revoke", obj=row, after={"name": name})
    return row


def apikey_authenticate(token: str) -> ApiToken | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = ApiToken.objects.filter(token_hash=token_digest(token), revoked_at__isnull=True).first()
    if row is None:
        return None
    now = clock.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
