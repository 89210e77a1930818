"""The outbox's rows. They belong to the ``notifications`` app (label,
tables ``notifications_outboxmessage``, migrations in
isocnet/notifications/migrations), which registers them by importing this
module; they live here so that the domain, below the notifications floor,
can queue notices."""

from django.db import models


class MessageKind(models.TextChoices):
    INVOICE = "invoice", "Customer Invoice"
    REMINDER = "reminder", "Payment reminder"
    OVERDUE_1 = "overdue_1", "First overdue notice"
    OVERDUE_2 = "overdue_2", "Second overdue notice"
    OVERDUE_3 = "overdue_3", "Third overdue notice"
    SUSPENSION = "suspension", "Suspension notice"
    RECEIPT = "receipt", "Invoice Payment Confirmation"
    PAYMENT_FAILED = "payment_failed", "Card payment failed"
    CARD_NEEDED = "card_needed", "Card needed for auto debit"
    CREDIT_NOTE = "credit_note", "Credit note"
    PAYMENT_RETURNED = "payment_returned", "Returned payment"
    REFUND = "refund", "Refund issued"
    PROMISE_MADE = "promise_made", "Promise to pay confirmed"
    PROMISE_BROKEN = "promise_broken", "Promise to pay missed"
    PLAN_MADE = "plan_made", "Payment plan confirmed"
    PLAN_BROKEN = "plan_broken", "Payment plan missed"
    WELCOME = "welcome", "Welcome to the client portal"
    PASSWORD_RESET = "password_reset", "Password reset"
    EMAIL_CHANGE_CONFIRM = "email_change", "Confirm a new billing email"
    EMAIL_CHANGED = "email_changed", "Billing email changed"


# Account notices: about the login, not an invoice; sent to one address
# (never the billing cc list, since they carry sign-in links).
ACCOUNT_KINDS = frozenset(
    {
        MessageKind.WELCOME,
        MessageKind.PASSWORD_RESET,
        MessageKind.EMAIL_CHANGE_CONFIRM,
        MessageKind.EMAIL_CHANGED,
    }
)


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """A customer notice, recorded in the business transaction that causes
    it and delivered afterwards. ``dedupe_key`` makes each notice exist once
    ("invoice:42", "overdue_1:42"), however often the run repeats."""

    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    dedupe_key = models.CharField(max_length=120, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="messages"
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Rendered once, on the first delivery attempt, and kept: retries and
    # resends send exactly this, and staff see exactly what went out.
    to_email = models.CharField(max_length=400, blank=True)
    cc_emails = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    document = models.ForeignKey(
        "documents.StoredDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    rendered_at = models.DateTimeField(null=True, blank=True)
    resend_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="resends"
    )

    class Meta:
        app_label = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.customer} ({self.status})"
