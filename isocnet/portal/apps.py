from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "isocnet.portal"
    label = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from isocnet.portal.auth import clear_own_failures

        # Sign-in plumbing, not business logic: see portal.auth.
        user_logged_in.connect(clear_own_failures, dispatch_uid="isocnet-clear-own-failures")
