"""Settings of this issue's defences: short cache timeouts, key prefix, proxies, lockout."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from budget_system.tests.test_settings_env import load_settings  # noqa: F401 (a fixture)


def test_the_redis_cache_gives_up_within_a_quarter_second(load_settings):  # noqa: F811
    cache = load_settings(DJANGO_DEBUG="true", REDIS_URL="redis://cache.internal:6379/3")["CACHES"]["default"]
    assert cache["OPTIONS"] == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    assert cache["KEY_PREFIX"] == "budget_system"


def test_a_key_prefix_keeps_deployments_sharing_a_redis_apart(load_settings):  # noqa: F811
    loaded = load_settings(DJANGO_DEBUG="true", REDIS_URL="redis://cache.internal:6379/3", REDIS_KEY_PREFIX="staging")
    assert loaded["CACHES"]["default"]["KEY_PREFIX"] == "staging"


def test_postgresql_connections_time_out(load_settings):  # noqa: F811
    loaded = load_settings(DJANGO_DEBUG="true", DATABASE_URL="postgres://budget@db.internal:5432/budget_system")
    assert loaded["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 5


def test_no_proxy_is_trusted_unless_configured(load_settings):  # noqa: F811
    loaded = load_settings(DJANGO_DEBUG="true")
    assert loaded["TRUSTED_PROXY_COUNT"] == 0
    assert loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    assert loaded["AXES_CLIENT_IP_CALLABLE"] == "budget_system.client_ip.client_ip"
    loaded = load_settings(DJANGO_DEBUG="true", DJANGO_TRUSTED_PROXY_COUNT="2")
    assert loaded["TRUSTED_PROXY_COUNT"] == loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 2


def test_the_lockout_reads_its_limit_and_duration(load_settings):  # noqa: F811
    loaded = load_settings(DJANGO_DEBUG="true", ADMIN_LOGIN_FAILURE_LIMIT="3", ADMIN_LOGIN_LOCKOUT_MINUTES="60")
    assert loaded["AXES_FAILURE_LIMIT"] == 3
    assert loaded["AXES_COOLOFF_TIME"] == dt.timedelta(minutes=60)
    assert "try again in 60 minutes" in loaded["AXES_COOLOFF_MESSAGE"]
    assert loaded["AXES_LOCKOUT_PARAMETERS"] == ["ip_address"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_TRUSTED_PROXY_COUNT", "-1", "DJANGO_TRUSTED_PROXY_COUNT='-1' is not a whole number of 0 or more"),
        ("DJANGO_TRUSTED_PROXY_COUNT", "one", "DJANGO_TRUSTED_PROXY_COUNT='one' is not a whole number"),
        ("ADMIN_LOGIN_FAILURE_LIMIT", "0", "ADMIN_LOGIN_FAILURE_LIMIT='0' is not a positive whole number"),
        ("ADMIN_LOGIN_LOCKOUT_MINUTES", "soon", "ADMIN_LOGIN_LOCKOUT_MINUTES='soon' is not a positive whole number"),
        ("API_THROTTLE_ANON_RATE", "60/fortnight", "API_THROTTLE_ANON_RATE='60/fortnight' is not a rate"),
    ],
)
def test_a_bad_value_is_refused_naming_it(load_settings, name, value, message):  # noqa: F811
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        load_settings(**{"DJANGO_DEBUG": "true", name: value})
