from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "isocnet.portal"
    label = "portal"
    verbose_name = "Client portal"
