"""Issue #29's crawler: over `isocnet demo`'s data, signed in as each staff
role and as a portal customer, every link reachable from the back office's
home (a customer's and an invoice's pages, every preview link included) and
from the portal's dashboard is fetched, and every form on those pages is
submitted with the values it shows. No answer is a 5xx.

The crawl is breadth first, on this site only, each path once (with at most
a few of its query strings: the list filters), bounded in pages so that it
ends on a busy machine; sign-out links and forms are left for last so the
session lives through the crawl."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice
from tests.portal.conftest import portal_login_for
from tests.security.forms import forms_of

pytestmark = pytest.mark.django_db
MAX_PAGES = 260
QUERY_VARIANTS = 2
SKIP = re.compile(r"/logout/|/delete/|/password/change/|\.(css|js|png|svg|ico|woff2?)$")
HREF = re.compile(r"""href=["']([^"'#]+)["']""")


def crawl(client: Client, starts: list[str], scope: str) -> tuple[set[str], int, list[str]]:
    """(pages fetched, forms sent, failures)."""
    seen_paths: dict[str, int] = {}
    seen: set[str] = set()
    queue = deque(starts)
    failures: list[str] = []
    pages = forms_sent = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        if url in seen or SKIP.search(url):
            continue
        path = urlsplit(url).path
        if urlsplit(url).query:
            if seen_paths.get(path, 0) >= QUERY_VARIANTS:
                continue
            seen_paths[path] = seen_paths.get(path, 0) + 1
        seen.add(url)
        response = client.get(url)
        pages += 1
        if response.status_code >= 500:
            failures.append(f"GET {url} -> {response.status_code}")
            continue
        if response.streaming or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode(errors="replace")
        for href in HREF.findall(html):
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc and parts.netloc != "testserver":
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local.startswith(scope) and local not in seen:
                queue.append(local)
        for form in forms_of(html):
            action = urljoin(url, form.action.replace("&amp;", "&")) if form.action else url
            action_path = urlsplit(action).path
            if SKIP.search(action_path) or not action_path.startswith(scope):
                continue
            data = form.data()
            if form.submits:  # the first named button, as pressing it would
                name, value = form.submits[0]
                data[name] = value
            if form.method == "post":
                answer = client.post(action, data)
            else:
                answer = client.get(action, data)
            forms_sent += 1
            if answer.status_code >= 500:
                failures.append(f"{form.method.upper()} {action} -> {answer.status_code}")
    return seen, forms_sent, failures


@pytest.fixture
def demo(today, capsys):
    call_command("demo", customers=8)
    capsys.readouterr()


def starts_for_staff() -> list[str]:
    customer = Customer.objects.order_by("pk").first()
    invoice = Invoice.objects.exclude(status="draft").order_by("pk").first()
    return [
        "/admin/",
        f"/admin/customers/customer/{customer.pk}/change/",
        f"/admin/invoicing/invoice/{invoice.pk}/change/",
    ]


@pytest.mark.parametrize("group", ["Support agent", "Billing clerk", "Billing manager"])
def test_every_back_office_page_and_form_answers_without_a_5xx(demo, group):
    user = get_user_model().objects.create_user(f"crawl-{group[:4]}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client(raise_request_exception=False)
    client.force_login(user)
    pages, forms, failures = crawl(client, starts_for_staff(), "/admin/")
    print(f"\n{group}: {len(pages)} pages, {forms} forms")
    assert len(pages) > 40 and forms > 10, (len(pages), forms)
    previews = [p for p in pages if "/preview/" in p]
    assert len(previews) >= 5, previews  # the invoice's notice previews were opened
    assert not failures, "\n".join(failures)


def test_every_portal_page_and_form_answers_without_a_5xx(demo):
    customer = (
        Customer.objects.filter(invoices__status__in=["unpaid", "partially_paid"])
        .order_by("pk")
        .first()
    )
    client = Client(raise_request_exception=False)
    client.force_login(portal_login_for(customer))
    pages, forms, failures = crawl(client, ["/portal/dashboard/"], "/portal/")
    print(f"\nportal: {len(pages)} pages, {forms} forms")
    assert len(pages) > 8 and forms > 2, (len(pages), forms)
    assert not failures, "\n".join(failures)
