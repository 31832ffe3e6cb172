"""Settings for the test suite: the real settings, with a test-only secret and debug off.

DATABASE_URL / REDIS_URL pick PostgreSQL and Redis when given (CI gives them).
"""

import os

# A developer's .env (their dev broker and database) must not leak into the tests.
os.environ.setdefault("DJANGO_ENV_FILE", "")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789")

from budget_system.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

# Tests enqueue to Redis when it is given (the real-worker tests consume from it), else
# to kombu's in-memory transport, so no test needs a server or leaves files behind.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = NETWORK_BROKER_TRANSPORT_OPTIONS
# Each test run gets its own in-memory cache: a shared Redis cache would carry throttle
# counts from one test (or one concurrent run) into the next.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Static files are not collected for tests; an empty folder keeps whitenoise from warning
# about a missing STATIC_ROOT on every request.
STATIC_ROOT = BASE_DIR / "var" / "test-staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# A live server's request threads close their connection after each request, so the
# test database can be dropped at the end (a kept connection would block DROP DATABASE).
# Processes the tests start (a worker, beat) name their own DATABASE_CONN_MAX_AGE: beat,
# with 0, would close its connection between the steps of saving its schedule.
if "DATABASE_CONN_MAX_AGE" not in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
