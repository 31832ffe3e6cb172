"""A real gunicorn serving the project, for what Django's test client cannot do.

The test client calls the application in-process: it cannot send a chunked body,
cannot fire requests from several processes at once, and shares the test's
database connection. These tests start `gunicorn budget_system.wsgi:application` (the
production entry point, with its WSGI wrapper) on a free port, on the test database
or on a database that is not there, and talk to it over real sockets.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from conftest import stop_process, wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()


@dataclass
class Served:
    host: str
    port: int
    log_path: Path

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def post_json(self, path: str, data: Any, *, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        return self.request("POST", path, body=json.dumps(data).encode(), headers=headers)

    def log(self) -> str:
        return self.log_path.read_text()[-4000:]


@contextlib.contextmanager
def gunicorn(
    tmp_path: Path, *, database_url: str, env: dict[str, str] | None = None, workers: int = 2, threads: int = 4
) -> Iterator[Served]:
    """gunicorn on a free port with the test settings (plus the real cache when REDIS_URL is given)."""
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "budget_system.tests.served_settings",
        "DJANGO_ENV_FILE": "",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(settings.BASE_DIR),
        **(env or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "budget_system.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--log-level", "warning", "--timeout", "60"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, env=environment, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT
        )
    served = Served("127.0.0.1", port, log_path)
    try:
        if not wait_for(lambda: _answers(served) or process.poll() is not None, timeout=60) or process.poll():
            raise RuntimeError(f"gunicorn did not start:\n{served.log()}")
        yield served
    finally:
        stop_process(process)


def _answers(served: Served) -> bool:
    try:
        # Any answer will do: a 404 of the URL resolver touches neither database nor throttle.
        served.request("GET", "/served-probe")
    except OSError:
        time.sleep(0.1)
        return False
    return True


def burst(served: Served, *, count: int, path: str, data: Any, token: str) -> list[int]:
    """`count` POSTs released at once from `count` threads; their status codes."""
    import threading

    start = threading.Barrier(count)
    statuses: list[int] = []

    def post() -> None:
        connection = http.client.HTTPConnection(served.host, served.port, timeout=60)
        try:
            connection.connect()  # connected before the barrier, so the requests land together
            start.wait()
            body = json.dumps(data).encode()
            headers = {"Host": "127.0.0.1", "Content-Type": "application/json", "Authorization": f"Token {token}"}
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
