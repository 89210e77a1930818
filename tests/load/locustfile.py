"""Portal users for locust (run as its own process: locust patches the
process with gevent). Each simulated user signs in as its own customer and
browses, downloads PDFs and pays, checking every answer for another
account's data.

Environment:
- LOAD_USERS: a JSON file of [{"email", "password", "account", "name",
  "invoices": [numbers]}], one entry per simulated user (taken in turn).
- LOAD_MODE: "soak" (default: think time 1-3 s, every page, pay) or
  "bench" (no think time; dashboard and invoice list only, as issue #8's
  portal benchmark asks; counted from the moment every user has signed in).

A response holding another customer's account number, name or invoice is
reported as a failure named "foreign data".
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading

from locust import HttpUser, between, constant, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USERS = json.load(open(os.environ["LOAD_USERS"]))  # noqa: SIM115
MODE = os.environ.get("LOAD_MODE", "soak")
_next = itertools.count()
_lock = threading.Lock()
_signed = 0

ACCOUNT = re.compile(r"\bR\d{7}\b")
NAME = re.compile(r"\bCustomer \d+\b")
INVOICE_LINK = re.compile(r"/portal/invoices/([^/\"]+)/")
HIDDEN = re.compile(r'name="(csrfmiddlewaretoken|attempt)" value="([^"]+)"')
CARD = re.compile(r'name="card" value="(\d+)"')


class PortalUser(HttpUser):
    wait_time = constant(0) if MODE == "bench" else between(1, 3)

    def on_start(self):
        # As a browser does (RFC 9112 9.3.1): a GET sent on a kept-alive
        # connection the server closed at that moment is sent again.
        retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods={"GET"})
        self.client.mount("http://", HTTPAdapter(max_retries=retry))
        with _lock:
            self.me = USERS[next(_next) % len(USERS)]
        page = self.client.get("/portal/login/", name="login page")
        token = HIDDEN.search(page.text).group(2)
        with self.client.post(
            "/portal/login/",
            {
                "username": self.me["email"],
                "password": self.me["password"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{self.host}/portal/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: {response.status_code} {response.text[:300]!r}")
        if MODE == "bench":
            self._signed_in()

    def _signed_in(self):
        """Bench mode measures signed-in customers' pages: the statistics
        start over once the last user has signed in (50 sign-ins at once
        are a burst of password hashing that the pages would queue behind)."""
        global _signed
        with _lock:
            _signed += 1
            last = _signed == self.environment.parsed_options.num_users
        if last:
            self.environment.runner.stats.reset_all()

    def _check(self, response, name: str) -> None:
        """Our own account, name and invoices only."""
        if not 200 <= response.status_code < 400:
            response.failure(f"{name}: HTTP {response.status_code} {response.error!r}")
            return
        text = response.text
        foreign = (
            {a for a in ACCOUNT.findall(text) if a != self.me["account"]}
            | {n for n in NAME.findall(text) if n != self.me["name"]}
            | {
                n
                for n in INVOICE_LINK.findall(text)
                if n not in self.me["invoices"] and n not in ("pdf",)
            }
        )
        if foreign:
            response.failure(f"foreign data: {sorted(foreign)[:3]}")
        elif self.me["account"] not in text:
            title = re.search(r"<title>(.*?)</title>", text)
            response.failure(
                f"{name}: not the signed-in customer's page: {response.status_code}"
                f" {response.url} {title.group(1) if title else text[:200]!r} {response.error!r}"
            )
        else:
            response.success()

    def _get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as response:
            self._check(response, name)

    @task(3)
    def dashboard(self):
        self._get("/portal/dashboard/", "dashboard")

    @task(3)
    def invoice_list(self):
        self._get("/portal/invoices/", "invoice list")

    @task(2 if MODE != "bench" else 0)
    def invoice_detail(self):
        number = random.choice(self.me["invoices"])
        self._get(f"/portal/invoices/{number}/", "invoice page")

    @task(2 if MODE != "bench" else 0)
    def invoice_pdf(self):
        number = random.choice(self.me["invoices"])
        with self.client.get(
            f"/portal/invoices/{number}/pdf/", name="invoice PDF", catch_response=True
        ) as response:
            disposition = response.headers.get("Content-Disposition", "")
            if response.status_code != 200:
                response.failure(f"invoice PDF: HTTP {response.status_code}")
            elif not response.content.startswith(b"%PDF") or number not in disposition:
                response.failure(f"foreign data: PDF {disposition!r} for {number}")
            else:
                response.success()

    @task(1 if MODE != "bench" else 0)
    def pay(self):
        """One cent on one of our invoices with the saved card."""
        number = random.choice(self.me["invoices"])
        form = self.client.get(f"/portal/pay/?invoice={number}", name="pay page")
        fields = dict(HIDDEN.findall(form.text))
        card = CARD.search(form.text)
        if "attempt" not in fields or card is None:
            return  # paid in full already: nothing to pay on it
        with self.client.post(
            "/portal/pay/",
            {
                **fields,
                "invoice": number,
                "amount": "0.01",
                "card": card.group(1),
                "confirm": "True",  # as pressed on the confirmation page
            },
            headers={"Referer": f"{self.host}/portal/pay/"},
            name="pay",
            catch_response=True,
        ) as response:
            if "Payment received: $0.01" not in response.text:
                response.failure(f"pay: HTTP {response.status_code}, no receipt")
            else:
                self._check(response, "pay")
