from celery import shared_task

from isocnet.core.actors import Actor
from isocnet.payments.collection import collect_invoices


@shared_task(name="collection.collect")
def collect_task(invoice_ids: list[int], actor: str) -> dict:
    """Charge these auto-debit invoices (each through the three-step,
    idempotent charge of payments.collection)."""
    return collect_invoices(actor=Actor(actor), invoice_ids=invoice_ids)
