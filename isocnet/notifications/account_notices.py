"""Account notices: the portal invitation, password reset and billing-email
change. Each goes to one address only, never the billing cc list."""

from __future__ import annotations

from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from isocnet.notifications.message import Rendered, tidy
from isocnet.outbox.models import MessageKind, OutboxMessage

SUBJECTS = {
    MessageKind.WELCOME: "Welcome to the {company} client portal",
    MessageKind.PASSWORD_RESET: "Reset your {company} client portal password",
    MessageKind.EMAIL_CHANGE_CONFIRM: "Confirm your new billing email address",
    MessageKind.EMAIL_CHANGED: "Your billing email address was changed",
}


def _set_password_link(user_id: int, *, welcome: bool) -> str:
    """Django's single-use token: it dies when the password is set, and
    after PASSWORD_RESET_TIMEOUT."""
    user = get_user_model().objects.get(pk=user_id)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    kind = "welcome" if welcome else "reset"
    return f"{settings.PORTAL_URL}/password/{kind}/{uid}/{token}/"


def render_account(message: OutboxMessage):

    customer = message.customer
    ctx = message.context or {}
    words = {
        "name": customer.name,
        "company": settings.COMPANY_NAME,
        "company_email": settings.COMPANY_EMAIL,
        "company_phone": settings.COMPANY_PHONE,
        "portal_url": settings.PORTAL_URL + "/",
        "account_number": customer.account_number,
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    subject = SUBJECTS[message.kind].format(**words)
    to = customer.email
    if message.kind == MessageKind.WELCOME:
        user = get_user_model().objects.get(pk=ctx["user"])
        to = user.email
        words.update(
            opening=f"Your account {customer.account_number} now has access to our client portal, where you "
            "can pay your bill, review your invoices and receipts, and update your contact information.",
            action="Set your password",
            link=_set_password_link(user.pk, welcome=True),
            after=f"Your login is {user.username}. The link works once and for {words['days']} days; "
            f"after that, use “Forgot your password?” at {words['portal_url']}",
        )
    elif message.kind == MessageKind.PASSWORD_RESET:
        user = get_user_model().objects.get(pk=ctx["user"])
        to = user.email
        words.update(
            opening="We received a request to reset the password of your client portal login "
            f"{user.username}.",
            action="Choose a new password",
            link=_set_password_link(user.pk, welcome=False),
            after=f"The link works once and for {words['days']} days. If you did not ask for this, "
            "ignore this email: your password stays as it is.",
        )
    elif message.kind == MessageKind.EMAIL_CHANGE_CONFIRM:
        to = ctx["to"]
        words.update(
            opening=f"Please confirm that {ctx['to']} should receive the invoices and notices of "
            f"account {customer.account_number}.",
            action="Confirm this email address",
            link=f"{settings.PORTAL_URL}/contact/email/{ctx['token']}/",
            after=f"The link works for {settings.EMAIL_CHANGE_LINK_DAYS} days. Until you confirm, we "
            "keep sending to the current address.",
        )
    else:  # EMAIL_CHANGED, to the old address
        to = ctx["to"]
        words.update(
            opening=f"The billing email address of account {customer.account_number} was changed from "
            f"{ctx['old']} to {ctx['new']}. Invoices and notices now go to the new address.",
            action="",
            link="",
            after=f"If you did not make this change, please call us at {settings.COMPANY_PHONE} or "
            f"write to {settings.COMPANY_EMAIL} right away.",
        )
    words["subject"] = subject
    return Rendered(
        subject=subject,
        text=tidy(render_to_string("notifications/_account.txt", words)),
        html=render_to_string("notifications/_account.html", words),
        to=formataddr((customer.name, to)),
        cc=[],
        attachment=None,
    )
