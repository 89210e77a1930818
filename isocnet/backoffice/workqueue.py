"""The billing clerk's day: what needs doing, each a count, a filtered
list and the action beside it (the back office's home page). Reads only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import F, Max, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from isocnet.collections.models import Dispute, Promise, PromiseStatus
from isocnet.core import clock
from isocnet.core.models import Job, JobStatus
from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.deposits.models import ItemState
from isocnet.deposits.queue import exceptions_queue
from isocnet.invoicing.models import OPEN_STATUSES
from isocnet.ledger.sums import account_credit_column
from isocnet.network.models import DriftCheck, NasRequest, NasRequestStatus
from isocnet.outbox.models import MessageKind, MessageStatus, OutboxMessage
from isocnet.payments.models import CallStatus, GatewayCall, Payment
from isocnet.webhooks.models import WebhookEndpoint

# The notices that tell where an overdue account stands.
DUNNING_KINDS = [
    MessageKind.REMINDER,
    MessageKind.OVERDUE_1,
    MessageKind.OVERDUE_2,
    MessageKind.OVERDUE_3,
    MessageKind.SUSPENSION,
    MessageKind.PROMISE_BROKEN,
]


def with_overdue(customers, today: dt.date):
    """Customers with what they owe on open invoices (``open_balance``),
    their account credit (``credit``, the ledger's sum), the balance the
    customer's page shows (``balance``: owed less credit) and the due date
    of their oldest overdue invoice (``oldest_due``; None: not overdue): the
    work queue's and the customer list's columns."""
    open_ = Q(invoices__status__in=OPEN_STATUSES)
    return customers.annotate(
        open_balance=Coalesce(Sum("invoices__balance_minor", filter=open_), 0),
        credit=account_credit_column(),
        balance=F("open_balance") - F("credit"),
        oldest_due=Min("invoices__due_date", filter=open_ & Q(invoices__due_date__lt=today)),
    )


@dataclass
class Task:
    label: str
    count: int
    url: str
    action: str  # what the clerk does about it


@dataclass
class OverdueAccount:
    customer: Customer
    balance: Money
    days_overdue: int
    last_notice: str
    promise: str
    url: str


def _list(name: str, **query) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def tasks(today: dt.date | None = None) -> list[Task]:
    today = today or clock.today()
    week_ago = today - dt.timedelta(days=7)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    overdue = (
        Customer.objects.filter(invoices__status__in=OPEN_STATUSES, invoices__due_date__lt=today)
        .distinct()
        .count()
    )
    last_drift = DriftCheck.objects.first()
    return [
        Task(
            "Overdue accounts",
            overdue,
            _list("customers_customer", overdue="any"),
            "call, record a payment or a promise to pay",
        ),
        Task(
            "Promises due today",
            Promise.objects.filter(status=PromiseStatus.ACTIVE, promised_on=today).count(),
            _list(
                "collections_promise",
                status__exact="active",
                promised_on__gte=today.isoformat(),
                promised_on__lt=tomorrow,
            ),
            "check the payment arrived",
        ),
        Task(
            "Promises broken this week",
            Promise.objects.filter(
                status=PromiseStatus.BROKEN, closed_at__date__gte=week_ago
            ).count(),
            _list("collections_promise", status__exact="broken"),
            "call the customer",
        ),
        Task(
            "Failed card charges this week",
            GatewayCall.objects.filter(
                kind=GatewayCall.Kind.CHARGE,
                status__in=[CallStatus.DECLINED, CallStatus.FAILED],
                created_at__date__gte=week_ago,
            ).count(),
            _list("payments_gatewaycall", status__exact="declined"),
            "ask for a new card or another payment",
        ),
        Task(
            "Card charges in doubt",
            GatewayCall.objects.filter(status=CallStatus.UNKNOWN).count(),
            _list("payments_gatewaycall", status__exact="unknown"),
            "reconciliation settles them; look if they stay",
        ),
        Task(
            "Checks received today (to deposit)",
            # recorded by hand: a check posted from a deposit batch or a
            # bank file is in a deposit already
            Payment.objects.filter(
                method="check", received_on=today, deposit_item__isnull=True
            ).count(),
            _list(
                "payments_payment",
                method__exact="check",
                deposited="no",
                received_on__gte=today.isoformat(),
                received_on__lt=tomorrow,
            ),
            "deposit them",
        ),
        Task(
            "Open disputes",
            Dispute.objects.filter(resolved_at__isnull=True).count(),
            _list("collections_dispute", resolved_at__isempty="1"),
            "resolve (a credit note, or explain the charge)",
        ),
        Task(
            "Checks waiting in the deposit exceptions queue",
            exceptions_queue().filter(state=ItemState.EXCEPTION).count(),
            reverse("admin:deposits_exceptions"),
            "name the account, or hold as unapplied cash",
        ),
        Task(
            "Network changes not applied (RADIUS, NAS)",
            Job.objects.filter(status=JobStatus.FAILED, kind__startswith="network.").count(),
            _list("core_job", status__exact="failed"),
            "see the error, fix the RADIUS database or NAS, then retry",
        ),
        Task(
            "Network drift at the last check",
            last_drift.drifts if last_drift else 0,
            reverse("admin:network_drift"),
            "look at the drift check, repair it",
        ),
        Task(
            "NAS requests not acknowledged",
            NasRequest.objects.filter(
                status__in=[NasRequestStatus.NAK, NasRequestStatus.NO_ANSWER]
            ).count(),
            _list("network_nasrequest", status__in="nak,no_answer"),
            "the session may still be open: check the NAS",
        ),
        Task(
            "Webhook endpoints disabled",
            WebhookEndpoint.objects.filter(active=False).count(),
            _list("webhooks_webhookendpoint", active__exact="0"),
            "fix the receiving system, enable the endpoint, replay what it missed",
        ),
        Task(
            "Emails that could not be delivered",
            OutboxMessage.objects.filter(status=MessageStatus.FAILED).count(),
            _list("notifications_outboxmessage", status__exact="failed"),
            "correct the address and send again",
        ),
    ]


def overdue_accounts(today: dt.date | None = None, *, limit: int = 15) -> list[OverdueAccount]:
    """The most overdue accounts first: balance, days overdue, the last
    notice and any promise."""
    today = today or clock.today()
    rows = list(
        with_overdue(Customer.objects.all(), today)
        .filter(oldest_due__isnull=False)
        .order_by("oldest_due", "pk")[:limit]
    )
    ids = [c.pk for c in rows]
    notices = dict(
        OutboxMessage.objects.filter(customer_id__in=ids, kind__in=DUNNING_KINDS)
        .values("customer_id")
        .annotate(last=Max("id"))
        .values_list("customer_id", "last")
    )
    last_kind = dict(
        OutboxMessage.objects.filter(pk__in=notices.values()).values_list("customer_id", "kind")
    )
    promises = {
        p.customer_id: p
        for p in Promise.objects.filter(customer_id__in=ids, status=PromiseStatus.ACTIVE)
    }
    out = []
    for c in rows:
        promise = promises.get(c.pk)
        out.append(
            OverdueAccount(
                customer=c,
                balance=Money.from_minor(c.balance or 0, c.currency),
                days_overdue=(today - c.oldest_due).days,
                last_notice=OutboxMessage(kind=last_kind[c.pk]).get_kind_display()
                if c.pk in last_kind
                else "—",
                promise=f"by {promise.promised_on}" if promise else "",
                url=reverse("admin:customers_customer_change", args=[c.pk]),
            )
        )
    return out
