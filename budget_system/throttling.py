"""API throttles that count exactly under concurrency and survive a Redis outage.

Django REST framework's cache throttles read a request log from the cache, append,
and write it back: concurrent requests read the same log, so a 50/minute throttle
let 55–68 of a 200-request burst through. Here each hit is one atomic step: a Lua
script in Redis (a sliding-window log in a sorted set: drop what left the window,
count, add if under the limit) shared by every web process, or, without Redis, the
same log in process memory under a lock.

When Redis is down or frozen the throttles keep answering: the count falls back to
the process's own memory (a per-process limit, not a shared one), the outage is
logged once (budget_system.outage), and Redis is tried again every few seconds. The
cache's socket timeouts are short (settings.CACHE_SOCKET_TIMEOUT), so a frozen Redis
costs one short wait per probe, never a hung request.

Unauthenticated requests are counted per client IP (`AnonRateThrottle`). DRF checks
authentication and permissions before throttles, so a request with no or a made-up
token would be a 401 forever; `api_exception_handler` counts those in the same
per-IP bucket and answers 429 once it is full.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from budget_system.client_ip import client_ip
from budget_system.outage import Outage

logger = logging.getLogger(__name__)

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# How often a process tries Redis again while it is down.
REDIS_PROBE_SECONDS = 5.0

# KEYS[1]: the sorted set of one bucket (score: arrival in ms by Redis's clock, so
# every web host agrees). ARGV: limit, window in ms, a member unique to this hit.
# Returns {1, 0} when admitted, {0, ms until the oldest hit leaves the window} when not.
SLIDING_WINDOW_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/minute" as (600, 60); the settings have checked the format."""
    count, period = rate.split("/")
    return int(count), PERIOD_SECONDS[period[0]]


class LocalWindows:
    """Sliding-window logs in this process's memory, one lock for all of them."""

    # Buckets kept before the idle ones are dropped (a flood of distinct IPs).
    max_buckets = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, *, limit: int, seconds: int) -> tuple[bool, float]:
        now = time.time()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_buckets:
                    self._drop_idle(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - seconds:
                hits.popleft()
            if len(hits) < limit:
                hits.append(now)
                return True, 0.0
            return False, hits[0] + seconds - now

    def _drop_idle(self, now: float) -> None:
        # A bucket idle for a day has nothing left in any window we use.
        idle = [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - 86400]
        for key in idle:
            del self._hits[key]
        if len(self._hits) >= self.max_buckets:
            self._hits.clear()


class RedisWindows:
    """Sliding-window logs in Redis, falling back to a LocalWindows while it is unreachable."""

    max_connections = 50  # per web process, far above its threads

    def __init__(self, url: str, *, prefix: str, options: dict[str, Any]) -> None:
        self.url = url
        self.prefix = prefix
        # No retries: a dead Redis should cost one short timeout, then the fallback. A
        # blocking pool: a burst of threads waits its turn for a connection (briefly: one
        # script takes microseconds) instead of failing over like an outage.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=self.max_connections,
            timeout=options.get("socket_timeout") or 1.0,
            retry=Retry(NoBackoff(), 0),
            **options,
        )
        self.client = redis.Redis(connection_pool=pool)
        self.script = self.client.register_script(SLIDING_WINDOW_LUA)
        self.fallback = LocalWindows()
        self.outage = Outage(
            f"Redis for the API throttles ({server_name(url)})", logger=logger, probe_seconds=REDIS_PROBE_SECONDS
        )

    def hit(self, key: str, *, limit: int, seconds: int) -> tuple[bool, float]:
        if self.outage.should_try():
            try:
                admitted, wait_ms = self.script(
                    keys=[f"{self.prefix}:throttle:{key}"], args=[limit, seconds * 1000, secrets.token_hex(8)]
                )
            except redis.RedisError as error:
                self.outage.failed(error, fallback="API throttles count per web process")
            else:
                self.outage.succeeded()
                return bool(admitted), max(int(wait_ms), 0) / 1000
        return self.fallback.hit(key, limit=limit, seconds=seconds)


def server_name(url: str) -> str:
    """host:port/db of a Redis URL, for the log (never its password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path}" if parts.hostname else parts.path


@cache
def throttle_windows() -> LocalWindows | RedisWindows:
    """The counter the throttles use: the Redis cache's server if there is one."""
    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return LocalWindows()
    location = config["LOCATION"]
    url = location[0] if isinstance(location, (list, tuple)) else location.split(",")[0]
    options = {
        name: value
        for name, value in config.get("OPTIONS", {}).items()
        if name not in {"parser_class", "pool_class", "serializer"}
    }
    return RedisWindows(url, prefix=config.get("KEY_PREFIX", ""), options=options)


@receiver(setting_changed)
def _forget_windows(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        throttle_windows.cache_clear()


# --- The throttles ---------------------------------------------------------------------


class WindowRateThrottle(BaseThrottle):
    """At most `<count>` requests per `<period>` per identity (the rate of `scope`)."""

    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def get_rate(self) -> str | None:
        # Read on each request: DRF's class attribute would keep the rates of import time.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        rate, identity = self.get_rate(), self.identity(request)
        if rate is None or identity is None:
            return True
        limit, seconds = parse_rate(rate)
        admitted, self._wait = throttle_windows().hit(f"{self.scope}:{identity}", limit=limit, seconds=seconds)
        return admitted

    def wait(self) -> float | None:
        return self._wait


class UserRateThrottle(WindowRateThrottle):
    """Authenticated requests, per user (rate `user`)."""

    scope = "user"

    def identity(self, request: Request) -> str | None:
        user = request.user
        return f"user-{user.pk}" if user and user.is_authenticated else None


class AnonRateThrottle(WindowRateThrottle):
    """Unauthenticated requests, per client IP (rate `anon`)."""

    scope = "anon"

    def identity(self, request: Request) -> str | None:
        user = request.user
        if user and user.is_authenticated:
            return None
        return f"ip-{client_ip(request)}"


def api_exception_handler(exc: Exception, context: dict[str, Any]):
    """DRF's handler, with failed authentication counted per IP (429 once over the rate).

    DRF raises NotAuthenticated / AuthenticationFailed before it looks at throttles,
    so without this a client could send made-up tokens for ever, each a cheap 401.
    """
    # Imported here: rest_framework.views reads DEFAULT_THROTTLE_CLASSES (this module)
    # when it is imported, so importing it at the top would be circular.
    from rest_framework.views import exception_handler

    if isinstance(exc, (NotAuthenticated, AuthenticationFailed)):
        throttle = AnonRateThrottle()
        if not throttle.allow_request(context["request"], context["view"]):
            exc = Throttled(wait=throttle.wait())
    return exception_handler(exc, context)
