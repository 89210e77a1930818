"""Portal logins: one per account, named by the billing email; created with
the welcome email (a set-password link) when an account opens. Below
customers.services (which calls portal_welcome_locked on create) and
customers.portal_access (invitations, resets, email changes)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict
from isocnet.customers.models import Customer, PortalUser
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.outbox.queue import notice_queue


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
