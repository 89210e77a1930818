"""ISOCNET Billing."""

# Celery's tasks (shared_task) attach to this app when workers are in use.
from isocnet.celery_app import app as celery_app

__all__ = ["celery_app"]
