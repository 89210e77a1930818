"""A webhook receiver on 127.0.0.1 that verifies every request's
signature with PyPI's standardwebhooks, as a customer's system would, and
answers as the test wants."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Receiver:
    url: str
    secret: str = ""
    answer: int = 200
    accepted: list[dict] = field(default_factory=list)  # verified and answered 2xx
    tries: list[dict] = field(default_factory=list)  # every request
    refused_signatures: int = 0

    def ids(self) -> list[str]:
        return [r["id"] for r in self.accepted]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
            except WebhookVerificationError:
                receiver.refused_signatures += 1
                self.send_response(401)
                self.end_headers()
                return
            row = {"id": headers["webhook-id"], "type": payload["type"], "data": payload["data"]}
            receiver.tries.append({**row, "answer": receiver.answer})
            if 200 <= receiver.answer < 300:
                receiver.accepted.append(row)
            self.send_response(receiver.answer)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"ok": receiver.answer < 300}).encode())

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    holder = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder
    server.shutdown()
    server.server_close()
