"""Statement of account as a PDF (rendered on request, not stored: it is a
view of the ledger for a period, not a document that was issued)."""

from __future__ import annotations

from django.conf import settings

from isocnet.core import clock, formatting
from isocnet.documents.invoices import company
from isocnet.documents.renderer import render_pdf


def statement_document_data(statement) -> dict:
    money = formatting.money
    customer = statement.customer
    closing = statement.closing
    if closing.minor() > 0:
        note = f"Amount owed at {formatting.date(statement.end)}: {money(closing)}."
    elif closing.minor() < 0:
        note = f"Your account is in credit by {money(-closing)}: it pays your next invoices."
    else:
        note = "Nothing is owed at the end of this period. Thank you."
    return {
        "company": company(),
        "account_number": customer.account_number,
        "name": customer.name,
        "company_name": customer.company,
        "address": customer.address_lines(),
        "start": formatting.date(statement.start),
        "end": formatting.date(statement.end),
        "today": formatting.date(clock.today()),
        "opening": money(statement.opening),
        "closing": money(closing),
        "charges": money(statement.charges),
        "payments": money(statement.payments),
        "lines": [
            {
                "date": formatting.date(line.date),  # one date format across the document
                "description": line.description,
                "charges": money(line.charges) if line.charges is not None else "",
                "payments": money(line.payments) if line.payments is not None else "",
                "balance": money(line.balance),
            }
            for line in statement.lines
        ],
        "note": note + f" Questions: {settings.COMPANY_EMAIL} · {settings.COMPANY_PHONE}",
    }


def statement_pdf(statement) -> bytes:
    return render_pdf("statement.typ", statement_document_data(statement))
