from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "isocnet.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        admin.site.site_header = f"{settings.COMPANY_NAME} Billing — back office"
        admin.site.site_title = f"{settings.COMPANY_NAME} Billing"
        admin.site.index_title = "Billing"
        admin.site.site_url = "/portal/"  # "View site": the client portal, staff stay signed in

        from django.db.models.signals import post_migrate

        from isocnet.backoffice.roles import ensure_staff_groups

        # Set-up, not business logic: the three staff groups exist after
        # every migrate (docs/backoffice.md).
        # (sent once per app with models; the last one sees every permission)
        post_migrate.connect(ensure_staff_groups, dispatch_uid="isocnet-staff-groups")
