"""Sign in, sign out, set or reset the password."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from isocnet.customers.portal_access import password_reset_request
from isocnet.portal.auth import EmailLoginForm


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


class ForgotForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


@require_http_methods(["GET", "POST"])
def password_forgot(request):
    form = ForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(
            email=form.cleaned_data["email"], ip=request.META.get("REMOTE_ADDR", "")
        )
        # The same answer whether or not the address has a login.
        return render(request, "portal/password_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "portal/password_forgot.html", {"form": form})


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Django's single-use token flow (invitation and reset alike). Setting
    the password ends every other session of the login (the session hash
    changes) and lifts a login lockout."""

    template_name = "portal/password_set.html"
    success_url = reverse_lazy("portal:login")
    post_reset_login = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["welcome"] = self.kwargs.get("kind") == "welcome"
        return context

    def form_valid(self, form):
        from axes.utils import reset as axes_reset

        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        messages.success(self.request, "Your password is set. Please sign in.")
        return response


def locked_out(request, credentials=None, *args, **kwargs):
    return render(request, "portal/locked_out.html", status=429)


def home(request):
    return redirect("portal:dashboard")
