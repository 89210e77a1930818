"""isocnet serve --host H --port P: the whole site on gunicorn, static files
through whitenoise, no DEBUG needed."""

from __future__ import annotations

import hashlib
import os

from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from isocnet.core.jobs import start_background_jobs
from isocnet.notifications.delivery import start_background_delivery
from isocnet.wsgi import application


def static_fingerprint() -> str:
    """What the collected static files were collected from: every source
    file's path, size and modification time (as the finders list them)."""
    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            try:
                info = os.stat(storage.path(path))
            except (OSError, NotImplementedError):
                digest.update(f"{path}\n".encode())
            else:
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Serve the site (back office, API, portal) with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--keepalive",
            type=int,
            default=5,
            help="Seconds an idle keep-alive connection stays open (default 5)",
        )

    def _static_files(self) -> None:
        """Collect (and compress) the static files only when they changed
        since the last collection: a start takes seconds, not the half
        minute compressing 400 files again takes."""
        from django.conf import settings

        marker = settings.STATIC_ROOT / ".collected"
        fingerprint = static_fingerprint()
        if marker.exists() and marker.read_text() == fingerprint:
            return
        self.stdout.write("Collecting static files (once per install or upgrade)…")
        self.stdout.flush()
        call_command("collectstatic", interactive=False, verbosity=0)
        marker.write_text(fingerprint)

    def handle(self, *args, host, port, workers, threads, keepalive, **options):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database has unapplied migrations: run `isocnet migrate` first")
        self._static_files()
        if "PORTAL_URL" not in os.environ:  # the links in emails and PDFs follow the port
            from django.conf import settings

            shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
            settings.PORTAL_URL = f"http://{shown}:{port}/portal"
        # The workers are forked from this process: none may inherit its
        # database connection (two processes on one socket corrupt both).
        connections.close_all()
        from gunicorn.app.base import BaseApplication

        class Server(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("keepalive", keepalive)
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)
                self.cfg.set("post_worker_init", post_worker_init)

            def load(self):
                return application

        def post_worker_init(worker):
            # Single-machine mode: each web worker also delivers the outbox
            # (claims keep them from sending a message twice).
            from django.conf import settings

            if settings.OUTBOX_BACKGROUND:
                start_background_delivery()
                start_background_jobs()  # RADIUS changes, NAS requests, webhooks

        self.stdout.write(
            f"ISOCNET Billing on http://{host}:{port}/ (back office /admin/, API /api/v1/docs)"
        )
        self.stdout.flush()
        Server().run()
