"""The one door to every customer page: signed in, with a portal login, and
the customer's own account attached to the request."""

from __future__ import annotations

import functools

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError


def customer_view(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        login = getattr(request.user, "portal", None)
        if login is None:
            if request.user.is_staff:
                # Staff following "View site" from the back office: say where
                # they are instead of signing them out of the back office.
                return render(request, "portal/staff_here.html", status=403)
            logout(request)
            return redirect_to_login(request.get_full_path())
        request.customer = login.customer
        request.actor = Actor(f"customer:{login.customer.account_number}", request.user.pk)
        return view(request, *args, **kwargs)

    return wrapper


def form_error(form, exc: BillingError) -> None:
    """Show a service's error beside the field it names (or on top)."""
    field = (exc.field or "").split(".")[-1].split("[")[0]
    message = exc.message[:1].upper() + exc.message[1:]
    form.add_error(field if field in form.fields else None, message)


def error_page(request, exc: BillingError, status: int = 400):
    return render(request, "portal/error.html", {"message": exc.message}, status=status)
