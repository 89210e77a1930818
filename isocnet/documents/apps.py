from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "isocnet.documents"
    label = "documents"
    verbose_name = "Documents (PDF)"
    default_auto_field = "django.db.models.BigAutoField"
