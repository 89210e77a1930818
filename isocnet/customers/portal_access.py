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
from isocnet.customers.models import Customer, CustomerStatus, PortalUser
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.outbox.queue import notice_queue

EMAIL_CHANGE_SALT = "isocnet.portal.email-change"


def login_name(email: str) -> str:
    """The portal's username for an email address (case-insensitive)."""
    return email.strip().lower()


def portal_user_of(email: str) -> PortalUser | None:
    return (
        PortalUser.objects.select_related("user", "customer")
        .filter(user__username=login_name(email), user__is_active=True)
        .first()
    )


def portal_login_ensure(customer: Customer) -> tuple[PortalUser | None, str]:
    """The customer's portal login, created (without a password) if need be.
    Returns (login, "") or (None, reason) when the email already signs in to
    another account."""
    existing = PortalUser.objects.filter(customer=customer).select_related("user").first()
    if existing is not None:
        return existing, ""
    username = login_name(customer.email)
    if len(username) > 150:
        return None, "the email address is too long to sign in with (150 characters at most)"
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        return None, f"{customer.email} already signs in to another account"
    user = User(username=username, email=customer.email, first_name=customer.name[:150])
    user.set_unusable_password()
    user.save()
    return PortalUser.objects.create(user=user, customer=customer, created_at=clock.now()), ""


def portal_welcome_locked(*, actor: Actor, customer: Customer, required: bool) -> bool:
    """Create the login and queue the welcome email with its set-password
    link. The caller holds the customer lock. ``required``: raise when the
    login cannot be made (staff asked for it); otherwise skip quietly (a new
    customer whose email already has a login)."""
    login, reason = portal_login_ensure(customer)
    if login is None:
        if required:
            raise Conflict(reason, field="email")
        return False
    sent = OutboxMessage.objects.filter(customer=customer, kind=MessageKind.WELCOME).count()
    notice_queue(
        kind=MessageKind.WELCOME,
        key=f"welcome:{customer.pk}:{sent + 1}",
        customer_id=customer.pk,
        context={"user": login.user_id},
    )
    audit_record(
        actor=actor,
        action="portal.invite",
        obj=login,
        customer_id=customer.pk,
        after={"login": login.user.username, "invitation": sent + 1},
    )
    return True


def portal_invite(*, actor: Actor, customer_id: int) -> PortalUser:
    """Staff invite a customer to the portal (again, if they lost the email)."""
    require(actor, "notice.send")
    from isocnet.customers.services import customer_lock

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
        from isocnet.customers.services import customer_lock

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
    from isocnet.customers.services import customer_lock

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
    from isocnet.customers.services import customer_lock, customer_update

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
    from isocnet.customers.services import customer_update

    with transaction.atomic():
        customer = customer_update(actor=actor, customer_id=customer_id, changes=changes)
        if login_name(email) == login_name(customer.email):
            return False
        email_change_request(actor=actor, customer_id=customer_id, new_email=email)
        return True
