import pytest

from tests.webhooks.receiver import receiver  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _http_endpoints(settings):
    settings.WEBHOOK_ALLOW_HTTP = True  # the test receiver is plain http on 127.0.0.1
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]  # ... which only an allow-list opens
