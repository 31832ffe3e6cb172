import pytest

from alerts.tests.webhook_server import WebhookServer


@pytest.fixture
def webhook_server():
    with WebhookServer() as server:
        yield server
