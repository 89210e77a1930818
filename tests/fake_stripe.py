"""A local fake of the Stripe HTTP endpoints the adapter uses, on 127.0.0.1.
It keeps its own ledger, honours Idempotency-Key like Stripe (a replay
returns the first response) and speaks Stripe's JSON and error shapes."""

from __future__ import annotations

import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

CARDS = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_chargeDeclined": ("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", "expired_card"),
    "pm_card_timeoutAfterCharge": ("visa", "0077", "timeout"),
}


def _nested(form: list[tuple[str, str]]) -> dict:
    out: dict = {}
    for key, value in form:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class FakeStripe:
    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.requests.append(("GET", self.path))
                url = urlsplit(self.path)
                if url.path == "/v1/payment_intents/search":
                    query = dict(parse_qsl(url.query))["query"]
                    key = re.search(r"metadata\['isocnet_key'\]:'([^']+)'", unquote(query))[1]
                    data = [
                        pi
                        for pi in fake.intents.values()
                        if pi["metadata"].get("isocnet_key") == key
                    ]
                    return self._send(
                        200,
                        {
                            "object": "search_result",
                            "data": data,
                            "has_more": False,
                            "url": "/v1/payment_intents/search",
                        },
                    )
                match = re.fullmatch(r"/v1/payment_methods/(\w+)", url.path)
                if match and match[1] in CARDS:
                    brand, last4, _ = CARDS[match[1]]
                    return self._send(
                        200,
                        {
                            "id": match[1],
                            "object": "payment_method",
                            "type": "card",
                            "card": {
                                "brand": brand,
                                "last4": last4,
                                "exp_month": 12,
                                "exp_year": 2031,
                            },
                        },
                    )
                return self._send(
                    404, {"error": {"type": "invalid_request_error", "message": "No such object"}}
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = _nested(parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(("POST", self.path))
                key = self.headers.get("Idempotency-Key")
                with fake.lock:
                    if key and key in fake.idempotent:
                        return self._send(*fake.idempotent[key])
                    result = fake.handle(self.path, params)
                    if result is None:  # charged, then the line goes dead
                        self.close_connection = True
                        return None
                    if key:
                        fake.idempotent[key] = result
                return self._send(*result)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, params: dict):
        if path == "/v1/customers":
            return 200, {
                "id": f"cus_{secrets.token_hex(7)}",
                "object": "customer",
                "metadata": params.get("metadata", {}),
            }
        match = re.fullmatch(r"/v1/payment_methods/(\w+)/attach", path)
        if match:
            if match[1] not in CARDS:
                return 400, {
                    "error": {"type": "invalid_request_error", "message": "No such PaymentMethod"}
                }
            return 200, {"id": match[1], "object": "payment_method", "customer": params["customer"]}
        if path == "/v1/payment_intents":
            pm = params["payment_method"]
            _, _, behaviour = CARDS[pm]
            intent = {
                "id": f"pi_{secrets.token_hex(8)}",
                "object": "payment_intent",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "customer": params["customer"],
                "payment_method": pm,
                "metadata": params.get("metadata", {}),
                "amount_refunded": 0,
                "status": "succeeded",
                "last_payment_error": None,
            }
            self.intents[intent["id"]] = intent
            if behaviour in ("generic_decline", "expired_card"):
                intent["status"] = "requires_payment_method"
                error = {
                    "type": "card_error",
                    "code": "card_declined" if behaviour == "generic_decline" else behaviour,
                    "decline_code": behaviour,
                    "message": "Your card was declined.",
                    "payment_intent": intent,
                }
                intent["last_payment_error"] = {
                    k: v for k, v in error.items() if k != "payment_intent"
                }
                return 402, {"error": error}
            if behaviour == "timeout":
                return None
            return 200, intent
        if path == "/v1/refunds":
            intent = self.intents.get(params.get("payment_intent", ""))
            amount = int(params["amount"])
            if (
                intent is None
                or intent["status"] != "succeeded"
                or intent["amount_refunded"] + amount > intent["amount"]
            ):
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_already_refunded",
                        "message": "Refund amount exceeds the charge",
                    }
                }
            intent["amount_refunded"] += amount
            refund = {
                "id": f"re_{secrets.token_hex(8)}",
                "object": "refund",
                "amount": amount,
                "payment_intent": intent["id"],
                "status": "succeeded",
            }
            self.refunds[refund["id"]] = refund
            return 200, refund
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL {path}",
            }
        }
