"""schemathesis against the live OpenAPI document: every operation, with
generated valid and invalid input (and without a key, and with methods it
does not have), must answer without a 5xx, with a documented status code,
content type and body, reject what its schema forbids and honour its key.

Two checks are left out, both about what a request may contain rather than
about what the API answers:
- positive_data_acceptance expects every schema-valid request to succeed,
  but the schema says "a string" where the business says more ("" is a
  string and not an amount; customer 0 does not exist): those answers are
  404/409/422 with the reason, as documented;
- negative_data_rejection flags query values that are wrong only before
  they are written into a URL (a boolean false for the search text q
  arrives as the text "false", which is a fine search).
Unknown query parameters and dates not written YYYY-MM-DD are refused
(tests/api/test_api_errors.py). Besides the generated cases, every
operation's examples carry the hostile cases of issue #16 in each string
and integer of its body (a lone surrogate, U+2028, card numbers, a
direction override, amounts and ids beyond every limit): no 5xx, and every
answer as documented. The run is derandomized: the same cases on every
machine, so CI cannot turn red by chance."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from isocnet.api.tokens import apikey_create
from tests.factories import ACTOR, make_customer, make_invoice

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# every operation gets a schema-valid example, and the hostile ones below
schema.config.phases.examples.fill_missing = True

# The bound and text cases of issue #16, put into every string and number of
# every example body: each answer must be a documented 4xx (or a success
# where the value is harmless there), never a 5xx.
HOSTILE_TEXT = [
    "\ud800",  # a lone surrogate: cannot be stored
    "Eve\u2028Bcc: x@example.com",  # a line separator in a single-line field
    "4111 1111 1111 1111",  # a card number
    "tok_4111111111111111",
    "\u202egnp.exe",  # a direction override
    "9999999999999999.99",  # beyond every amount limit
    "Eve\x00Adam",  # NUL: PostgreSQL cannot store it (issue #29)
    # bank files whose items the API would refuse (issue #29): over the limit,
    # NaN, a date at the calendar's end
    "deposit_date,item_reference,amount\n2026-11-20,H-1,92233720368547758.07\n",
    "deposit_date,item_reference,amount\n2026-11-20,H-2,NaN\n",
    "deposit_date,item_reference,amount\n9999-12-31,H-3,10.00\n",
]
NUL = "\x00"
HOSTILE_NUMBERS = [10**12, -1, 2**63]


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path, value


def _with(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _with(value[head], rest, new)}
    copy = list(value)
    copy[head] = _with(copy[head], rest, new)
    return copy


def _top_level_fields(operation) -> dict[str, set[str]]:
    """The JSON body's top-level properties and their types, from the
    OpenAPI document (for optional fields an example leaves out)."""
    from isocnet.api.v1.base import api

    document = api.get_openapi_schema()
    path = "/api/v1" + operation.path.removeprefix("/api/v1")
    op = document["paths"].get(path, {}).get(operation.method.lower(), {})
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    body = document["components"]["schemas"].get(ref.get("$ref", "").rsplit("/", 1)[-1], {})
    fields = {}
    for name, prop in body.get("properties", {}).items():
        kinds = {prop.get("type")} | {alt.get("type") for alt in prop.get("anyOf", [])}
        fields[name] = {k for k in kinds if k}
    return fields


def before_add_examples(context, examples):
    """schemathesis hook: for each example with a JSON body, one more case
    per hostile value in each of its strings and numbers, and in each
    string or integer field of the body the example left out."""
    extra = []
    for case in list(examples):
        fields = _top_level_fields(context.operation)
        if not isinstance(case.body, dict):
            if not fields:
                continue
            case = context.operation.Case(
                body={},
                path_parameters=dict(case.path_parameters or {}),
                query=dict(case.query or {}),
                media_type="application/json",
            )
        for name, kinds in fields.items():
            if case.body.get(name) is not None:
                continue
            values = (HOSTILE_TEXT if "string" in kinds else []) + (
                HOSTILE_NUMBERS if "integer" in kinds else []
            )
            for hostile in values:
                extra.append(
                    context.operation.Case(
                        body={**case.body, name: hostile},
                        path_parameters=dict(case.path_parameters or {}),
                        query=dict(case.query or {}),
                        media_type=case.media_type,
                    )
                )
    for case in list(examples):  # NUL in each path and query parameter (issue #29)
        for where in ("path_parameters", "query"):
            for name in dict(getattr(case, where) or {}):
                params = {
                    "path_parameters": dict(case.path_parameters or {}),
                    "query": dict(case.query or {}),
                }
                params[where][name] = f"a{NUL}b"
                extra.append(
                    context.operation.Case(body=case.body, media_type=case.media_type, **params)
                )
    for case in examples:
        if not isinstance(case.body, dict):
            continue
        for path, value in _leaves(case.body):
            if isinstance(value, bool):
                continue
            values = HOSTILE_TEXT if isinstance(value, str) else HOSTILE_NUMBERS
            if not isinstance(value, str | int):
                continue
            for hostile in values:
                extra.append(
                    context.operation.Case(
                        body=_with(case.body, path, hostile),
                        path_parameters=dict(case.path_parameters or {}),
                        query=dict(case.query or {}),
                        media_type=case.media_type,
                    )
                )
    examples.extend(extra)


@pytest.fixture
def in_test_transaction():
    """Calling the WSGI app directly would end each request by closing the
    database connection (Django's request_finished), and with it the test's
    transaction; Django's own test client does the same as this."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, in_test_transaction):
    customer = make_customer()
    make_invoice(customer, lines=(("Fiber", "49.95", None),))
    return apikey_create(actor=ACTOR, name="schemathesis")[1]


@schema.hooks.apply(before_add_examples)
@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_promises(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
