from celery import shared_task

from isocnet.documents.invoices import invoice_pdf
from isocnet.invoicing.models import Invoice


@shared_task(name="documents.render_invoices")
def render_invoices_task(invoice_ids: list[int]) -> int:
    """Render and store the PDFs of new invoices (each once: invoice_pdf
    keeps the first), so sending their emails is quick; then wake the
    email queue."""
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).select_related("customer"):
        invoice_pdf(invoice)
    from isocnet.notifications.tasks import deliver_task

    deliver_task.delay()
    return len(invoice_ids)
