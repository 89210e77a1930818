import json

import pytest
from django.test import Client

from isocnet.api.tokens import apikey_create
from tests.factories import ACTOR


class Api:
    """A JSON client for /api/v1 with a bearer token."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _send(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {"content_type": "application/json", "headers": self.headers}
        if data is not None:
            kwargs["data"] = data
        response = getattr(self.client, method)(f"/api/v1{path}", **kwargs)
        response.body = (
            response.json()
            if response.get("Content-Type", "").startswith("application/json")
            else None
        )
        return response

    def get(self, path):
        return self._send("get", path)

    def post(self, path, body=None, raw=None):
        return self._send("post", path, body, raw)

    def patch(self, path, body=None):
        return self._send("patch", path, body)


@pytest.fixture
def api(db):
    _row, token = apikey_create(actor=ACTOR, name="tests")
    return Api(token)
