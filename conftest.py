"""Test-suite wiring: which real services a test needs, and what happens without them.

Tests marked `postgres` or `redis` need that real service (DATABASE_URL / REDIS_URL).
On a laptop without them they skip with the reason; under CI=true a missing service
fails the run instead, so CI can never go green by skipping.
"""

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


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="ops", email="ops@example.com", password="ops-password-1"
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
