"""Exports and the aging report for scripts and the accountant."""

import datetime as dt
from typing import Literal

from django.http import StreamingHttpResponse
from ninja import Query, Router, Schema

from isocnet.api.v1.schemas import ErrorOut, IsoDate
from isocnet.core import clock
from isocnet.core.errors import InvalidInput
from isocnet.core.money import Money
from isocnet.reports import selectors
from isocnet.reports.exports import csv_lines, export_rows

router = Router(tags=["reports"])


class Period(Schema):
    start: IsoDate
    end: IsoDate


@router.get(
    "/exports/{kind}",
    response={200: None, 400: ErrorOut, 422: ErrorOut},
    summary="Invoices, invoice lines, payments or credit notes of a period, as CSV",
    openapi_extra={
        "responses": {
            200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
        }
    },
)
def export(
    request, kind: Literal["invoices", "lines", "payments", "credit-notes"], period: Query[Period]
):
    if period.start > period.end:
        raise InvalidInput("must not be after end", field="start")
    response = StreamingHttpResponse(
        csv_lines(export_rows(kind, period.start, period.end)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{kind}-{period.start}-{period.end}.csv"'
    )
    return response


class AgingRowOut(Schema):
    customer: int
    account_number: str
    name: str
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str


class AgingOut(Schema):
    as_of: dt.date
    currency: str
    items: list[AgingRowOut]
    totals: AgingRowOut


@router.get("/reports/aging", response=AgingOut, summary="Accounts-receivable aging, today")
def aging(request):
    report = selectors.aging(clock.today())

    def row(customer, account, name, buckets, total):
        m = lambda minor: Money.from_minor(minor, report.currency).as_string()  # noqa: E731
        return {
            "customer": customer,
            "account_number": account,
            "name": name,
            "current": m(buckets["current"]),
            "days_1_30": m(buckets["1-30"]),
            "days_31_60": m(buckets["31-60"]),
            "days_61_90": m(buckets["61-90"]),
            "days_over_90": m(buckets["90+"]),
            "total": m(total),
        }

    return {
        "as_of": report.as_of,
        "currency": report.currency,
        "items": [
            row(r.customer_id, r.account_number, r.name, r.buckets, r.total) for r in report.rows
        ],
        "totals": row(0, "", "Total", report.totals, report.total),
    }
