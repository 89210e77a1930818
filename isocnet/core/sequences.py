"""Gapless counters.

``sequence_take`` increments the counter row with a single UPDATE first and
reads it back afterwards. The UPDATE takes the row lock (PostgreSQL) or the
database write lock (SQLite, whose transactions we open IMMEDIATE), so two
issuers can never read the same value, and because the increment belongs to
the caller's transaction, a rollback returns the numbers: no gaps, no
duplicates. Callers hold the lock until they commit, so keep the work after
taking a number short (or take a batch of numbers at once).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from isocnet.core import simulation
from isocnet.core.models import Sequence


def sequence_take(name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive values of series ``name``; returns them."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_take must run inside the transaction that uses the numbers")
    if simulation.active():
        return simulation.placeholders(count)  # a preview, rolled back: no counter touched
    updated = Sequence.objects.filter(name=name).update(last_value=F("last_value") + count)
    if not updated:
        try:
            with transaction.atomic():
                Sequence.objects.create(name=name, last_value=0)
        except IntegrityError:
            pass  # created concurrently by another issuer; fine
        Sequence.objects.filter(name=name).update(last_value=F("last_value") + count)
    last = Sequence.objects.values_list("last_value", flat=True).get(name=name)
    return range(last - count + 1, last + 1)
