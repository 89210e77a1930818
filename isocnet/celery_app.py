"""Celery, for scaling out (docs/operations.md). Configured by
CELERY_BROKER_URL; without it nothing here is used and everything runs in
the web or CLI process, as on one machine.

Queues: billing (chunks of customers), documents (PDFs), email (the
outbox), collection (auto-debit charges). `isocnet worker` runs a worker,
`isocnet beat` the schedule (the daily run, outbox sweeps)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocnet.settings")

app = Celery("isocnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["isocnet.operations", "isocnet.notifications"])


def workers_enabled() -> bool:
    from django.conf import settings

    return bool(settings.CELERY_BROKER_URL)
