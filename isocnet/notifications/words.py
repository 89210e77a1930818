"""What each notice says: the subjects, the sentences of the dunning and
payment notices, and line 5 of the invoice notice."""

from __future__ import annotations

import datetime as dt

from isocnet.core import formatting
from isocnet.core.money import Money
from isocnet.invoicing.models import Invoice
from isocnet.outbox.models import MessageKind
from isocnet.payments.selectors import SCHEDULED, AutoDebitState

SUBJECTS = {
    MessageKind.INVOICE: "Customer Invoice",
    MessageKind.REMINDER: "Payment Reminder: Invoice #{number} is due on {due_date}",
    MessageKind.OVERDUE_1: "Overdue Notice: Invoice #{number}",
    MessageKind.OVERDUE_2: "Second Overdue Notice: Invoice #{number}",
    MessageKind.OVERDUE_3: "Final Notice: Services will be suspended on {suspension_date}",
    MessageKind.SUSPENSION: "Services Suspended: Invoice #{number}",
    MessageKind.RECEIPT: "Invoice Payment Confirmation",
    MessageKind.PAYMENT_FAILED: "Payment Failed: Invoice #{number}",
    MessageKind.CARD_NEEDED: "Action Needed: Add a Card for Automatic Payment of Invoice #{number}",
    MessageKind.CREDIT_NOTE: "Credit Note for Invoice #{number}",
    MessageKind.PAYMENT_RETURNED: "Returned Payment: Invoice #{number}",
    MessageKind.REFUND: "Refund Issued",
    MessageKind.PROMISE_MADE: "Your Promise to Pay: {promise_amount} by {promise_date}",
    MessageKind.PROMISE_BROKEN: "Missed Promise to Pay: Invoice #{number}",
    MessageKind.PLAN_MADE: "Your Payment Plan: {plan_total} in {plan_count} Payments",
    MessageKind.PLAN_BROKEN: "Missed Payment Plan Installment: Invoice #{number}",
}


def autopay_line(invoice: Invoice, due: Money, state: AutoDebitState | None) -> str:
    """Line 5 for an auto-debit customer, true at the moment it is written."""
    if not due.minor():
        return (
            "This invoice was paid in full from your account credit, so nothing will be taken "
            "from your credit card."
        )
    state = state or SCHEDULED
    card = f" ({state.card})" if state.card else ""
    amount = formatting.money(state.amount or due)
    if state.state == "taken":
        return (
            f"Your payment of {amount} was taken automatically from your credit card{card} on "
            f"{formatting.date(state.on)}; the receipt follows in a separate email."
        )
    if state.state == "in_flight":
        return (
            f"Your payment of {amount} is being taken automatically from your credit card{card} "
            f"today, {formatting.date(state.on)}; the receipt follows in a separate email."
        )
    if state.state == "no_card":
        return (
            f"Automatic payment is on, but there is no card on file to charge, so nothing will be "
            f"taken automatically: please pay {formatting.money(due)} by "
            f"{formatting.date(invoice.due_date)} online or by check, and add a card in the client "
            "portal so that future invoices are paid automatically."
        )
    if state.state == "declined":
        return (
            f"We tried to take your payment of {amount} automatically from your credit card{card} "
            f"on {formatting.date(state.on)}, but it was declined; a separate email says what "
            "happens next."
        )
    return (
        f"Your payment of {formatting.money(due)} will be taken automatically from your credit "
        f"card on {formatting.date(invoice.due_date)}."
    )


def dunning_words(kind: str, ctx: dict, invoice: Invoice, today: dt.date) -> tuple[str, str]:
    """The opening and closing sentences of a notice, by kind."""
    for words in (_overdue_words, _hold_words, _money_words):
        found = words(kind, ctx, invoice, today)
        if found is not None:
            return found
    return (
        f"Because invoice #{ctx['number']} remains unpaid, your services were suspended on "
        f"{formatting.date(today)}.",
        "Your services will be restored automatically as soon as the balance is paid.",
    )


def _overdue_words(
    kind: str, ctx: dict, invoice: Invoice, today: dt.date
) -> tuple[str, str] | None:
    """A reminder and the three overdue notices (naming a late fee to come)."""
    late = (today - invoice.due_date).days
    if kind == MessageKind.REMINDER:
        return (
            f"This is a friendly reminder that invoice #{ctx['number']} for {ctx['amount_due']} is due on "
            f"{ctx['due_date']}.",
            "Please make sure your payment reaches us by then.",
        )
    fee = (
        f" A late fee of {ctx['late_fee']} will be added on {ctx['late_fee_date']} unless the balance is paid "
        "by then."
        if ctx.get("late_fee")
        else ""
    )
    if kind == MessageKind.OVERDUE_1:
        return (
            f"Our records show that invoice #{ctx['number']}, due on {ctx['due_date']}, has not been paid.",
            f"Please pay the balance as soon as possible.{fee}",
        )
    if kind == MessageKind.OVERDUE_2:
        return (
            f"Invoice #{ctx['number']} is now {late} days past due.",
            f"Please pay the balance now to avoid an interruption of your services.{fee}",
        )
    if kind == MessageKind.OVERDUE_3:
        return (
            f"This is our final notice: invoice #{ctx['number']} is {late} days past due.",
            f"If the balance is not paid, your services will be suspended on {ctx['suspension_date']}.{fee}",
        )
    return None


def _hold_words(kind: str, ctx: dict, invoice: Invoice, today: dt.date) -> tuple[str, str] | None:
    """Promises to pay and payment plans, made and broken."""
    if kind == MessageKind.PROMISE_MADE:
        return (
            f"Thank you: we have noted your promise to pay {ctx['promise_amount']} by {ctx['promise_date']}.",
            "Until then we will send no overdue notices, add no late fees and keep your services on. "
            "If the payment has not reached us by that day, the usual steps resume.",
        )
    if kind == MessageKind.PLAN_MADE:
        return (
            f"Thank you: your balance of {ctx['plan_total']} is split into {ctx['plan_count']} payments: "
            f"{ctx['plan_schedule']}.",
            "While you keep to it we send no overdue notices, add no late fees and keep your services on"
            + (
                ". Each payment is charged to your card on its date."
                if ctx.get("auto_debit")
                else "."
            ),
        )
    if kind == MessageKind.PLAN_BROKEN:
        return (
            f"A payment of your plan was due and has not reached us: of {ctx['plan_total']}, we have "
            f"received {ctx['plan_paid']}.",
            f"The plan has ended and our usual steps for overdue invoices have resumed: if the balance of "
            f"invoice #{ctx['number']} ({ctx['amount_due']}) is not paid, your services will be suspended on "
            f"{ctx['suspension_date']}.",
        )
    if kind == MessageKind.PROMISE_BROKEN:
        return (
            f"You promised to pay {ctx['promise_amount']} by {ctx['promise_date']}, and we have received "
            f"{ctx['promise_paid']} of it.",
            f"The balance of invoice #{ctx['number']} is {ctx['amount_due']}, and our usual steps for overdue "
            f"invoices have resumed: if it is not paid, your services will be suspended on {ctx['suspension_date']}.",
        )
    return None


def _money_words(kind: str, ctx: dict, invoice: Invoice, today: dt.date) -> tuple[str, str] | None:
    """Failed charges, credit notes, returned payments, refunds, a card needed."""
    if kind == MessageKind.PAYMENT_FAILED:
        retry = ctx.get("next_retry_on")
        return (
            f"We could not charge your {ctx.get('card', 'card')} for invoice #{ctx['number']}: "
            f"{ctx.get('reason') or 'the card was declined'}",
            (f"We will try again on {retry}. " if retry else "We will not try this card again. ")
            + "To avoid an interruption, please pay the invoice or update your card.",
        )
    if kind == MessageKind.CREDIT_NOTE:
        note = ctx["credit_note_obj"]
        extra = (
            f" {formatting.money(Money.from_minor(note.to_credit_minor, note.currency))} of it has been added to your "
            "account credit and will pay your next invoices."
            if note.to_credit_minor
            else ""
        )
        return (
            f"We have issued credit note #{note.number} for {formatting.money(note.amount)} on invoice "
            f"#{ctx['number']}: {note.reason}.",
            f"The balance of invoice #{ctx['number']} is now {ctx['amount_due']}.{extra}",
        )
    if kind == MessageKind.PAYMENT_RETURNED:
        payment = ctx["payment_obj"]
        fee = (
            f" A returned-payment fee of {ctx['fee_text']} will appear on your next invoice."
            if ctx.get("fee_text")
            else ""
        )
        return (
            f"Your payment of {formatting.money(payment.amount)} ({payment.get_method_display()}"
            f"{', ' + payment.reference if payment.reference else ''}) received on "
            f"{formatting.date(payment.received_on)} was returned unpaid by the bank, so it has been removed from "
            "your account.",
            f"Invoice #{ctx['number']} is open again with a balance of {ctx['amount_due']}.{fee}",
        )
    if kind == MessageKind.REFUND:
        refund = ctx["refund_obj"]
        return (
            f"We have refunded {formatting.money(refund.amount)} to your "
            f"{refund.payment.reference or 'card'}: {refund.reason}.",
            "Depending on your bank, it may take a few days to appear on your statement.",
        )
    if kind == MessageKind.CARD_NEEDED:
        return (
            f"Your account is set to pay automatically by credit card, but we have no card on file to pay "
            f"invoice #{ctx['number']}.",
            "Please add a card for automatic payment, or pay the invoice.",
        )
    return None
