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

        from isocnet.backoffice.collections_views import index_context

        plain_index = admin.site.index

        def index(request, extra_context=None):
            """The home page is the day's work (backoffice.workqueue)."""
            return plain_index(request, {**index_context(request), **(extra_context or {})})

        admin.site.index = index

        from django.db.models.signals import post_migrate

        from isocnet.backoffice.roles import ensure_staff_groups

        # Set-up, not business logic: the three staff groups exist after
        # every migrate (docs/backoffice.md).
        # (sent once per app with models; the last one sees every permission)
        post_migrate.connect(ensure_staff_groups, dispatch_uid="isocnet-staff-groups")
