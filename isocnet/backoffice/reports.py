"""The reports page of the back office (and each report as CSV), and the
accountant's exports. Thin: the figures come from isocnet.reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse

from isocnet.core import clock, formatting
from isocnet.core.money import Money
from isocnet.reports import selectors
from isocnet.reports.exports import KINDS, csv_lines, export_rows


class PeriodForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    day = forms.DateField(
        required=False,
        label="Deposit list for",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "must not be before the start")
        return data


def _period(request) -> tuple[PeriodForm, dt.date, dt.date, dt.date]:
    today = clock.today()
    default = {"start": today.replace(day=1) - dt.timedelta(days=330), "end": today, "day": today}
    form = PeriodForm(request.GET or None, initial=default)
    if request.GET and form.is_valid():
        data = form.cleaned_data
        return form, data["start"], data["end"], data["day"] or today
    return form, default["start"].replace(day=1), default["end"], today


def _money(minor: int) -> str:
    from django.conf import settings

    return formatting.money(Money.from_minor(minor, settings.CURRENCY))


def csv_response(name: str, rows) -> StreamingHttpResponse:
    """Every CSV the back office serves: one writer (reports.exports.csv_lines),
    so every export is safe from spreadsheet formula injection."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _chart(points: list[tuple[str, int]], width: int = 640, height: int = 180) -> dict:
    """Bars for an inline SVG (no JavaScript, no chart library)."""
    top = max((v for _, v in points), default=0) or 1
    step = width / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = round(value / top * (height - 30))
        bars.append(
            {
                "x": round(i * step + step * 0.15),
                "w": max(round(step * 0.7), 1),
                "y": height - 20 - h,
                "h": h,
                "label": label,
                "value": _money(value),
                "tx": round(i * step + step / 2),
            }
        )
    return {"bars": bars, "width": width, "height": height}


@dataclass
class _Figures:
    """What the reports page shows, read once for the page or one CSV."""

    start: dt.date
    end: dt.date
    day: dt.date
    today: dt.date

    @cached_property
    def aging(self):
        return selectors.aging(self.today)

    @cached_property
    def revenue(self):
        return selectors.revenue_by_month_and_plan(self.start, self.end)

    @cached_property
    def payments(self):
        return selectors.payments_by_method_and_day(self.start, self.end)

    @cached_property
    def failed(self):
        return selectors.failed_card_payments(self.start, self.end)

    @cached_property
    def renewals(self):
        return selectors.upcoming_renewals(self.today, 30)


def _table_aging(f: _Figures):
    return (
        f"aging-{f.today}",
        [["account_number", "customer", *selectors.BUCKETS, "total"]]
        + [
            [
                r.account_number,
                r.name,
                *(f.aging.money(r.buckets[b]).as_string() for b in selectors.BUCKETS),
                f.aging.money(r.total).as_string(),
            ]
            for r in f.aging.rows
        ]
        + [
            [
                "",
                "Total",
                *(f.aging.money(f.aging.totals[b]).as_string() for b in selectors.BUCKETS),
                f.aging.money(f.aging.total).as_string(),
            ]
        ],
    )


def _table_revenue(f: _Figures):
    return (
        f"revenue-{f.start}-{f.end}",
        [["month", "plan", "amount"]]
        + [
            [
                r.month.strftime("%Y-%m"),
                r.plan,
                Money.from_minor(r.amount_minor, f.aging.currency).as_string(),
            ]
            for r in f.revenue
        ],
    )


def _table_payments_by_day(f: _Figures):
    return (
        f"payments-by-day-{f.start}-{f.end}",
        [["day", "method", "count", "amount"]]
        + [
            [
                p.day.isoformat(),
                p.method,
                p.count,
                Money.from_minor(p.amount_minor, f.aging.currency).as_string(),
            ]
            for p in f.payments
        ],
    )


def _table_deposit(f: _Figures):
    return (
        f"deposit-{f.day}",
        [["payment_id", "account_number", "customer", "check_number", "amount"]]
        + [
            [
                p.pk,
                p.customer.account_number,
                p.customer.name,
                p.reference,
                p.amount.as_string(),
            ]
            for p in selectors.deposit_list(f.day)
        ],
    )


def _table_failed(f: _Figures):
    return (
        f"failed-card-payments-{f.start}-{f.end}",
        [
            [
                "date",
                "account_number",
                "customer",
                "invoice",
                "amount",
                "card",
                "status",
                "reason",
                "next_retry_on",
            ]
        ]
        + [
            [
                c.created_at.date().isoformat(),
                c.customer.account_number,
                c.customer.name,
                c.invoice.number if c.invoice_id else "",
                Money.from_minor(c.amount_minor, c.currency).as_string(),
                f"{c.card.brand} {c.card.last4}" if c.card_id else "",
                c.status,
                c.message,
                c.next_retry_on.isoformat() if c.next_retry_on else "",
            ]
            for c in f.failed
        ],
    )


def _table_renewals(f: _Figures):
    return (
        f"renewals-{f.today}",
        [["next_due_date", "account_number", "customer", "service", "plan", "amount"]]
        + [
            [
                s.next_due_date.isoformat(),
                s.customer.account_number,
                s.customer.name,
                s.description,
                s.plan.name,
                selectors.renewal_amount(s).as_string(),
            ]
            for s in f.renewals
        ],
    )


TABLES = {
    "aging": _table_aging,
    "revenue": _table_revenue,
    "payments-by-day": _table_payments_by_day,
    "deposit": _table_deposit,
    "failed": _table_failed,
    "renewals": _table_renewals,
}


def reports(request):
    if not request.user.is_staff:
        raise PermissionDenied
    form, start, end, day = _period(request)
    figures = _Figures(start=start, end=end, day=day, today=clock.today())
    wanted = request.GET.get("csv")
    if wanted in TABLES:
        return csv_response(*TABLES[wanted](figures))
    if wanted in KINDS:
        return csv_response(f"{wanted}-{start}-{end}", export_rows(wanted, start, end))
    return TemplateResponse(request, "backoffice/reports.html", _page(request, form, figures))


def _page(request, form, f: _Figures) -> dict:
    start, end, day, today = f.start, f.end, f.day, f.today
    aging, revenue, payments, failed, renewals = (
        f.aging,
        f.revenue,
        f.payments,
        f.failed,
        f.renewals,
    )
    by_month = selectors.revenue_by_month(start, end)
    deposit = selectors.deposit_list(day)
    return {
        **admin.site.each_context(request),
        "title": "Reports",
        "form": form,
        "query": request.GET.urlencode(),
        "today": today,
        "aging": aging,
        "aging_rows": [
            {
                "row": r,
                "cells": [_money(r.buckets[b]) for b in selectors.BUCKETS],
                "total": _money(r.total),
            }
            for r in aging.rows
        ],
        "aging_totals": [_money(aging.totals[b]) for b in selectors.BUCKETS],
        "aging_total": _money(aging.total),
        "bucket_labels": [selectors.BUCKET_LABELS[b] for b in selectors.BUCKETS],
        "aging_chart": _chart(
            [(selectors.BUCKET_LABELS[b], aging.totals[b]) for b in selectors.BUCKETS]
        ),
        "revenue": [
            {"month": r.month, "plan": r.plan, "amount": _money(r.amount_minor)} for r in revenue
        ],
        "revenue_chart": _chart([(m.strftime("%b %y"), v) for m, v in by_month]),
        "receivables_chart": _chart(
            [
                (d.strftime("%b %y"), selectors.receivables_at(d))
                for d in selectors.month_ends(start, min(end, today))
            ]
        ),
        "payments": [{"p": p, "amount": _money(p.amount_minor)} for p in payments],
        "deposit": deposit,
        "deposit_day": day,
        "deposit_total": _money(sum(p.amount_minor for p in deposit)),
        "failed": [
            {"c": c, "amount": formatting.money(Money.from_minor(c.amount_minor, c.currency))}
            for c in failed
        ],
        "renewals": [
            {"s": s, "amount": formatting.money(selectors.renewal_amount(s))} for s in renewals
        ],
        "exports": KINDS,
    }
