"""A customer's audit trail in words a clerk reads: "Payment of $49.33
recorded: check (Check 1042), applied to invoice #2026-000003", not
``amount: 49.33; allocations: {...}``. Reads only; the rows themselves stay
as written (docs/architecture.md, Audit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from isocnet.catalog.models import Plan
from isocnet.core import formatting
from isocnet.core.models import AuditEvent
from isocnet.core.money import Money

# Labels of the fields staff edit, as the customer form names them.
FIELDS = {
    "name": "name",
    "company": "company",
    "email": "billing email",
    "cc_emails": "copies to",
    "phone": "phone",
    "address_line1": "address",
    "address_line2": "address line 2",
    "city": "city",
    "region": "state",
    "postal_code": "ZIP code",
    "country": "country",
    "currency": "currency",
    "tax_exempt": "tax exempt",
    "payment_method": "payment method",
    "status": "status",
    "notes": "notes",
    "next_due_date": "next due date",
    "quantity": "quantity",
    "description": "description",
    "price_override_minor": "price",
    "plan_id": "plan",
    "cancel_at_period_end": "cancel at period end",
    "cancellation_date": "cancellation date",
}
METHODS = {
    "check": "check",
    "card": "credit card",
    "money_order": "money order",
    "bank_transfer": "bank transfer",
    "cash": "cash",
}


@dataclass
class Line:
    when: dt.datetime
    who: str
    what: str


def _value(key: str, value, currency: str, plans: dict) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "plan_id":
        return plans.get(value, f"plan {value}")
    if key.endswith("_minor"):
        return formatting.money(Money.from_minor(int(value), currency))
    if key.endswith(("date", "_on")):
        try:
            return formatting.date(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if key == "payment_method":
        return {"card": "credit card (auto debit)", "check": "check or mail-in"}.get(value, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _money(text, currency: str, *, minor: bool = False) -> str:
    try:
        amount = Money.from_minor(int(text), currency) if minor else Money.parse(text, currency)
    except (TypeError, ValueError):
        return str(text)
    return formatting.money(amount)


def _changes(before: dict, after: dict, currency: str, plans: dict) -> str:
    parts = []
    order = list(FIELDS)
    # in the form's order (PostgreSQL's jsonb keeps no order of its own)
    for key in sorted(after, key=lambda k: (order.index(k) if k in order else len(order), k)):
        new = after[key]
        old = before.get(key)
        if key in before and old == new:
            continue
        label = FIELDS.get(key, key.replace("_", " "))
        new_text = _value(key, new, currency, plans)
        if key in before:
            parts.append(f"{label} {_value(key, old, currency, plans)} → {new_text}")
        else:
            parts.append(f"{label} {new_text}")
    return "; ".join(parts)


def _collections_words(action: str, a: dict, currency: str) -> str | None:
    """Promises, disputes and late fees in words (None: another action)."""
    m = lambda key: _money(a.get(key), currency)  # noqa: E731
    day = lambda key: _value("date", a.get(key), currency, {})  # noqa: E731
    words = {
        "promise.create": lambda: (
            f"Promise to pay {m('amount')} by {day('promised_on')} "
            f"({a.get('source', 'staff')}){': ' + a['note'] if a.get('note') else ''}"
        ),
        "promise.kept": lambda: f"Promise to pay kept ({m('paid')} paid)",
        "promise.broken": lambda: (
            f"Promise to pay of {m('promised')} by {day('promised_on')} broken ({m('paid')} paid)"
        ),
        "promise.cancel": lambda: f"Promise to pay cancelled: {a.get('reason', '')}",
        "plan.create": lambda: (
            f"Payment plan of {m('total')} in {len(a.get('installments') or [])} "
            "payments: "
            + "; ".join(
                f"{_money(amount, currency)} on {_value('date', day, currency, {})}"
                for day, amount in a.get("installments") or []
            )
        ),
        "plan.kept": lambda: f"Payment plan paid in full ({m('paid')})",
        "plan.broken": lambda: f"Payment plan broken: {m('paid')} of {m('total')} paid",
        "plan.cancel": lambda: f"Payment plan cancelled: {a.get('reason', '')}",
        "dispute.open": lambda: f"Invoice #{a.get('invoice')} disputed: {a.get('reason', '')}",
        "dispute.resolve": lambda: (
            f"Dispute of invoice #{a.get('invoice')} resolved: {a.get('resolution', '')}"
        ),
        "late_fee.charge": lambda: (
            f"Late fee of {m('amount')} for invoice #{a.get('invoice')} "
            f"(overdue {m('overdue_balance')}), on {a.get('on')}"
        ),
        "late_fee.waive": lambda: (
            f"Late fee of {m('amount')} on invoice #{a.get('invoice')} "
            f"waived: {a.get('reason', '')}"
        ),
    }
    return words[action]() if action in words else None


def describe(event: AuditEvent, currency: str, plans: dict) -> str:
    a, b = event.after or {}, event.before or {}
    m = lambda key: _money(a.get(key), currency)  # noqa: E731
    action = event.action
    collections = _collections_words(action, a, currency)
    if collections is not None:
        return collections
    if action == "customer.create":
        return (
            f"Account opened for {a.get('name', '')} ({a.get('email', '')}), paying by "
            f"{_value('payment_method', a.get('payment_method'), currency, plans)}"
        )
    if action == "customer.update":
        return "Account changed: " + (_changes(b, a, currency, plans) or "no visible change")
    if action == "invoice.issue":
        return (
            f"Invoice #{a.get('number')} issued for {m('total')}, due "
            f"{_value('due_date', a.get('due_date'), currency, plans)}"
        )
    if action == "invoice.void":
        return f"Invoice voided: {a.get('reason', '')}"
    if action == "payment.record":
        applied = ", ".join(
            f"#{number} {_money(amount, currency)}"
            for number, amount in (a.get("allocations") or {}).items()
        )
        credit = a.get("credit")
        ref = f", {a['reference']}" if a.get("reference") else ""
        text = f"Payment of {m('amount')} recorded: {METHODS.get(a.get('method'), a.get('method'))}{ref}"
        if applied:
            text += f"; applied to invoice {applied}"
        if credit and credit != "0":
            text += f"; {_money(credit, currency)} kept as account credit"
        return text
    if action.startswith("card.charge."):
        outcome = action.rsplit(".", 1)[1]
        amount = _money(a.get("amount"), currency, minor=True)
        extra = f" ({a['decline'].replace('_', ' ')})" if a.get("decline") else ""
        what = f"invoice #{a['invoice']}" if a.get("invoice") else "the account"
        return f"Card charge of {amount} for {what}: {outcome}{extra}"
    if action == "credit_note.create":
        return (
            f"Credit note #{a.get('number')} for {m('amount')} on invoice #{a.get('invoice')}: "
            f"{a.get('reason', '')}"
        )
    if action == "credit.apply":
        return f"Account credit of {m('applied')} applied to this invoice; balance {m('balance')}"
    if action == "credit.adjust":
        return f"Account credit {m('amount')} by hand: {a.get('memo', '')}"
    if action == "subscription.create":
        plan = plans.get(a.get("plan_id"), "a service")
        label = f" — {a['description']}" if a.get("description") else ""
        return (
            f"Service added: {plan}{label}, quantity {a.get('quantity', 1)}, next due "
            f"{_value('next_due_date', a.get('next_due_date'), currency, plans)}"
        )
    if action == "subscription.billed":
        return (
            f"Service billed on invoice #{a.get('invoice')}: next due date "
            f"{_value('next_due_date', b.get('next_due_date'), currency, plans)} → "
            f"{_value('next_due_date', a.get('next_due_date'), currency, plans)}"
        )
    if action == "subscription.suspend_nonpayment":
        return "Service suspended for non-payment"
    if action == "subscription.resume_paid":
        return "Service resumed: the account is paid up"
    if action == "portal.invite":
        return f"Client portal invitation sent to {a.get('login', '')}"
    if action == "card.attach":
        return f"Card saved: {a.get('brand', '')} ending in {a.get('last4', '')}"
    shown = _changes(b, a, currency, plans)
    return f"{action.replace('.', ' ').replace('_', ' ').capitalize()}" + (
        f": {shown}" if shown else ""
    )


def customer_history(customer, *, limit: int = 30) -> list[Line]:
    events = list(
        AuditEvent.objects.filter(customer_id=customer.pk).order_by("-created_at", "-id")[:limit]
    )
    plan_ids = {(e.after or {}).get("plan_id") for e in events} - {None}
    plans = dict(Plan.objects.filter(pk__in=plan_ids).values_list("pk", "name"))
    return [
        Line(when=e.created_at, who=e.actor, what=describe(e, customer.currency, plans))
        for e in events
    ]
