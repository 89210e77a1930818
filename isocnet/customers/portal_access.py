"""Client-portal logins: invitations, password-reset requests and billing
email changes. The emails themselves go through the outbox like every
other notice; their links carry Django's single-use tokens (invitation,
reset) or a signed, expiring token (email change)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.permissions import require
from isocnet.core.validation import clean_email
from isocnet.customers.logins import login_name, portal_user_of, portal_welcome_locked
from isocnet.customers.models import Customer, CustomerStatus, PortalUser
from isocnet.customers.services import customer_lock, customer_update
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.outbox.queue import notice_queue

EMAIL_CHANGE_SALT = "isocnet.portal.email-change"


def portal_invite(*, actor: Actor, customer_id: int) -> PortalUser:
    """Staff invite a customer to the portal (again, if they lost the email)."""
    require(actor, "notice.send")

    with transaction.atomic():
        customer = customer_lock(customer_id)
        if customer.status == CustomerStatus.CLOSED:
            raise Conflict("the account is closed", field="customer")
        portal_welcome_locked(actor=actor, customer=customer, required=True)
        return PortalUser.objects.select_related("user").get(customer=customer)


def password_reset_request(*, email: str, ip: str = "") -> None:
    """Queue a reset link for the login with this email, if there is one.
    The caller answers the same way either way (no account enumeration).
    At most PORTAL_RESET_EMAILS_PER_HOUR emails an hour per login."""
    login = portal_user_of(email) if isinstance(email, str) else None
    if login is None:
        return
    since = clock.now() - dt.timedelta(hours=1)
    with transaction.atomic():
        customer_lock(login.customer_id)
        recent = OutboxMessage.objects.filter(
            customer_id=login.customer_id,
            kind=MessageKind.PASSWORD_RESET,
            created_at__gte=since,
        ).count()
        if recent >= settings.PORTAL_RESET_EMAILS_PER_HOUR:
            return
        notice_queue(
            kind=MessageKind.PASSWORD_RESET,
            key=f"password_reset:{login.user_id}:{secrets.token_hex(8)}",
            customer_id=login.customer_id,
            context={"user": login.user_id, "ip": ip},
        )
        audit_record(
            actor=Actor(f"customer:{login.customer.account_number}", login.user_id),
            action="portal.password_reset_requested",
            obj=login,
            customer_id=login.customer_id,
            after={"ip": ip},
        )


def email_change_request(*, actor: Actor, customer_id: int, new_email: str) -> None:
    """Ask the new address to confirm; the change waits for the click."""

    new_email = clean_email(new_email, "email")
    with transaction.atomic():
        customer = customer_lock(customer_id)
        if login_name(new_email) == login_name(customer.email):
            raise InvalidInput("is already your billing email", field="email")
        if (
            get_user_model()
            .objects.filter(username=login_name(new_email))
            .exclude(portal__customer=customer)
            .exists()
        ):
            raise InvalidInput("is used by another account; use a different address", field="email")
        token = signing.dumps(
            {"c": customer.pk, "old": customer.email, "new": new_email}, salt=EMAIL_CHANGE_SALT
        )
        notice_queue(
            kind=MessageKind.EMAIL_CHANGE_CONFIRM,
            key=f"email_change:{customer.pk}:{secrets.token_hex(8)}",
            customer_id=customer.pk,
            context={"to": new_email, "token": token},
        )
        audit_record(
            actor=actor,
            action="customer.email_change_requested",
            obj=customer,
            customer_id=customer.pk,
            before={"email": customer.email},
            after={"email": new_email, "confirmed": False},
        )


def email_change_confirm(*, actor: Actor | None, token: str) -> Customer:
    """Apply a confirmed email change once; tell the old address."""

    try:
        data = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_LINK_DAYS * 86400
        )
    except signing.SignatureExpired:
        raise InvalidInput("this confirmation link has expired; ask again", field="token") from None
    except signing.BadSignature:
        raise InvalidInput("this confirmation link is not valid", field="token") from None
    with transaction.atomic():
        customer = customer_lock(data["c"])
        if customer.email != data["old"]:
            raise InvalidInput("this confirmation link has already been used", field="token")
        actor = actor or Actor(f"customer:{customer.account_number}")
        customer = customer_update(
            actor=actor, customer_id=customer.pk, changes={"email": data["new"]}
        )
        login = PortalUser.objects.filter(customer=customer).select_related("user").first()
        if login is not None and login.user.username == login_name(data["old"]):
            login.user.username = login_name(data["new"])
            login.user.email = data["new"]
            login.user.save(update_fields=["username", "email"])
        notice_queue(
            kind=MessageKind.EMAIL_CHANGED,
            key=f"email_changed:{customer.pk}:{secrets.token_hex(8)}",
            customer_id=customer.pk,
            context={"to": data["old"], "old": data["old"], "new": data["new"]},
        )
    return customer


def contact_update(*, actor: Actor, customer_id: int, changes: dict, email: str) -> bool:
    """The customer's own contact form: the changes and, when the billing
    email differs, the request to confirm the new one, all or nothing.
    Returns True when a confirmation email was queued."""

    with transaction.atomic():
        customer = customer_update(actor=actor, customer_id=customer_id, changes=changes)
        if login_name(email) == login_name(customer.email):
            return False
        email_change_request(actor=actor, customer_id=customer_id, new_email=email)
        return True
