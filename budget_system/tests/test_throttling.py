"""API throttles: exact counts under concurrency, per-IP limits for unauthenticated
requests, and answers within a second while Redis is down or frozen."""

import logging
import threading
import time
import uuid

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from budget_system import throttling
from budget_system.client_ip import client_ip
from budget_system.tests import private_services
from budget_system.tests.served import closed_port
from campaigns.tests.factories import CampaignFactory
from conftest import redis_url, wait_for

CAMPAIGNS_URL = "/api/v1/campaigns/"
SPEND_URL = "/api/v1/spend/"


def concurrent_hits(windows, *, count: int, limit: int, key: str) -> int:
    """`count` hits released together from `count` threads; how many were admitted."""
    start = threading.Barrier(count)
    admitted = []

    def hit() -> None:
        start.wait()
        admitted.append(windows.hit(key, limit=limit, seconds=60)[0])

    threads = [threading.Thread(target=hit) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(admitted)


def test_process_memory_windows_admit_exactly_the_limit_of_a_concurrent_burst():
    assert concurrent_hits(throttling.LocalWindows(), count=200, limit=50, key="burst") == 50


def test_a_hit_leaves_the_window_after_its_period():
    windows = throttling.LocalWindows()
    with time_machine.travel(0, tick=False) as traveller:
        assert windows.hit("k", limit=2, seconds=60) == (True, 0.0)
        traveller.shift(10)
        assert windows.hit("k", limit=2, seconds=60)[0]
        assert windows.hit("k", limit=2, seconds=60) == (False, 50.0)  # the first hit leaves at 60
        traveller.shift(50.5)
        assert windows.hit("k", limit=2, seconds=60)[0]
        assert not windows.hit("k", limit=2, seconds=60)[0]


@pytest.mark.redis
def test_redis_windows_admit_exactly_the_limit_of_a_concurrent_burst():
    prefix = f"test-{uuid.uuid4().hex}"
    windows = throttling.RedisWindows(redis_url(), prefix=prefix, options={"socket_timeout": 5})
    try:
        assert concurrent_hits(windows, count=200, limit=50, key="burst") == 50
        assert not windows.outage.is_down
        assert windows.client.zcard(f"{prefix}:throttle:burst") == 50
        admitted, wait = windows.hit("burst", limit=50, seconds=60)
        assert not admitted and 0 < wait <= 60
    finally:
        windows.client.delete(f"{prefix}:throttle:burst")  # only our own key: never a flush


# --- Unauthenticated requests ----------------------------------------------------------


@pytest.mark.django_db
def test_requests_without_a_valid_token_are_throttled_per_ip(settings):
    """The issue's flood: 300 requests with no or a made-up token were 300 x 401."""
    limit = throttling.parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"])[0]
    campaign = CampaignFactory()
    made_up = APIClient()
    made_up.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    statuses = []
    for n in range(300):
        client = made_up if n % 2 else APIClient()
        if n % 3:
            response = client.get(CAMPAIGNS_URL)
        else:
            response = client.post(SPEND_URL, [{"campaign": campaign.pk}], format="json")
        statuses.append(response.status_code)
    assert statuses == [401] * limit + [429] * (300 - limit)
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"]


@pytest.mark.django_db
def test_a_valid_token_is_not_held_back_by_its_ips_unauthenticated_requests(settings, django_user_model):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/minute"},
    }
    assert [APIClient().get(CAMPAIGNS_URL).status_code for _ in range(4)] == [401, 401, 401, 429]
    user = django_user_model.objects.create_user("reader")
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert reader.get(CAMPAIGNS_URL).status_code == 200


def test_forwarded_for_is_believed_only_as_far_as_proxies_are_trusted(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.9"  # the header is the client's to forge
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.7"  # "6.6.6.6" was written by the client itself
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(garbage) == "10.0.0.9"


@pytest.mark.django_db
def test_clients_behind_a_trusted_proxy_get_a_bucket_each(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/minute"},
    }

    def statuses(forwarded_for: str) -> list[int]:
        return [APIClient().get(CAMPAIGNS_URL, HTTP_X_FORWARDED_FOR=forwarded_for).status_code for _ in range(3)]

    settings.TRUSTED_PROXY_COUNT = 1
    assert statuses("198.51.100.1") == [401, 401, 429]
    assert statuses("198.51.100.2") == [401, 401, 429]
    throttling.throttle_windows.cache_clear()
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy trusted: a forged header changes nothing
    assert statuses("198.51.100.3") == [401, 401, 429]
    assert statuses("198.51.100.4") == [429, 429, 429]


# --- Redis down or frozen ---------------------------------------------------------------


@pytest.fixture
def reader(django_user_model):
    user = django_user_model.objects.create_user("reader")
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def point_cache_at(settings, url: str, *, user_rate: str = "1000/minute") -> None:
    """The production cache configuration (short timeouts), on another Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {
                "socket_connect_timeout": settings.CACHE_SOCKET_TIMEOUT,
                "socket_timeout": settings.CACHE_SOCKET_TIMEOUT,
            },
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": user_rate},
    }


def timed_get(client) -> tuple[int, float]:
    started = time.monotonic()
    status = client.get(CAMPAIGNS_URL).status_code
    return status, time.monotonic() - started


def outage_records(caplog, event: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if getattr(record, "event", None) == event]


@pytest.mark.django_db
def test_with_redis_refusing_connections_the_api_answers_and_still_throttles(settings, reader, caplog):
    point_cache_at(settings, f"redis://127.0.0.1:{closed_port()}/0", user_rate="20/minute")
    CampaignFactory()
    answers = [timed_get(reader) for _ in range(25)]
    assert [status for status, _ in answers] == [200] * 20 + [429] * 5  # counted in process memory
    slowest = max(seconds for _, seconds in answers)
    assert slowest < 1, f"a request took {slowest:.2f} s with Redis down"
    (started,) = outage_records(caplog, "outage_started")  # once, not once per request
    assert "API throttles count per web process" in started.getMessage()
    print(f"Redis refusing: 25 requests, slowest {slowest * 1000:.0f} ms")


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own on a free port, which the test may freeze or stop."""
    with private_services.redis_server(tmp_path) as server:
        yield server


@pytest.mark.django_db
def test_with_redis_frozen_the_api_answers_within_a_second_and_goes_back_to_it(
    settings, reader, private_redis, caplog, monkeypatch
):
    monkeypatch.setattr(throttling, "REDIS_PROBE_SECONDS", 0.5)
    point_cache_at(settings, private_redis.url())
    CampaignFactory()
    assert [timed_get(reader)[0] for _ in range(3)] == [200] * 3
    assert len(private_redis.client().keys("*throttle*")) == 1  # counted in Redis while it answers

    private_redis.freeze()  # accepts connections, answers nothing
    frozen = [timed_get(reader) for _ in range(30)]
    assert [status for status, _ in frozen] == [200] * 30
    slowest = max(seconds for _, seconds in frozen)
    assert slowest < 1, f"a request took {slowest:.2f} s with Redis frozen"
    assert len(outage_records(caplog, "outage_started")) == 1
    print(f"Redis frozen: 30 requests, slowest {slowest * 1000:.0f} ms, all 200")

    private_redis.thaw()
    windows = throttling.throttle_windows()
    assert wait_for(lambda: timed_get(reader)[0] == 200 and not windows.outage.is_down, timeout=10)
    (ended,) = outage_records(caplog, "outage_ended")
    assert ended.failures >= 1
