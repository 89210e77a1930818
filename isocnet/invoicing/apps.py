from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "isocnet.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from isocnet.invoicing import guards  # noqa: F401 - connects the delete guard
