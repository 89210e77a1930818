from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from isocnet.celery_app import app, workers_enabled

QUEUES = "billing,documents,email,collection,celery"


class Command(BaseCommand):
    help = "Run a Celery worker (needs CELERY_BROKER_URL). Queues: " + QUEUES

    def add_arguments(self, parser):
        parser.add_argument("--queues", default=QUEUES)
        parser.add_argument("--concurrency", type=int, default=0, help="default: CPU count")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, queues, concurrency, loglevel, **options):

        if not workers_enabled():
            raise CommandError("set CELERY_BROKER_URL (redis://… or amqp://…) to run workers")
        # Celery's own processes already use every core: a worker compiles a
        # batch of PDFs on its threads, not in processes of its own (four
        # render processes on two cores measured 35 → 28 runs/s: bench).
        settings.DOCUMENT_RENDER_PROCESSES = 0
        argv = ["worker", "-Q", queues, "--loglevel", loglevel]
        if concurrency:
            argv += ["--concurrency", str(concurrency)]
        app.worker_main(argv)
