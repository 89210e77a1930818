"""The back office's two-factor pages (policy and services: two_factor.py):
set up an authenticator (QR code), give a code after signing in, see new
recovery codes once. ``TwoFactorMiddleware`` sends staff there before any
other back-office page."""

from __future__ import annotations

import segno
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from isocnet.backoffice import two_factor
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError

PREFIX = "/admin/2fa/"
# Open before the second factor is given: signing in and out, and the two
# pages that take the second factor. Every other 2FA page (new recovery
# codes) needs a verified session like the rest of the back office.
OPEN = (
    "/admin/login/",
    "/admin/logout/",
    f"{PREFIX}verify/",
    f"{PREFIX}enrol/",
    "/admin/jsi18n/",
)


def _next(request) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return "/admin/"


def _page(request, template: str, **context):
    return TemplateResponse(
        request,
        f"backoffice/two_factor/{template}",
        {
            **admin.site.each_context(request),
            "next": _next(request),
            "required": two_factor.required_for(request.user),
            **context,
        },
    )


@require_http_methods(["GET", "POST"])
def enrol(request):
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect(f"/admin/login/?next={PREFIX}enrol/")
    if two_factor.enrolled(user):
        return redirect(f"{PREFIX}verify/?next={_next(request)}")
    device = two_factor.enrolment_start(user=user)
    error = ""
    if request.method == "POST":
        try:
            codes = two_factor.enrolment_confirm(
                actor=Actor.staff(user), user=user, code=request.POST.get("code", "")
            )
        except BillingError as exc:
            error = exc.message
        else:
            otp_login(request, device)
            return _page(request, "recovery.html", title="Your recovery codes", codes=codes)
    qr = segno.make(device.config_url, error="m")
    return _page(
        request,
        "enrol.html",
        title="Set up two-factor sign-in",
        qr_svg=qr.svg_inline(scale=5, dark="#1d2733", title="Scan with your authenticator app"),
        secret=_grouped(device.config_url),
        error=error,
    )


@require_http_methods(["GET", "POST"])
def verify(request):
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect("/admin/login/")
    if not two_factor.enrolled(user):
        return redirect(f"{PREFIX}enrol/?next={_next(request)}")
    if getattr(user, "is_verified", lambda: False)():
        return redirect(_next(request))
    error = ""
    if request.method == "POST":
        try:
            device = two_factor.code_verify(
                actor=Actor.staff(user), user=user, code=request.POST.get("code", "")
            )
        except BillingError as exc:
            error = exc.message
        else:
            otp_login(request, device)
            if device.name == two_factor.RECOVERY:
                messages.warning(
                    request,
                    "You signed in with a recovery code; each works once. "
                    "New codes: Two-factor sign-in → New recovery codes.",
                )
            return redirect(_next(request))
    return _page(request, "verify.html", title="Two-factor sign-in", error=error)


@require_http_methods(["POST"])
def recovery_renew(request):
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect("/admin/login/")
    try:
        codes = two_factor.recovery_codes_renew(actor=Actor.staff(user), user=user)
    except BillingError as exc:
        messages.error(request, exc.message)
        return redirect("/admin/")
    return _page(request, "recovery.html", title="Your new recovery codes", codes=codes)


def _grouped(config_url: str) -> str:
    """The secret from the otpauth:// URL, in groups of four for typing."""
    from urllib.parse import parse_qs, urlsplit

    secret = parse_qs(urlsplit(config_url).query)["secret"][0]
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class TwoFactorMiddleware:
    """Before any back-office page: a staff member who is enrolled gives a
    code after signing in; one who must use two-factor sign-in (a billing
    manager or superuser, STAFF_TWO_FACTOR=required) and is not enrolled
    sets it up first. The sign-in, sign-out and these pages stay open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith("/admin/") and not path.startswith(OPEN):
            user = request.user
            if user.is_authenticated and user.is_staff and not user.is_verified():
                if two_factor.enrolled(user):
                    return redirect(f"{PREFIX}verify/?next={path}")
                if two_factor.required_for(user):
                    return redirect(f"{PREFIX}enrol/?next={path}")
        return self.get_response(request)
