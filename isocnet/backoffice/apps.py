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
