"""ORM guard: an issued invoice, its lines and tax lines cannot be deleted.
(The database triggers of migration 0002 refuse edits; this refuses ORM
deletes on SQLite too, where a DELETE trigger would also block Django's
test-database flush.)"""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from isocnet.core.errors import InvoiceImmutable
from isocnet.invoicing.models import Invoice, InvoiceLine, InvoiceTaxLine


@receiver(pre_delete, sender=Invoice)
def _refuse_invoice_delete(sender, instance: Invoice, **kwargs):
    if instance.status != "draft":
        raise InvoiceImmutable(f"invoice #{instance.number} is issued and cannot be deleted")


@receiver(pre_delete, sender=InvoiceLine)
@receiver(pre_delete, sender=InvoiceTaxLine)
def _refuse_line_delete(sender, instance, **kwargs):
    status = Invoice.objects.filter(pk=instance.invoice_id).values_list("status", flat=True).first()
    if status not in (None, "draft"):
        raise InvoiceImmutable("lines of an issued invoice cannot be deleted")
