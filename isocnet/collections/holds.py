"""What holds an overdue invoice: an active promise to pay or payment plan
that covers it, or an open dispute. A held invoice gets no notice, no late fee and
suspends nothing (collections.suspension, operations.dunning)."""

from __future__ import annotations

from isocnet.collections.models import Dispute, PaymentPlan, PlanStatus, Promise, PromiseStatus


def _promised():
    return Promise.invoices.through.objects.filter(promise__status=PromiseStatus.ACTIVE)


def _planned():
    return PaymentPlan.invoices.through.objects.filter(paymentplan__status=PlanStatus.ACTIVE)


def _disputed():
    return Dispute.objects.filter(resolved_at__isnull=True)


def not_held(invoices):
    """The invoices of the queryset ``invoices`` that are not held."""
    return (
        invoices.exclude(pk__in=_promised().values("invoice_id"))
        .exclude(pk__in=_planned().values("invoice_id"))
        .exclude(pk__in=_disputed().values("invoice_id"))
    )


def held_ids(invoice_ids) -> set[int]:
    """Which of ``invoice_ids`` are held."""
    ids = list(invoice_ids)
    return set(_promised().filter(invoice_id__in=ids).values_list("invoice_id", flat=True)) | set(
        _disputed().filter(invoice_id__in=ids).values_list("invoice_id", flat=True)
    )


def scoped(queryset, only: list[int] | None, field: str = "customer_id"):
    """``queryset`` limited to the customers ``only`` (None: everyone)."""
    return queryset if only is None else queryset.filter(**{f"{field}__in": list(only)})
