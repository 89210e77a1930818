from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "isocnet.collections"
    label = "collections"
    verbose_name = "Collections"
    default_auto_field = "django.db.models.BigAutoField"
