"""Two-factor sign-in for staff: a TOTP authenticator app (RFC 6238) and
ten single-use recovery codes, on django-otp's devices (its TOTP and
static devices, verification with exponential throttling, the verified
session). Policy and audit are ours:

- ``STAFF_TWO_FACTOR=required`` (the default): billing managers and
  superusers must enrol before the back office opens; clerks and support
  agents may. ``optional``: anyone may, nobody must (the demo).
- Anyone enrolled must give a code after every password sign-in.
- Every enrolment, reset, use of a recovery code and failed code is an
  audit row (``staff.2fa.*``), in the same transaction as the change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, Forbidden, InvalidInput
from isocnet.core.permissions import MANAGER, role_of
from isocnet.core.validation import clean_line

RECOVERY_CODES = 10
APP, RECOVERY = "authenticator", "recovery"


def required_for(user) -> bool:
    """Whether this staff user must use two-factor sign-in."""
    if settings.STAFF_TWO_FACTOR != "required":
        return False
    return user.is_superuser or role_of(user) == MANAGER


def enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def enrolment_start(*, user) -> TOTPDevice:
    """The authenticator to add (unconfirmed until a code from it is
    given): the same one on every visit until it is confirmed."""
    if enrolled(user):
        raise Conflict("two-factor sign-in is already set up", field="device")
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=APP).first()
    return device or TOTPDevice.objects.create(user=user, name=APP, confirmed=False)


def enrolment_confirm(*, actor: Actor, user, code: str) -> list[str]:
    """Confirm the new authenticator with a code from it; returns the
    recovery codes (shown once, stored only as django-otp's tokens)."""
    code = _clean_code(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False, name=APP)
            .first()
        )
        if device is None:
            raise Conflict("start the set-up again", field="device")
        ok = device.verify_token(code)  # a wrong one is counted (throttle), and committed
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(user)
            audit_record(
                actor=actor,
                action="staff.2fa.enrolled",
                obj=user,
                after={"device": APP, "recovery_codes": RECOVERY_CODES},
            )
        else:
            _failure(actor, user, "enrolment")
    if not ok:
        raise InvalidInput("that code is not right; check the app and try again", field="code")
    return codes


def code_verify(*, actor: Actor, user, code: str):
    """The device a sign-in code (from the app, or a recovery code) belongs
    to, or InvalidInput. Throttled by django-otp: after each wrong code the
    next try waits 1, 2, 4, 8 … seconds. The failure and its count are
    committed before the refusal is raised."""
    code = (code or "").strip().replace(" ", "").replace("-", "")
    if not code or len(code) > 16 or not code.isalnum():
        raise InvalidInput("enter the 6-digit code from your app, or a recovery code", field="code")
    refusal = "that code is not right"
    with transaction.atomic():
        app = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if app is None:
            raise Conflict("two-factor sign-in is not set up", field="device")
        allowed, wait = app.verify_is_allowed()
        if not allowed:
            seconds = max(1, int((wait["locked_until"] - _now()).total_seconds()) + 1)
            refusal = f"too many wrong codes: wait {seconds} seconds before the next try"
            _failure(actor, user, "throttled")
        elif code.isdigit() and len(code) == 6:
            if app.verify_token(code):  # counts a wrong code itself
                return app
            _failure(actor, user, "wrong code")
        else:
            recovery = StaticDevice.objects.filter(user=user, name=RECOVERY).first()
            if recovery is not None and recovery.verify_token(code.lower()):
                audit_record(
                    actor=actor,
                    action="staff.2fa.recovery_used",
                    obj=user,
                    after={"left": recovery.token_set.count()},
                )
                return recovery
            app.throttle_increment()  # a wrong recovery code counts as a wrong code
            _failure(actor, user, "wrong recovery code")
    raise InvalidInput(refusal, field="code")


def recovery_codes_renew(*, actor: Actor, user) -> list[str]:
    """Ten new recovery codes in place of the old ones: only for a session
    that gave its second factor (``user.is_verified()``, set by django-otp's
    middleware) — new codes would otherwise be a way around it."""
    if not getattr(user, "is_verified", lambda: False)():
        raise Forbidden("give your two-factor code first", field="code")
    with transaction.atomic():
        if not enrolled(user):
            raise Conflict("two-factor sign-in is not set up", field="device")
        codes = _new_recovery_codes(user)
        audit_record(actor=actor, action="staff.2fa.recovery_renewed", obj=user, after={})
    return codes


def two_factor_reset(*, actor: Actor, user, reason: str) -> None:
    """Remove a staff member's authenticator and recovery codes (a lost
    phone): they enrol again at their next sign-in. Billing managers only,
    and never on themselves (that would need no second factor at all)."""

    if actor.role != MANAGER and actor.role is not None:
        raise Forbidden("only a billing manager may reset two-factor sign-in")
    if actor.user_id == user.pk:
        raise Forbidden("ask another billing manager to reset your two-factor sign-in")
    reason = clean_line(reason, "reason", max_length=300)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        StaticDevice.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action="staff.2fa.reset",
            obj=user,
            after={"reason": reason, "devices_removed": removed},
        )


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user, name=RECOVERY).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _clean_code(code) -> str:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        raise InvalidInput("enter the 6-digit code your app shows", field="code")
    return code


def _failure(actor: Actor, user, why: str) -> None:
    audit_record(actor=actor, action="staff.2fa.failed", obj=user, after={"why": why})


def _now():
    from django.utils import timezone

    return timezone.now()
