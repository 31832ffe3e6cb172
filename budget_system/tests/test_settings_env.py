"""Settings read from the environment: production values pass `check --deploy`, and a
bad or missing variable stops the start with a message naming it and its value."""

import os
import re
import runpy
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

ROOT = Path(settings.BASE_DIR)
SETTINGS_FILE = ROOT / "budget_system" / "settings.py"
# Read at import: the load_settings fixture clears the variables the settings read.
REDIS_URL_GIVEN = os.environ.get("REDIS_URL", "")
ENV_READERS = r"(?:env\.\w+|env_bool|env_url|env_int|database_from_url|os\.environ\.get)"


def variables_read_by_settings() -> set[str]:
    source = SETTINGS_FILE.read_text()
    return set(re.findall(ENV_READERS + r'\(\s*"([A-Z][A-Z0-9_]+)"', source))


@pytest.fixture
def load_settings(monkeypatch):
    """Run settings.py afresh with exactly the given variables (no .env, nothing inherited)."""
    for name in variables_read_by_settings():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DJANGO_ENV_FILE", "")

    def load(**variables: str) -> dict:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def production_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "budget_system.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "budget.example.com",
        **extra,
    }


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="embedded-defaults"),
        pytest.param(
            {
                "DATABASE_URL": "postgres://budget:budget@postgres:5432/budget_system",
                "CELERY_BROKER_URL": "redis://redis:6379/0",
                "REDIS_URL": "redis://redis:6379/1",
            },
            id="postgres-and-redis-as-in-compose",
        ),
    ],
)
def test_production_settings_pass_check_deploy_without_warnings(extra):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_off_without_secret_key_is_refused_by_name(load_settings):
    with pytest.raises(ImproperlyConfigured, match=r"DJANGO_SECRET_KEY is not set.*DJANGO_DEBUG is off"):
        load_settings()


def test_management_commands_run_on_a_bare_checkout_without_a_secret_key():
    bare = {"PATH": "/usr/bin:/bin", "DJANGO_ENV_FILE": ""}
    for command in (["check"], ["makemigrations", "--check", "--dry-run"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=bare, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
    # The throwaway key never passes for a deployment.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=bare | {"DJANGO_ALLOWED_HOSTS": "budget.example.com"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "security.W009" in result.stdout + result.stderr


def test_debug_on_starts_without_a_secret_key_and_with_local_hosts(load_settings):
    loaded = load_settings(DJANGO_DEBUG="true")
    assert loaded["DEBUG"] is True
    assert loaded["SECRET_KEY"]
    assert "127.0.0.1" in loaded["ALLOWED_HOSTS"]
    assert loaded["SECURE_SSL_REDIRECT"] is False


def test_debug_off_turns_on_https_only_cookies_and_hsts(load_settings):
    loaded = load_settings(DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert loaded["DEBUG"] is False
    assert loaded["ALLOWED_HOSTS"] == []
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"] and loaded["SECURE_SSL_REDIRECT"]
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000


def test_https_only_cookies_can_be_turned_off_for_a_plain_http_deployment(load_settings):
    loaded = load_settings(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_SECURE_COOKIES="false")
    assert loaded["SESSION_COOKIE_SECURE"] is False and loaded["CSRF_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "ture", "DJANGO_DEBUG='ture' is not a boolean"),
        ("DJANGO_SECURE_SSL_REDIRECT", "maybe", "DJANGO_SECURE_SSL_REDIRECT='maybe' is not a boolean"),
        ("DJANGO_SECURE_COOKIES", "sure", "DJANGO_SECURE_COOKIES='sure' is not a boolean"),
        ("DATABASE_URL", "postgress://db.example.com/budget", "DATABASE_URL='postgress://db.example.com/budget'"),
        ("DATABASE_URL", "postgres://db.example.com", "names no database"),
        ("DATABASE_CONN_MAX_AGE", "forever", "DATABASE_CONN_MAX_AGE='forever' is not a whole number"),
        ("DJANGO_SECURE_HSTS_SECONDS", "-1", "DJANGO_SECURE_HSTS_SECONDS='-1' is not a whole number"),
        ("SPEND_API_MAX_ITEMS", "0", "SPEND_API_MAX_ITEMS='0' is not a positive whole number"),
        ("SPEND_API_MAX_ITEMS", "ten", "SPEND_API_MAX_ITEMS='ten' is not a positive whole number"),
        ("API_THROTTLE_USER_RATE", "600/fortnight", "API_THROTTLE_USER_RATE='600/fortnight' is not a rate"),
        ("DJANGO_LOG_LEVEL", "LOUD", "DJANGO_LOG_LEVEL='LOUD' is not a log level"),
        ("CELERY_BROKER_URL", "redis//localhost:6379/0", "CELERY_BROKER_URL='redis//localhost:6379/0'"),
        ("CELERY_RESULT_BACKEND", "mongodb://localhost", "CELERY_RESULT_BACKEND='mongodb://localhost'"),
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL='http://localhost:6379' is not a supported URL"),
    ],
)
def test_bad_value_is_refused_naming_the_variable_and_value(load_settings, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        load_settings(**{"DJANGO_DEBUG": "true", name: value})


def test_database_url_error_hides_the_password(load_settings):
    with pytest.raises(ImproperlyConfigured) as error:
        load_settings(DJANGO_DEBUG="true", DATABASE_URL="postgress://budget:hunter2@db:5432/budget")
    assert "hunter2" not in str(error.value)
    assert "postgress://budget:***@db:5432/budget" in str(error.value)


def test_database_url_selects_postgresql(load_settings):
    loaded = load_settings(DJANGO_DEBUG="true", DATABASE_URL="postgres://budget:pw@db.internal:5433/budget_system")
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 5433, "budget_system")


def test_without_configuration_it_runs_on_sqlite_and_the_filesystem_broker(load_settings):
    loaded = load_settings(DJANGO_DEBUG="true")
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert loaded["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_redis_url_gives_a_cache_shared_by_all_web_workers(load_settings):
    loaded = load_settings(DJANGO_DEBUG="true", REDIS_URL="redis://cache.internal:6379/3")
    cache = loaded["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache.internal:6379/3"


@pytest.mark.redis
def test_redis_cache_from_the_settings_stores_and_reads_a_value(load_settings):
    config = load_settings(DJANGO_DEBUG="true", REDIS_URL=REDIS_URL_GIVEN)["CACHES"]["default"]
    cache = import_string(config["BACKEND"])(config["LOCATION"], config)
    key = f"settings-test-{uuid.uuid4()}"
    cache.set(key, {"seen": 1}, timeout=30)
    try:
        assert cache.get(key) == {"seen": 1}
    finally:
        cache.delete(key)


def test_time_is_utc_and_timezone_aware():
    assert settings.TIME_ZONE == "UTC"
    assert settings.USE_TZ is True
    assert settings.CELERY_TIMEZONE == "UTC"
    assert settings.CELERY_ENABLE_UTC is True


def test_no_project_module_imports_pytz():
    # Django dropped pytz; the project uses the standard library's zoneinfo.
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if ".venv" not in path.parts and re.search(r"^\s*(import|from)\s+pytz\b", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_env_example_lists_every_variable_the_settings_read():
    variables = variables_read_by_settings()
    assert {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"} <= variables
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert variables - listed == set()
