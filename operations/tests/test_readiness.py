"""/readyz: 200 when the database and the broker answer, else 503 naming which, within 2 s."""

import socket
import time
from contextlib import closing

import pytest
from django.db import connection

from budget_system.tests import private_services
from budget_system.tests.served import free_port
from conftest import redis_url

pytestmark = [pytest.mark.django_db]


def timed_get(client, path: str):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of this test's own on a free port, which the test may stop."""
    with private_services.redis_server(tmp_path) as server:
        yield server


@pytest.mark.postgres
@pytest.mark.redis
def test_ready_when_postgresql_and_redis_answer(client, settings):
    settings.CELERY_BROKER_URL = redis_url()
    response, took = timed_get(client, "/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    assert took < 2


@pytest.mark.postgres
def test_not_ready_naming_the_broker_when_its_redis_stops(client, settings, private_redis):
    settings.CELERY_BROKER_URL = private_redis.url()
    assert client.get("/readyz").status_code == 200

    private_redis.stop()
    response, took = timed_get(client, "/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "unreachable": ["broker"]}
    assert took < 2


@pytest.mark.postgres
@pytest.mark.redis
def test_not_ready_naming_the_database_when_postgresql_refuses(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = redis_url()
    # The probe opens a connection of its own from these settings; the test's open one stays.
    monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))
    response, took = timed_get(client, "/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "unreachable": ["database"]}
    assert took < 2


@pytest.mark.postgres
def test_ready_answers_within_2_seconds_when_both_servers_hang(client, settings, monkeypatch):
    """A server that takes the connection and never answers: the probe does not wait for it."""
    with closing(socket.socket()) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        port = silent.getsockname()[1]
        monkeypatch.setitem(connection.settings_dict, "PORT", str(port))
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
        response, took = timed_get(client, "/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "unreachable": ["database", "broker"]}
    assert took < 2


def test_the_filesystem_broker_is_ready_when_its_folders_exist(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    assert client.get("/readyz").status_code == 200
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone"), "data_folder_out": "x"}
    assert client.get("/readyz").json() == {"status": "unavailable", "unreachable": ["broker"]}
