"""The back office's names for the third-party apps it shows on its home
page, in the words staff use (the apps' own labels read AXES, OTP_TOTP …).
Listed in INSTALLED_APPS in place of the apps' own configurations."""

from axes.apps import AppConfig as AxesAppConfig
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticDefault
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpDefault


class Lockouts(AxesAppConfig):
    verbose_name = "Sign-in lockouts"


class AuthenticatorApps(TotpDefault):
    verbose_name = "Two-factor sign-in: authenticator apps"


class RecoveryCodes(StaticDefault):
    verbose_name = "Two-factor sign-in: recovery codes"
