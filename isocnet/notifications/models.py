"""The notifications app's models are the outbox's (isocnet.outbox.models),
registered here under this app's label."""

from isocnet.outbox.models import (  # noqa: F401 - registers the model with this app
    ACCOUNT_KINDS,
    MessageKind,
    MessageStatus,
    OutboxMessage,
)
