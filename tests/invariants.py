"""The money invariants, checked from the database as an auditor would."""

from django.db.models import Sum

from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.ledger.models import Allocation, CreditEntry, CreditKind
from isocnet.payments.models import Payment, PaymentStatus
from isocnet.payments.selectors import account_summary


def _sum(qs, field="amount_minor"):
    return qs.aggregate(s=Sum(field))["s"] or 0


def check_invariants(customer) -> None:
    for inv in Invoice.objects.filter(customer=customer).exclude(status__in=["draft", "void"]):
        lines = _sum(inv.lines.all())
        taxes = _sum(inv.tax_lines.all(), "tax_minor")
        assert inv.total_minor == lines + taxes, f"{inv}: total != lines + tax"
        paid = _sum(Allocation.objects.filter(invoice=inv, payment__status=PaymentStatus.SUCCEEDED))
        credit = -_sum(
            CreditEntry.objects.filter(
                invoice=inv, kind__in=[CreditKind.APPLIED, CreditKind.UNAPPLIED]
            )
        )
        noted = _sum(inv.credit_notes.all(), "applied_minor")
        assert inv.amount_paid_minor == paid
        assert inv.credit_applied_minor == credit
        assert inv.credited_minor == noted
        assert inv.balance_minor == inv.total_minor - paid - credit - noted
        assert inv.balance_minor >= 0
        expected = (
            "paid"
            if inv.balance_minor == 0
            else ("partially_paid" if paid or credit or noted else "unpaid")
        )
        assert inv.status == expected, f"{inv}: {inv.status} != {expected}"
    for payment in Payment.objects.filter(customer=customer):
        allocated = _sum(payment.allocations.all())
        credited = _sum(payment.credit_entries.filter(kind=CreditKind.OVERPAYMENT))
        moved = _sum(
            payment.credit_entries.filter(kind__in=[CreditKind.REFUND, CreditKind.REFUND_TO_CREDIT])
        )
        to_card = _sum(payment.refunds.filter(destination="card", status="succeeded"))
        assert allocated <= payment.amount_minor
        # every cent of a payment is applied, in credit, or back on the card
        assert allocated + credited + moved + to_card == payment.amount_minor, (
            f"payment {payment.pk} not fully accounted for"
        )
        if (
            payment.status == PaymentStatus.VOIDED
        ):  # returned: the credit it made is taken back in full
            from isocnet.payments.returns import shortfall_minor

            reversed_ = -_sum(payment.credit_entries.filter(kind=CreditKind.REVERSAL))
            backed = _sum(
                payment.credit_entries.filter(
                    kind__in=[
                        CreditKind.OVERPAYMENT,
                        CreditKind.REFUND_TO_CREDIT,
                        CreditKind.REFUND,
                    ]
                )
            )
            assert reversed_ + shortfall_minor(payment) == max(backed, 0)
    available = _sum(CreditEntry.objects.filter(customer=customer))
    assert available >= 0
    open_balances = _sum(
        Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES), "balance_minor"
    )
    summary = account_summary(customer)
    assert summary.credit.minor() == available
    assert summary.balance.minor() == open_balances - available
