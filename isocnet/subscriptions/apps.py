from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "isocnet.subscriptions"
    label = "subscriptions"
    verbose_name = "Services (subscriptions)"
    default_auto_field = "django.db.models.BigAutoField"
