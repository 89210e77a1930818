from django.apps import AppConfig


class DepositsConfig(AppConfig):
    name = "isocnet.deposits"
    label = "deposits"
    verbose_name = "Deposits"
    default_auto_field = "django.db.models.BigAutoField"
