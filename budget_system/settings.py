"""Settings for the budget enforcement system.

Everything that differs between a laptop, CI and production comes from the
environment or a `.env` file (django-environ); `.env.example` lists every variable.
With no configuration at all the project runs on embedded defaults: SQLite and
kombu's filesystem transport as the Celery broker, so no server is needed.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already in the environment win over the file. DJANGO_ENV_FILE names another
# file, or none at all when empty (the settings tests use that to ignore a local .env).
_env_file = os.environ.get("DJANGO_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    environ.Env.read_env(_env_file)


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable that refuses anything but the usual spellings.

    django-environ reads any unknown word as False, so `DJANGO_DEBUG=ture` would
    silently switch debug off; a typo here should stop the start instead.
    """
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


def env_int(name: str, default: int, *, minimum: int) -> int:
    """A whole number of at least `minimum` (0 or 1 here), or a start-up error naming it."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        wanted = "a positive whole number" if minimum == 1 else f"a whole number of {minimum} or more"
        raise ImproperlyConfigured(f"{name}={raw!r} is not {wanted}.")
    return value


def redact_url(url: str) -> str:
    """The URL with its password replaced, for error messages that end up in logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparsable URL>"


def env_url(name: str, default: str, schemes: tuple[str, ...], example: str) -> str:
    """A URL whose scheme must be one we can use, so a typo stops the start.

    Otherwise `postgress://` or `redis//host` surfaces much later as an unrelated error
    from the database driver or the Celery transport.
    """
    raw = env.str(name, default="").strip()
    if raw == "":
        return default
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name}={redact_url(raw)!r} is not a supported URL: it must start with "
            f"{' or '.join(s + '://' for s in schemes)} (for example {example})."
        )
    return raw


def database_from_url(name: str, default: str) -> dict:
    url = env_url(
        name,
        default,
        schemes=("postgres", "postgresql", "pgsql", "psql", "sqlite"),
        example="postgres://postgres@127.0.0.1:5432/budget_system",
    )
    config = env.db_url_config(url)
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={redact_url(url)!r} names no database: add it after the last /.")
    return config


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    # manage.py sets DJANGO_MANAGE_PY: a command on a bare checkout (check, makemigrations)
    # signs nothing that outlives it. Servers (gunicorn, celery) still refuse to start.
    if not DEBUG and not env_bool("DJANGO_MANAGE_PY", default=False):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; "
            "set it in the environment or .env (see .env.example)."
        )
    # The prefix makes `check --deploy` flag it (security.W009).
    SECRET_KEY = "django-insecure-local-key-only-used-without-DJANGO_SECRET_KEY-in-debug-or-manage-py"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "brands",
    "campaigns",
    "spend",
    "dayparting",
    "operations",
    "alerts",
]

MIDDLEWARE = [
    # First: health, readiness and metrics answer whatever the Host header (a probe uses
    # the container's address) and without the https redirect, before anything else runs.
    "operations.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body or the query: 411 for an unreadable chunked body,
    # 400 for text PostgreSQL cannot store; then 503 (not 500) when the database is away.
    "budget_system.middleware.LengthRequiredMiddleware",
    "budget_system.middleware.HostileInputMiddleware",
    "budget_system.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lets django-simple-history record which user made an edit.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "budget_system.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "budget_system.wsgi.application"

DATABASES = {
    "default": database_from_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer (a failover, a dropped route) fails the
    # connection after a few seconds, answered 503, instead of holding the request.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Locally the web process, the worker and beat share one SQLite file: wait for a
    # lock instead of failing at once, and take the write lock when a transaction
    # starts so two writers cannot deadlock upgrading their read locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out client before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored times are UTC; each brand's own calendar comes from its `timezone` field.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The ops console's style sheet and scripts.
STATICFILES_DIRS = [BASE_DIR / "static"]
# 24-hour times and unambiguous dates everywhere in the admin (budget_system/formats/).
FORMAT_MODULE_PATH = ["budget_system.formats"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: production values unless DEBUG is on (`manage.py check --deploy` is clean).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Cookies only over https; browsers make an exception for http://localhost, and a plain
# http deployment on another host name (a LAN demo) can turn this off.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"DJANGO_LOG_LEVEL={env.str('DJANGO_LOG_LEVEL')!r} is not a log level: "
        "use DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )

LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={env.str('LOG_FORMAT')!r} is not a log format: use text or json.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object a line: timestamp (UTC, ISO 8601), level, logger, message, and
        # every field a record carries in `extra` (the engine's event, task, counts...).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "{message}{levelname}{name}",
            "style": "{",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
# The worker and beat keep the LOGGING above instead of installing Celery's own root
# handler, so their lines (the enforcement runs) are JSON too when LOG_FORMAT=json.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Celery -------------------------------------------------------------------------
# The broker defaults to kombu's filesystem transport so a laptop needs no server.
# --- Cache ---------------------------------------------------------------------------
# The API throttles count requests in Redis (budget_system.throttling): with several
# gunicorn workers the count must be shared, so production (REDIS_URL set) uses Redis;
# a single local process is fine with memory.
REDIS_URL = env_url("REDIS_URL", default="", schemes=("redis", "rediss", "unix"), example="redis://127.0.0.1:6379/0")
# Seconds to wait for Redis to connect or answer. Short: a Redis that is down or frozen
# must cost a request a fraction of a second (the throttles then count in process
# memory), and a healthy one answers in well under a millisecond.
CACHE_SOCKET_TIMEOUT = 0.25
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Keys of one deployment apart from another's sharing the Redis database.
            "KEY_PREFIX": env.str("REDIS_KEY_PREFIX", default="budget_system"),
            "OPTIONS": {"socket_connect_timeout": CACHE_SOCKET_TIMEOUT, "socket_timeout": CACHE_SOCKET_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

_BROKER_SCHEMES = ("filesystem", "redis", "rediss", "amqp", "amqps", "pyamqp", "sqs", "memory")
# Fail fast when a network broker is down or hangs, so a web request that enqueues after
# commit is held for seconds, not for the default retry budget or a silent socket.
NETWORK_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that dies unacknowledged is given to another worker
    # after this long: just above the longest task time limit (6 minutes), so a killed
    # worker's run is redone within minutes, and no healthy run is delivered twice.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", default=7 * 60, minimum=1),
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", default="filesystem://", schemes=_BROKER_SCHEMES, example="redis://127.0.0.1:6379/0"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = env.path("CELERY_FILESYSTEM_BROKER_DIR", default=BASE_DIR / "var" / "broker")
    Path(_broker_folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder),
        "data_folder_out": str(_broker_folder),
        # Else kombu writes its exchange tables to ./control in whatever folder it runs.
        "control_folder": str(Path(_broker_folder) / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = NETWORK_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task results are ignored by default (CELERY_TASK_IGNORE_RESULT); a backend is only
# needed to read one, e.g. from `celery inspect` or a shell.
CELERY_RESULT_BACKEND = (
    env_url(
        "CELERY_RESULT_BACKEND",
        default="",
        schemes=("redis", "rediss", "db+postgresql", "db+sqlite", "rpc", "file", "cache+memory"),
        example="redis://127.0.0.1:6379/2",
    )
    or None
)
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Our tasks are idempotent: acknowledge after running so a crashed worker's task is redone.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
# Beat's sweeps and their shards never wait behind spend-triggered work: they have
# their own queue, which a worker serves alone (Procfile, docker-compose.yml).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("periodic"), Queue("drains"), Queue("celery")]
CELERY_TASK_ROUTES = {
    "campaigns.tasks.check_all_campaign_budgets": {"queue": "periodic"},
    "campaigns.tasks.reactivate_daily_campaigns": {"queue": "periodic"},
    "campaigns.tasks.reactivate_monthly_campaigns": {"queue": "periodic"},
    "campaigns.tasks.enforce_dayparting_for_all_campaigns": {"queue": "periodic"},
    "campaigns.tasks.enforce_shard": {"queue": "periodic"},
    "campaigns.tasks.drain_pending_brands": {"queue": "drains"},
    "campaigns.tasks.enforce_brand_campaigns": {"queue": "drains"},
}
# Campaigns per shard of a sweep: each shard is one transaction on one worker process,
# so a sweep of N campaigns spreads over N / this many tasks.
ENFORCEMENT_SHARD_CAMPAIGNS = env_int("ENFORCEMENT_SHARD_CAMPAIGNS", default=50_000, minimum=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# The beat schedule lives in code; the DatabaseScheduler copies it into the
# django-celery-beat tables at start, keeping an entry an operator disabled disabled.
# Crontab (not intervals) so a beat restart does not shift the ticks, and
# `expire_seconds` (the DatabaseScheduler's name for `expires`) so a worker back from an
# outage drops the stale ticks instead of replaying them.
CELERY_BEAT_SCHEDULE = {
    "check-all-campaign-budgets": {
        "task": "campaigns.tasks.check_all_campaign_budgets",
        "schedule": crontab(minute="*/10"),
        "options": {"expire_seconds": 9 * 60},
    },
    "reactivate-daily-campaigns": {
        "task": "campaigns.tasks.reactivate_daily_campaigns",
        # :00 :15 :30 :45 meets local midnight in every real UTC offset on the minute.
        "schedule": crontab(minute="0,15,30,45"),
        "options": {"expire_seconds": 14 * 60},
    },
    "reactivate-monthly-campaigns": {
        "task": "campaigns.tasks.reactivate_monthly_campaigns",
        "schedule": crontab(minute="0,15,30,45"),
        "options": {"expire_seconds": 14 * 60},
    },
    "enforce-dayparting-for-all-campaigns": {
        "task": "campaigns.tasks.enforce_dayparting_for_all_campaigns",
        "schedule": crontab(),
        "options": {"expire_seconds": 55},
    },
    # The safety net of spend-triggered enforcement: brands marked pending while the
    # broker was down (or whose drain was lost) are enforced within a minute.
    "drain-pending-brands": {
        "task": "campaigns.tasks.drain_pending_brands",
        "schedule": crontab(),
        "kwargs": {"source": "drain_pending_brands"},
        "options": {"expire_seconds": 55},
    },
    # Alerts and status-change webhooks whose message was lost (a broker outage) are sent.
    "retry-due-deliveries": {
        "task": "alerts.tasks.retry_due_deliveries",
        "schedule": crontab(),
        "options": {"expire_seconds": 55},
    },
    # Status changes are also pushed right after each enforcement run; this catches the
    # rest (ops actions in the admin) within a minute.
    "drain-status-change-webhooks": {
        "task": "alerts.tasks.drain_status_change_webhooks",
        "schedule": crontab(),
        "options": {"expire_seconds": 55},
    },
}


# --- Django REST framework ----------------------------------------------------------
# DRF reads "<count>/<period>" and only the period's first letter (s, m, h, d); checked
# here because DRF would only fail on the first throttled request.
def env_rate(name: str, default: str) -> str:
    rate = env.str(name, default=default).strip()
    if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(
            f"{name}={rate!r} is not a rate: use <count>/<period>, "
            "for example 600/minute (period: second, minute, hour or day)."
        )
    return rate


API_THROTTLE_USER_RATE = env_rate("API_THROTTLE_USER_RATE", default="600/minute")
# Spend posts have their own bucket, so a busy ETL does not starve reads, and vice versa.
API_THROTTLE_SPEND_RATE = env_rate("API_THROTTLE_SPEND_RATE", default="600/minute")
# Requests without a valid token (none, or a made-up one), per client IP.
API_THROTTLE_ANON_RATE = env_rate("API_THROTTLE_ANON_RATE", default="60/minute")

# How many proxies in front of the app append to X-Forwarded-For (a load balancer, a
# TLS terminator). 0: the header is ignored and the connection's address is the
# client's. Only count proxies you run: a client can write anything in the header.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", default=0, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # Atomic counts in Redis, falling back to process memory (budget_system.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "budget_system.throttling.AnonRateThrottle",
        "budget_system.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": API_THROTTLE_ANON_RATE,
        "user": API_THROTTLE_USER_RATE,
        "spend_ingest": API_THROTTLE_SPEND_RATE,
    },
    # Failed authentication counts against the client IP's `anon` rate too.
    "EXCEPTION_HANDLER": "budget_system.throttling.api_exception_handler",
    # DRF's own reading of X-Forwarded-For (unused by our throttles, kept consistent).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Budget enforcement API",
    "DESCRIPTION": "Report campaign spend and read campaign status.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's scripts are served from our static files, not a CDN.
    "REDOC_DIST": "SIDECAR",
    # The status-change feed names old and new status (and reason) with one choice set each.
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "PauseReasonEnum": "campaigns.models.Campaign.PauseReason",
    },
    # Limits the serializers cannot express: maxItems, additionalProperties: false.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "spend.api.spend_schema_limits",
    ],
}

# Most spend items one API request may carry.
SPEND_API_MAX_ITEMS = env_int("SPEND_API_MAX_ITEMS", default=10_000, minimum=1)
# Largest chunked request body read (budget_system.chunked): the spend API's largest
# (512 bytes an item, see spend.api), or a form's.
REQUEST_BODY_MAX_BYTES = max(SPEND_API_MAX_ITEMS * 512 + 1024, 2_621_440)

# --- Admin login lockout (django-axes) -------------------------------------------------
# After ADMIN_LOGIN_FAILURE_LIMIT failed logins from one client IP (see
# DJANGO_TRUSTED_PROXY_COUNT) that IP cannot log in for ADMIN_LOGIN_LOCKOUT_MINUTES;
# a success resets its count. `manage.py axes_reset_ip IP` lifts a lockout early.
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", default=5, minimum=1)
ADMIN_LOGIN_LOCKOUT_MINUTES = env_int("ADMIN_LOGIN_LOCKOUT_MINUTES", default=15, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=ADMIN_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "budget_system.client_ip.client_ip"
AXES_COOLOFF_MESSAGE = (
    f"Too many failed logins from this address: try again in {ADMIN_LOGIN_LOCKOUT_MINUTES} minutes, "
    "or ask an administrator to lift the lockout."
)


# --- Health and metrics (operations/) ------------------------------------------------
# /healthz/enforcement, `check_enforcement` and the admin banner call a periodic task late
# when it has not finished for this many minutes (budgets run every 10, dayparting every 1).
ENFORCEMENT_LATE_AFTER_MINUTES = {
    "check_all_campaign_budgets": env_int("ENFORCEMENT_LATE_BUDGETS_MINUTES", default=25, minimum=1),
    "enforce_dayparting_for_all_campaigns": env_int("ENFORCEMENT_LATE_DAYPARTING_MINUTES", default=5, minimum=1),
}

# Bearer token that /metrics asks for; without one the endpoint answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
if METRICS_TOKEN and (len(METRICS_TOKEN) < 16 or not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", METRICS_TOKEN)):
    # The value is a secret: the message names its length, never the value.
    raise ImproperlyConfigured(
        f"METRICS_TOKEN ({len(METRICS_TOKEN)} characters) is not a usable token: use at least 16 letters, "
        "digits or -._~+/= (for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')."
    )

# --- Alerts: email and webhooks ----------------------------------------------------
# Email goes through Django's mail settings, from one URL (django-environ): the console
# backend by default (alerts are printed by the worker), e.g. smtp+tls://user:password@host:587.
EMAIL_URL = env_url(
    "EMAIL_URL",
    default="consolemail://",
    schemes=tuple(environ.Env.EMAIL_SCHEMES),
    example="smtp+tls://user:password@smtp.example.com:587",
)
for _name, _value in env.email_url_config(EMAIL_URL).items():
    if _value not in (None, ""):
        globals()[_name] = _value
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="budget-alerts@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", default=10, minimum=1)


def env_percentages(name: str, default: list[int]) -> list[int]:
    """Comma-separated whole percentages from 1 to 1000 (empty: none), or a start-up error naming them."""
    raw = env.str(name, default=",".join(map(str, default))).strip()
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isdigit() and 1 <= int(part) <= 1000 for part in parts):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a list of percentages from 1 to 1000, e.g. 50,80,100.")
    return sorted({int(part) for part in parts})


# Thresholds for brands without their own alert settings (brand alert settings in the admin).
ALERT_DEFAULT_THRESHOLDS = env_percentages("ALERT_DEFAULT_THRESHOLDS", default=[50, 80, 100])
# Seconds a webhook receiver has to answer before the attempt counts as failed.
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", default=5, minimum=1)
# Tries per delivery (email or webhook) before it is marked failed.
ALERT_DELIVERY_MAX_ATTEMPTS = env_int("ALERT_DELIVERY_MAX_ATTEMPTS", default=8, minimum=1)
# Wait after the first failure; it doubles after each further one, up to the maximum.
ALERT_DELIVERY_BACKOFF_SECONDS = env_int("ALERT_DELIVERY_BACKOFF_SECONDS", default=30, minimum=1)
ALERT_DELIVERY_BACKOFF_MAX_SECONDS = env_int("ALERT_DELIVERY_BACKOFF_MAX_SECONDS", default=3600, minimum=1)
