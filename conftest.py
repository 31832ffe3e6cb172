"""Test-suite wiring: which real services a test needs, and what happens without them.

Tests marked `postgres` or `redis` need that real service (DATABASE_URL / REDIS_URL).
On a laptop without them they skip with the reason; under CI=true a missing service
fails the run instead, so CI can never go green by skipping.
"""

import contextlib
import os

import pytest

CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "")


def missing_service(reason: str) -> None:
    if CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not CI:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        raise pytest.UsageError("CI=true needs DATABASE_URL pointing at PostgreSQL.")
    if not redis_url():
        raise pytest.UsageError("CI=true needs REDIS_URL pointing at Redis.")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            missing_service("this test needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") or item.get_closest_marker("celery_worker"):
        url = redis_url()
        if not url:
            missing_service("this test needs Redis: set REDIS_URL=redis://...")
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.exceptions.RedisError as exc:
            missing_service(f"Redis at {url} is not reachable: {exc}")
        if item.get_closest_marker("celery_worker"):
            from django.db import connection

            if connection.vendor != "postgresql":
                missing_service("a real worker shares the database: set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Each test starts with empty API throttle counts (they live in process memory
    without a Redis cache), so one test's requests never throttle the next."""
    from budget_system.throttling import throttle_windows

    throttle_windows.cache_clear()
    yield
    throttle_windows.cache_clear()


@pytest.fixture
def eager_tasks():
    """Run the enqueued enforcement task in-process (the real worker has its own test)."""
    from budget_system.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="ops", email="ops@example.com", password="ops-password-1"
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _database_url_of_test_database() -> str:
    from django.db import connection

    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path_factory):
    """A real `celery worker` process on Redis, using the test database.

    Tests that use it commit their data (`django_db(transaction=True)`): the worker
    reads the database over its own connection. It lives for one test only, and stops
    before the test's tables are emptied: a worker left running would pick up what
    later tests enqueue and race their clean-up.
    """
    from django.db import connection

    from budget_system.celery import app

    if connection.vendor != "postgresql" or not redis_url():
        missing_service("a real Celery worker needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    # Messages left by earlier tests that enqueued without a worker must not run here.
    app.control.purge()
    with celery_worker(tmp_path_factory.mktemp("celery") / "worker.log") as worker:
        yield worker


@contextlib.contextmanager
def celery_worker(log_path, *, env: dict[str, str] | None = None, pool: str = "solo"):
    """Start a `celery worker` (solo pool unless `pool` says "prefork", every queue) on
    this process's broker (`app.conf.broker_url`) and database, wait until it answers a
    ping, stop it on exit.

    `env` adds to the worker's environment (CELERY_VISIBILITY_TIMEOUT, say). The process
    carries `log_path`; a test may kill it itself (stopping a dead worker is a no-op).
    """
    import subprocess
    import sys
    import time
    import uuid

    from budget_system.celery import app

    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    environment = os.environ | {
        "DATABASE_URL": _database_url_of_test_database(),
        "CELERY_BROKER_URL": app.conf.broker_url,
        "DJANGO_SETTINGS_MODULE": "budget_system.test_settings",
        "DATABASE_CONN_MAX_AGE": "60",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "budget_system",
        "worker",
        "-P",
        pool,
        *(["--concurrency", "1"] if pool == "prefork" else []),
        "-n",
        name,
        "-Q",
        "periodic,drains,celery",
    ]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]
    with open(log_path, "w") as log:
        worker = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
    worker.log_path = log_path
    try:
        yield worker
    finally:
        stop_process(worker)


# Debian's packages (apt-get install chromium chromium-driver; .ci/run installs them).
CHROMIUM_BINARY = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER_BINARY = os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium driven by Selenium, 1440 px wide, shared by the session's browser tests.

    Nothing is downloaded: the binaries come from Debian's packages. Without them the
    test skips with the reason (fails under CI=true).
    """
    missing = [path for path in (CHROMIUM_BINARY, CHROMEDRIVER_BINARY) if not os.path.exists(path)]
    if missing:
        missing_service(f"browser tests need {', '.join(missing)}: apt-get install chromium chromium-driver")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    # The background-networking flags keep Chromium from calling out of a closed network.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER_BINARY))
    yield driver
    driver.quit()


@pytest.fixture
def admin_browser(browser, live_server, staff_user):
    """The browser, logged in to the admin of a live server as the `ops` superuser."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.wait import WebDriverWait

    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("ops")
    browser.find_element(By.NAME, "password").send_keys("ops-password-1")
    submit = browser.find_element(By.CSS_SELECTOR, "input[type=submit]")
    submit.click()
    # Wait for the next page (the login POST may take a moment): reading this one while
    # it is replaced fails with a stale element.
    WebDriverWait(browser, 20).until(staleness_of(submit))
    if "/admin/login/" in browser.current_url:
        pytest.fail(f"could not log in to the admin: {browser.find_element(By.TAG_NAME, 'body').text[:500]}")
    browser.live_server_url = live_server.url
    yield browser
    browser.delete_all_cookies()


def stop_process(process, *, timeout: float = 20.0) -> None:
    """SIGTERM a process a test started and wait for it; SIGKILL it if it will not stop."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, *, timeout: float = 20.0, interval: float = 0.05):
    """Poll `condition` until it returns something truthy; the last value otherwise.

    For work another process does (a Celery worker): the test waits on an outcome,
    with a bound, never on a clock.
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
