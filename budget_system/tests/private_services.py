"""PostgreSQL and Redis servers of a test's own, which it may stop, freeze and restart.

The shared services (DATABASE_URL, REDIS_URL) are never touched: each server here is
started by the test on a free port under a temporary folder, and stopped and removed
after it. Without the server binaries a test skips with the reason (fails under CI=true).

- `redis_server()`: `redis-server --port N`, without persistence (a restart starts
  empty, as a Redis that lost its memory does); `stop`, `start`, `freeze` (SIGSTOP: it
  accepts connections and never answers), `thaw` (SIGCONT).
- `postgres_server()`: `initdb` and `pg_ctl` under a temporary folder (as the `postgres`
  user when the tests run as root: initdb refuses root); `stop`, `start`, `restart`, and
  databases made from a migrated template, one per test (`create_database`).
- `django_connected_to(...)`: this process's Django connection on one of its databases
  (what `conftest.celery_worker` then gives a worker too).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import redis
from django.conf import settings

from budget_system.tests.served import free_port
from conftest import missing_service, stop_process, wait_for

# --- Redis ---------------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.log_path = folder / "redis.log"
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_connect_timeout=1, socket_timeout=1)

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder), "--logfile", str(self.log_path)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if not wait_for(lambda: self._answers() or self.process.poll() is not None, timeout=20) or self.process.poll():
            raise RuntimeError(f"redis-server on port {self.port} did not start:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server (SIGTERM: it closes its clients' connections) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen server cannot stop
        stop_process(self.process)

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections; nothing answers on them."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def log(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing_service("redis-server is not installed (apt-get install redis-server): the fault tests start their own")
    server = PrivateRedis(binary, folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb and pg_ctl, else the ones on PATH."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in Path(path).parent.name.split(".") if part.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for folder in candidates:
        if all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


class PrivatePostgres:
    """A cluster under `folder` serving 127.0.0.1:`port`, user `postgres` without password."""

    def __init__(self, bin_dir: Path, folder: Path, run_as: list[str]) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.log_path = folder / "server.log"
        self.run_as = run_as
        self.port = free_port()

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [*self.run_as, str(self.bin_dir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}\n{self.log()}")

    def initdb(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        # fsync off: a clean stop still writes everything; only a crash of the machine
        # could lose data, which no test here does. Sockets in our folder, not /var/run.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: what a restart by an operator or an orchestrator does (sessions are
        terminated, in-flight transactions rolled back, then a clean shutdown)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def start_if_stopped(self) -> None:
        """Up again after a test that failed while the server was stopped."""
        command = [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"]
        if subprocess.run(command, capture_output=True, timeout=30, check=False).returncode:
            self.start()

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def admin(self, sql: str) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def create_database(self, name: str, *, template: str | None = None) -> None:
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def migrate(self, name: str) -> None:
        """The project's migrations into database `name`, by `manage.py migrate`."""
        env = os.environ | {
            "DATABASE_URL": self.url(name),
            "DJANGO_SETTINGS_MODULE": "budget_system.test_settings",
            "DJANGO_ENV_FILE": "",
            "CELERY_BROKER_URL": "memory://",
        }
        command = [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"]
        done = subprocess.run(
            command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode:
            raise RuntimeError(f"migrate failed:\n{done.stdout}{done.stderr}")

    def log(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""


def _run_as_postgres_when_root(folder: Path) -> list[str]:
    """initdb refuses root: as root, the cluster belongs to (and runs as) `postgres`."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        missing_service("the tests run as root and there is no `postgres` user to run initdb as")
    runuser = shutil.which("runuser")
    if runuser is None:
        missing_service("the tests run as root and `runuser` is missing to run initdb as postgres")
    os.chown(folder, user.pw_uid, user.pw_gid)
    return [runuser, "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres_server() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        missing_service("initdb and pg_ctl are not installed (apt-get install postgresql): the fault tests need them")
    # Not under pytest's tmp folder: as root that one is private to root, and the
    # server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="faults-postgres-"))
    try:
        server = PrivatePostgres(bin_dir, folder, _run_as_postgres_when_root(folder))
        server.initdb()
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(RuntimeError):
                server.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def django_connected_to(server: PrivatePostgres, name: str) -> Iterator[None]:
    """This process's default connection on database `name` of `server`, then back.

    The settings dict is changed in place: it is the one every thread's connection and
    `conftest._database_url_of_test_database` read.
    """
    from django.db import connection

    keys = ("NAME", "HOST", "PORT", "USER", "PASSWORD")
    saved = {key: connection.settings_dict.get(key) for key in keys}
    connection.close()
    connection.settings_dict.update(NAME=name, HOST="127.0.0.1", PORT=str(server.port), USER="postgres", PASSWORD="")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def backends_waiting_on(blocker_pid: int) -> list[int]:
    """Sessions of this database blocked by session `blocker_pid` (a lock it holds)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND %s = ANY(pg_blocking_pids(pid))",
            [blocker_pid],
        )
        return [row[0] for row in cursor.fetchall()]


@contextlib.contextmanager
def campaign_locked(campaign_id: int) -> Iterator[psycopg2.extensions.connection]:
    """A session of its own holding campaign `campaign_id` FOR UPDATE until the block ends,
    so that an enforcement run that locks it waits there (mid-run, holding the rest)."""
    from django.db import connection

    from campaigns.models import Campaign

    blocker = psycopg2.connect(**connection.get_connection_params())
    try:
        with blocker.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {Campaign._meta.db_table} WHERE id = %s FOR UPDATE", [campaign_id])
        yield blocker
    finally:
        with contextlib.suppress(psycopg2.Error):
            blocker.rollback()
        blocker.close()
