"""The message log: what each customer was sent (text, HTML, PDF), previews of any
notice for any invoice, and resends."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from isocnet.backoffice.admin.base import ReadOnlyAdmin
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.documents.models import StoredDocument
from isocnet.invoicing.models import (
    Invoice,
)
from isocnet.notifications.previews import notice_preview, previewable
from isocnet.notifications.services import message_resend
from isocnet.outbox.models import MessageKind, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "customer",
        "invoice",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["kind", "status"]
    search_fields = [
        "customer__name",
        "customer__account_number",
        "invoice__number",
        "dedupe_key",
        "to_email",
    ]
    list_select_related = ["customer", "invoice"]
    fields = [
        "kind",
        "status",
        "customer",
        "invoice",
        "to_email",
        "cc_emails",
        "subject",
        "created_at",
        "rendered_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "last_error",
        "message_id",
        "attachment_link",
        "body_text_display",
        "body_html_display",
        "resend_of",
    ]
    readonly_fields = fields
    actions = ["resend"]

    def has_change_permission(self, request, obj=None):
        return (
            False
            if obj is not None and request.method == "POST"
            else super().has_view_permission(request, obj)
        )

    @admin.display(description="Text")
    def body_text_display(self, obj):
        return format_html(
            '<pre style="white-space:pre-wrap;max-width:60em">{}</pre>', obj.body_text
        )

    @admin.display(description="HTML")
    def body_html_display(self, obj):
        if not obj.body_html:
            return "—"
        return format_html(
            '<iframe sandbox="" style="width:100%;max-width:700px;height:600px;border:1px solid #ccc" '
            'srcdoc="{}"></iframe>',
            obj.body_html,
        )

    @admin.display(description="Attachment")
    def attachment_link(self, obj):
        if not obj.document_id:
            return "—"
        url = reverse("admin:documents_download", args=[obj.document_id])
        return format_html(
            '<a href="{}">{}</a> (SHA-256 {})', url, obj.document.filename, obj.document.sha256
        )

    @admin.action(description="Send the selected messages again")
    def resend(self, request, queryset):
        actor = Actor.staff(request.user)
        done = 0
        for message in queryset:
            try:
                message_resend(actor=actor, message_id=message.pk)
                done += 1
            except BillingError as exc:
                self.message_user(request, f"{message}: {exc.message}", level="error")
        self.message_user(request, f"{done} message(s) queued again.")

    def get_urls(self):
        return [
            path(
                "document/<int:doc_id>/",
                self.admin_site.admin_view(self.download),
                name="documents_download",
            ),
            path(
                "preview/<int:invoice_id>/<str:kind>/",
                self.admin_site.admin_view(self.preview),
                name="notifications_preview",
            ),
            *super().get_urls(),
        ]

    def download(self, request, doc_id):
        doc = StoredDocument.objects.filter(pk=doc_id).first()
        if doc is None:
            raise Http404("no such document")
        response = HttpResponse(bytes(doc.content), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{doc.filename}"'
        return response

    def preview(self, request, invoice_id, kind):
        invoice = Invoice.objects.filter(pk=invoice_id).exclude(status="draft").first()
        rendered = notice_preview(kind, invoice) if invoice is not None else None
        if rendered is None:
            raise Http404("no such invoice, or nothing this notice could speak of")
        if request.GET.get("pdf") and rendered.attachment:
            return HttpResponse(rendered.attachment[1], content_type="application/pdf")
        return TemplateResponse(
            request,
            "backoffice/notice_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Preview: {rendered.subject}",
                "invoice": invoice,
                "rendered": rendered,
                "kinds": [MessageKind(k) for k in previewable(invoice)],
            },
        )
