"""Email backend for EMAIL_URL=file:///dir: one RFC 5322 .eml file per
message, openable in any mail client (Django's own file backend appends
many messages to one .log file)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from isocnet.core import clock

_counter_lock = threading.Lock()
_counter = 0


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        global _counter
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _counter_lock:
                _counter += 1
                serial = _counter
            subject = (
                re.sub(r"[^A-Za-z0-9]+", "-", str(message.subject))[:40].strip("-") or "message"
            )
            stamp = clock.now().strftime("%Y%m%dT%H%M%S")
            name = f"{stamp}-{os.getpid()}-{serial:05d}-{subject}.eml"
            tmp = self.directory / f".{name}.tmp"
            tmp.write_bytes(message.message().as_bytes(linesep="\r\n"))
            tmp.replace(self.directory / name)
            sent += 1
        return sent
