from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "isocnet.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from isocnet.webhooks import delivery  # noqa: F401 - registers the delivery job
