from django.core.management.base import BaseCommand, CommandError

from isocnet.celery_app import app, workers_enabled


class Command(BaseCommand):
    help = "Run Celery beat: the daily billing run at BILLING_RUN_AT and the outbox sweep."

    def handle(self, *args, **options):

        if not workers_enabled():
            raise CommandError("set CELERY_BROKER_URL; on one machine use cron: isocnet bill")
        app.start(["beat", "--loglevel", "INFO"])
