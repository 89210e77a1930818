from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "isocnet.network"
    label = "network"
    verbose_name = "Network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from isocnet.network import nas, sync  # noqa: F401 - register their job handlers
