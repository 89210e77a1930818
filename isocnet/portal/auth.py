"""Login plumbing shared by the portal views and django-axes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm

from isocnet.customers.logins import login_name as _login_name


def clear_own_failures(sender, request, user, **kwargs) -> None:
    """On a successful sign-in (portal or back office), forget the failed
    attempts of this login only: attempts on other logins, even from the
    same address, still count towards their lockout and the address's."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=_login_name(user.get_username())).delete()


def login_name(request, credentials: dict | None) -> str:
    """django-axes: count failures per login, whatever its case."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return _login_name(str(raw))


class EmailLoginForm(AuthenticationForm):
    """Email and password. One answer for every failure, so the form never
    tells whether an address has a login."""

    error_messages = {
        "invalid_login": "That email and password do not match our records.",
        "inactive": "That email and password do not match our records.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "type": "email", "inputmode": "email"}
        )
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})

    def clean_username(self):
        return _login_name(self.cleaned_data.get("username") or "")

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not hasattr(user, "portal"):
            # Staff sign in at /admin/; only customers' logins open the portal.
            raise self.get_invalid_login_error()


class AccountBackend(ModelBackend):
    """Django's model backend, loading the signed-in user together with
    their portal login and its customer account: every portal page needs all
    three, in one query instead of three."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("portal__customer").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
