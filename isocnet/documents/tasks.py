from celery import shared_task

from isocnet.documents.invoices import invoice_pdfs_render


@shared_task(name="documents.render_invoices")
def render_invoices_task(invoice_ids: list[int]) -> int:
    """Render and store the PDFs of new invoices (each once: invoice_pdf
    keeps the first), so sending their emails is quick; then wake the
    email queue."""
    invoice_pdfs_render(invoice_ids=list(invoice_ids))
    from isocnet.notifications.tasks import deliver_task

    deliver_task.delay()
    return len(invoice_ids)
