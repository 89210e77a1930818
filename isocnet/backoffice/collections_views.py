"""The collections policy page: the steps as a table, and the form a
billing manager changes it with (collections.policy.policy_update)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from isocnet.backoffice.workqueue import overdue_accounts, tasks
from isocnet.catalog.models import TaxRate
from isocnet.collections.models import LateFeeOn, LateFeeRepeat
from isocnet.collections.policy import current, policy_update
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError


def _days_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise forms.ValidationError("whole numbers of days, separated by commas") from None


class PolicyForm(forms.Form):
    reminder_days_before_due = forms.IntegerField(min_value=0, max_value=365)
    notice_days = forms.CharField(help_text="Three increasing days after due, e.g. 1, 7, 14")
    suspend_after_days = forms.IntegerField(min_value=0, max_value=365)
    suspension_warning_days = forms.IntegerField(min_value=0, max_value=365)
    card_retry_days = forms.CharField(help_text="Days between card retries, e.g. 3, 5, 7")
    late_fee_flat = forms.CharField(help_text="e.g. 5.00 (0: none)")
    late_fee_percent = forms.CharField(help_text="% of the overdue balance (0: none)")
    late_fee_min = forms.CharField(help_text="0: no minimum")
    late_fee_max = forms.CharField(help_text="0: no maximum")
    late_fee_cap_percent = forms.CharField(help_text="a state's cap, % of the balance (0: none)")
    late_fee_grace_days = forms.IntegerField(min_value=0, max_value=365)
    late_fee_repeat = forms.ChoiceField(choices=LateFeeRepeat.choices)
    late_fee_on = forms.ChoiceField(choices=LateFeeOn.choices)
    late_fee_tax_rate = forms.ModelChoiceField(
        queryset=TaxRate.objects.filter(active=True), required=False, empty_label="not taxed"
    )
    promise_max_days = forms.IntegerField(min_value=1, max_value=365)
    portal_promises_max = forms.IntegerField(
        min_value=0, max_value=365, help_text="promises a customer may make in the portal…"
    )
    portal_promises_days = forms.IntegerField(
        min_value=1, max_value=365, help_text="…in any this many days"
    )

    def clean_notice_days(self):
        return _days_list(self.cleaned_data["notice_days"])

    def clean_card_retry_days(self):
        return _days_list(self.cleaned_data["card_retry_days"])


def _initial(policy) -> dict:
    return {
        "reminder_days_before_due": policy.reminder_days_before_due,
        "notice_days": ", ".join(str(d) for d in policy.notice_days),
        "suspend_after_days": policy.suspend_after_days,
        "suspension_warning_days": policy.suspension_warning_days,
        "card_retry_days": ", ".join(str(d) for d in policy.card_retry_days),
        "late_fee_flat": f"{policy.late_fee_flat:f}",
        "late_fee_percent": f"{policy.late_fee_percent:f}",
        "late_fee_min": f"{policy.late_fee_min:f}",
        "late_fee_max": f"{policy.late_fee_max:f}",
        "late_fee_cap_percent": f"{policy.late_fee_cap_percent:f}",
        "late_fee_grace_days": policy.late_fee_grace_days,
        "late_fee_repeat": policy.late_fee_repeat,
        "late_fee_on": policy.late_fee_on,
        "late_fee_tax_rate": policy.late_fee_tax_rate_id,
        "promise_max_days": policy.promise_max_days,
        "portal_promises_max": policy.portal_promises_max,
        "portal_promises_days": policy.portal_promises_days,
    }


def policy_page(request):
    policy = current()
    form = PolicyForm(request.POST or None, initial=_initial(policy))
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        rate = changes.pop("late_fee_tax_rate")
        changes["late_fee_tax_rate_id"] = rate.pk if rate else None
        try:
            policy_update(actor=Actor.staff(request.user), **changes)
        except BillingError as exc:
            field = exc.field if exc.field in form.fields else None
            if field is None and exc.field == "late_fee_tax_rate_id":
                field = "late_fee_tax_rate"
            form.add_error(field, exc.message)
        else:
            messages.success(
                request, "The collections policy is saved; the next daily run follows it."
            )
            return redirect("backoffice-collections-policy")
    return TemplateResponse(
        request,
        "backoffice/collections_policy.html",
        {
            **admin.site.each_context(request),
            "title": "Collections policy",
            "steps": policy.steps(),
            "form": form,
        },
    )


def index_context(request) -> dict:
    """The home page's work queue (admin.site.index's extra context)."""
    return {"work": {"tasks": tasks(), "overdue": overdue_accounts()}}
