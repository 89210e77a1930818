from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "isocnet.core"
    label = "core"
    verbose_name = "System: audit log, number series, background jobs"
    default_auto_field = "django.db.models.BigAutoField"
