"""Deposits in the back office: the batch entry screen (a clerk keys or
scans the slips of one deposit, sees each match at once, fixes what did
not match and posts the lot), bank-file import, the exceptions queue and
the deposit report. Every change goes through isocnet.deposits' services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from isocnet.backoffice.admin.base import ReadOnlyAdmin, money_column
from isocnet.backoffice.reports import csv_response
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.validation import clean_id
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.batches import (
    batch_item_add,
    batch_item_change,
    batch_item_remove,
    batch_open,
    batch_post,
    batch_totals,
    batch_update,
)
from isocnet.deposits.models import BankFile, BatchStatus, DepositBatch, DepositItem, ItemState
from isocnet.deposits.queue import exception_resolve, exception_unapply, exceptions_queue
from isocnet.deposits.selectors import batch_rows, deposit_report

KEYED = ("scan_line", "amount", "check_number", "account_number", "invoice_number", "payer_name")


class OpenForm(forms.Form):
    reference = forms.CharField(max_length=120, label="Deposit slip number")
    deposit_date = forms.DateField(label="Deposit date", help_text="YYYY-MM-DD")
    expected_count = forms.IntegerField(
        min_value=1, required=False, label="Checks on the deposit slip"
    )
    expected_total = forms.CharField(required=False, label="Deposit slip total", max_length=20)


class KeyForm(forms.Form):
    scan_line = forms.CharField(required=False, max_length=80, label="Scan line")
    amount = forms.CharField(
        required=False, max_length=20, label="Amount", help_text="empty: the slip's amount due"
    )
    check_number = forms.CharField(required=False, max_length=40, label="Check #")
    account_number = forms.CharField(required=False, max_length=40, label="Account")
    invoice_number = forms.CharField(required=False, max_length=40, label="Invoice")
    payer_name = forms.CharField(required=False, max_length=140, label="Name on check")


class BankFileForm(forms.Form):
    format = forms.ChoiceField(
        choices=[("", "From the file"), ("bai2", "BAI2"), ("lockbox", "Lockbox CSV")],
        required=False,
        help_text="A BAI2 file starts with its 01 record; anything else is read as a lockbox CSV.",
    )
    file = forms.FileField()


def _error_into(form, exc: BillingError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@admin.register(DepositBatch)
class DepositBatchAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "deposit_date",
        "source",
        "status",
        "expected_count",
        "expected_display",
        "created_by",
        "posted_at",
    ]
    list_filter = ["status", "source", "deposit_date"]
    search_fields = ["reference", "items__check_number", "items__bank_reference"]
    date_hierarchy = "deposit_date"
    expected_display = money_column("expected_total_minor", "Deposit slip total")
    change_list_template = "backoffice/deposits/batch_list.html"

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:batch_id>/entry/", view(self.entry), name="deposits_entry"),
            path("exceptions/", view(self.exceptions), name="deposits_exceptions"),
            path("report/", view(self.report), name="deposits_report"),
            path("bank-file/", view(self.bank_file), name="deposits_bank_file"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        form = OpenForm(request.POST or None, initial={"deposit_date": clock.today()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                batch = batch_open(
                    actor=Actor.staff(request.user),
                    reference=data["reference"],
                    deposit_date=data["deposit_date"].isoformat(),
                    expected_count=data["expected_count"],
                    expected_total=data["expected_total"] or None,
                )
            except BillingError as exc:
                _error_into(form, exc)
            else:
                return redirect("admin:deposits_entry", batch.pk)
        return self._page(request, "open", "Open a deposit batch", form=form)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:deposits_entry", object_id)

    def _page(self, request, name, title, **context):
        return TemplateResponse(
            request,
            f"backoffice/deposits/{name}.html",
            {**self.admin_site.each_context(request), "title": title, **context},
        )

    # -- the entry screen ------------------------------------------------
    def entry(self, request, batch_id):
        batch = DepositBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise Http404("no such deposit batch")
        actor = Actor.staff(request.user)
        fixing = None
        fix_id = request.POST.get("item") or request.GET.get("fix")
        if fix_id and batch.status == BatchStatus.DRAFT:
            fixing = batch.items.filter(pk=fix_id).first()
        initial = {}
        if fixing is not None:
            initial = {k: getattr(fixing, k) for k in KEYED if k != "amount"}
            initial["amount"] = fixing.amount.as_string()
        form = KeyForm(request.POST or None, initial=initial)
        if request.method == "POST":
            done = self._entry_post(request, actor, batch, fixing, form)
            if done is not None:
                return done
        batch.refresh_from_db()
        return self._page(
            request,
            "entry",
            f"Deposit {batch.reference}",
            batch=batch,
            rows=batch_rows(batch),
            totals=batch_totals(batch),
            form=form,
            fixing=fixing,
            unmatched=batch.items.filter(state=ItemState.PENDING, customer__isnull=True),
            draft=batch.status == BatchStatus.DRAFT,
        )

    def _entry_post(self, request, actor, batch, fixing, form):
        """One POST of the entry screen; a redirect when done, else None
        (the page shows the form's errors)."""
        action = request.POST.get("action", "add")
        here = reverse("admin:deposits_entry", args=[batch.pk])
        try:
            if action == "post":
                posted = batch_post(actor=actor, batch_id=batch.pk)
                credit = f", {posted.credit.format()} to account credit" if posted.credit else ""
                held = (
                    f", {posted.unapplied.format()} held as unapplied cash"
                    if posted.unapplied
                    else ""
                )
                messages.success(
                    request,
                    f"Deposit {batch.reference} posted: {posted.payments} payments{credit}{held}. "
                    "Receipts are on their way.",
                )
                return redirect(here)
            if action == "slip":
                batch_update(
                    actor=actor,
                    batch_id=batch.pk,
                    expected_count=request.POST.get("expected_count", ""),
                    expected_total=request.POST.get("expected_total", ""),
                )
                return redirect(here)
            if fixing is not None and action in ("unapplied", "remove", "choose"):
                if action == "unapplied":
                    batch_item_change(
                        actor=actor, batch_id=batch.pk, item_id=fixing.pk, unapplied=True
                    )
                elif action == "remove":
                    batch_item_remove(actor=actor, batch_id=batch.pk, item_id=fixing.pk)
                else:
                    batch_item_change(
                        actor=actor,
                        batch_id=batch.pk,
                        item_id=fixing.pk,
                        customer_id=clean_id(request.POST.get("customer"), "customer"),
                    )
                return redirect(here)
            if not form.is_valid():
                return None
            keyed = {k: form.cleaned_data[k] for k in KEYED}
            if fixing is not None:
                item = batch_item_change(actor=actor, batch_id=batch.pk, item_id=fixing.pk, **keyed)
            else:
                item = batch_item_add(actor=actor, batch_id=batch.pk, **keyed)
            if item.customer_id is None:
                messages.warning(request, f"Check {item.position} matches no account: {item.note}")
            return redirect(here)
        except BillingError as exc:
            if action in ("add", "fix"):
                _error_into(form, exc)
            else:
                messages.error(request, exc.message)
                return redirect(here + (f"?fix={fixing.pk}" if fixing is not None else ""))
        return None

    # -- bank files, the queue, the report ---------------------------------
    def bank_file(self, request):
        form = BankFileForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                content = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "is not a text file (UTF-8)")
            else:
                try:
                    result = bank_file_import(
                        actor=Actor.staff(request.user),
                        format=form.cleaned_data["format"] or None,
                        filename=upload.name,
                        content=content,
                    )
                except BillingError as exc:
                    form.add_error("file", exc.message)
        return self._page(
            request, "bank_file", "Import a bank file (lockbox or BAI2)", form=form, result=result
        )

    def exceptions(self, request):
        actor = Actor.staff(request.user)
        if request.method == "POST":
            item_id = request.POST.get("item")
            try:
                if request.POST.get("action") == "unapplied":
                    exception_unapply(actor=actor, item_id=clean_id(item_id, "item"))
                    messages.success(request, "Held as unapplied cash.")
                else:
                    item = exception_resolve(
                        actor=actor,
                        item_id=clean_id(item_id, "item"),
                        customer_id=clean_id(
                            request.POST.get("customer"), "customer", required=False
                        ),
                        account_number=request.POST.get("account_number", ""),
                        invoice_number=request.POST.get("invoice_number", ""),
                        payment_id=clean_id(request.POST.get("payment"), "payment", required=False),
                    )
                    messages.success(request, f"Posted: {item.note}")
            except BillingError as exc:
                messages.error(request, exc.message)
            return redirect("admin:deposits_exceptions")
        return self._page(
            request, "exceptions", "Deposit exceptions queue", items=list(exceptions_queue())
        )

    def report(self, request):
        today = clock.today()
        try:
            date_from = dt.date.fromisoformat(request.GET.get("from", ""))
        except ValueError:
            date_from = today.replace(day=1)
        try:
            date_to = dt.date.fromisoformat(request.GET.get("to", ""))
        except ValueError:
            date_to = today
        lines = deposit_report(date_from=date_from, date_to=date_to)
        if request.GET.get("csv"):
            header = [
                "deposit_date",
                "reference",
                "source",
                "checks",
                "total",
                "returned",
                "returned_total",
                "unapplied",
                "waiting",
            ]
            rows = (
                [
                    line.batch.deposit_date.isoformat(),
                    line.batch.reference,
                    line.batch.source,
                    line.count,
                    line.total.as_string(),
                    line.returned,
                    line.returned_total.as_string(),
                    line.unapplied.as_string(),
                    line.waiting,
                ]
                for line in lines
            )
            return csv_response(f"deposits-{date_from}-{date_to}", [header, *rows])
        return self._page(
            request,
            "report",
            "Deposit report",
            lines=lines,
            date_from=date_from,
            date_to=date_to,
        )


@admin.register(BankFile)
class BankFileAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "format", "filename", "imported_by", "summary_display"]
    list_filter = ["format"]
    exclude = ["content"]

    @admin.display(description="Result")
    def summary_display(self, obj):
        s = obj.summary or {}
        return format_html(
            "{} items: {} posted, {} to the queue, {} returned, {} already imported",
            s.get("items", 0),
            s.get("posted", 0),
            s.get("exceptions", 0),
            s.get("returned", 0),
            s.get("already_imported", 0),
        )


@admin.register(DepositItem)
class DepositItemAdmin(ReadOnlyAdmin):
    list_display = [
        "batch",
        "position",
        "kind",
        "state",
        "amount_display",
        "check_number",
        "customer",
        "invoice",
        "match",
        "confidence",
        "note",
    ]
    list_filter = ["state", "kind", "match", "batch__source"]
    search_fields = ["check_number", "bank_reference", "customer__name", "payer_name"]
    list_select_related = ["batch", "customer", "invoice"]
    amount_display = money_column("amount_minor", "Amount")
