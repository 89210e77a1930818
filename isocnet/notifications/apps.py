from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "isocnet.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from isocnet.notifications.services import wake_sender
        from isocnet.outbox.queue import on_queued

        on_queued(wake_sender)  # a notice queued anywhere wakes the sender after commit
