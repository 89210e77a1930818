"""Which PDF engine for invoices? The same one-page invoice, rendered N times
on one core by each candidate, with an embedded font that prints "Łukasz".

    make bench-pdf            (or: .venv/bin/python bench/pdf_renderers.py 300)

Candidates: Typst (the `typst` package, one compiler reused, data as JSON) —
the engine ISOCNET uses — and ReportLab (platypus tables, DejaVu Sans TTF
registered with its bold face). ReportLab needs a TTF for non-Latin-1 names:
its built-in Helvetica cannot print "Ł".
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocnet.settings")
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parents[1] / "var" / "bench"))

import django

django.setup()

from pypdf import PdfReader  # noqa: E402

from isocnet.documents.renderer import render_pdf  # noqa: E402

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def sample() -> dict:
    lines = [
        ("Fiber 1 Gbps — 1 Main St", "12/01/2026 – 12/31/2026", "1", "$89.95", "$89.95"),
        ("Static IP address — 1 Main St", "12/01/2026 – 12/31/2026", "1", "$10.00", "$10.00"),
        (
            "Web Hosting Business — lukasz.example.com",
            "12/01/2026 – 11/30/2027",
            "1",
            "$239.40",
            "$239.40",
        ),
        ("Business Email", "12/01/2026 – 02/28/2027", "4", "$15.00", "$60.00"),
        (
            "Domain renewal (.com) — lukasz.example.com",
            "12/01/2026 – 11/30/2027",
            "1",
            "$18.99",
            "$18.99",
        ),
    ]
    return {
        "company": {
            "name": "ISOCNET",
            "address": ["100 Network Way, Suite 200", "Springfield, IL 62701"],
            "email": "billing@isocnet.example",
            "phone": "+1 217 555 0100",
            "website": "https://www.isocnet.example",
        },
        "doc": {
            "title": "INVOICE",
            "number_label": "Invoice number",
            "number": "2026-000123",
            "issue_date": "November 20, 2026",
            "due_date": "December 1, 2026",
            "account_number": "C000042",
        },
        "bill_to": {
            "name": "Łukasz Müller",
            "company": "Zieliński & Søren Sp. z o.o.",
            "address": ["1 Main St", "Springfield, IL 62701", "US"],
            "email": "lukasz@example.com",
        },
        "lines": [
            {"description": d, "period": p, "quantity": q, "unit_price": u, "amount": a}
            for d, p, q, u, a in lines
        ],
        "subtotal": "$418.34",
        "taxes": [{"label": "Sales tax (8.25% of $328.39)", "amount": "$27.09"}],
        "total": "$445.43",
        "applied": [{"label": "Account credit applied", "amount": "-$20.00"}],
        "balance": "$425.43",
        "stamp": None,
        "how_to_pay": [
            "Pay online at https://portal.isocnet.example, or by check payable to ISOCNET.",
            "Please write invoice number 2026-000123 on your check.",
        ],
        "slip": {
            "payable_to": "ISOCNET",
            "mail_to": ["ISOCNET", "100 Network Way, Suite 200"],
            "account_number": "C000042",
            "invoice_number": "2026-000123",
            "amount_due": "$425.43",
            "due_date": "December 1, 2026",
        },
    }


def typst_render(data: dict) -> bytes:
    return render_pdf("invoice.typ", data)


def reportlab_render(data: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(DEJAVU / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(DEJAVU / "DejaVuSans-Bold.ttf")))
        from reportlab.lib.fonts import addMapping

        addMapping("DejaVu", 0, 0, "DejaVu")
        addMapping("DejaVu", 1, 0, "DejaVu-Bold")
    body = ParagraphStyle("b", fontName="DejaVu", fontSize=9.5, leading=12)
    head = ParagraphStyle(
        "h", parent=body, fontSize=16, leading=20, textColor=colors.HexColor("#1f4e79")
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=letter, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm
    )
    story = [
        Paragraph(f"<b>{data['company']['name']}</b>", head),
        Paragraph("<br/>".join(data["company"]["address"]), body),
        Paragraph(
            f"<b>INVOICE {data['doc']['number']}</b> · Issue date {data['doc']['issue_date']} · "
            f"Due {data['doc']['due_date']} · Account {data['doc']['account_number']}",
            body,
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            "<b>Bill to</b><br/>"
            + "<br/>".join(
                [data["bill_to"]["name"], data["bill_to"]["company"], *data["bill_to"]["address"]]
            ),
            body,
        ),
        Spacer(1, 6 * mm),
    ]
    rows = [["Description", "Qty", "Unit price", "Amount"]]
    rows += [
        [
            Paragraph(
                f"{ln['description']}<br/><font size=8>Service period {ln['period']}</font>", body
            ),
            ln["quantity"],
            ln["unit_price"],
            ln["amount"],
        ]
        for ln in data["lines"]
    ]
    rows += [["", "", "Subtotal", data["subtotal"]]]
    rows += [["", "", t["label"], t["amount"]] for t in data["taxes"]]
    rows += [["", "", "Total", data["total"]]]
    rows += [["", "", a["label"], a["amount"]] for a in data["applied"]]
    rows += [["", "", "Balance", data["balance"]]]
    table = Table(rows, colWidths=[100 * mm, 15 * mm, 30 * mm, 30 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "DejaVu", 9.5),
                ("FONT", (0, 0), (-1, 0), "DejaVu-Bold"),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#1f4e79")),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm), Paragraph("<br/>".join(data["how_to_pay"]), body)]
    doc.build(story)
    return out.getvalue()


def measure(name, fn, n) -> tuple[str, float, str]:
    data = sample()
    pdf = fn(data)  # warm-up: font loading, compiler start
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    ok = "yes" if "Łukasz Müller" in text and "2026-000123" in text else "NO"
    start = time.perf_counter()
    for _ in range(n):
        fn(data)
    elapsed = time.perf_counter() - start
    return name, n / elapsed, ok


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    results = [measure("Typst (typst)", typst_render, n)]
    if (DEJAVU / "DejaVuSans.ttf").exists():
        results.append(measure("ReportLab (DejaVu Sans TTF)", reportlab_render, n))
    else:
        print("ReportLab skipped: no DejaVu Sans TTF (apt-get install fonts-dejavu-core)")
    print(f"One-page invoice, {n} renders each, one process (one core)")
    print(f"{'engine':32} {'PDFs/s':>8}  {'Łukasz extractable':>18}")
    for name, rate, ok in results:
        print(f"{name:32} {rate:8.0f}  {ok:>18}")


if __name__ == "__main__":
    main()
