"""The admin login locks a client IP out after repeated failures (django-axes)."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"


def log_in(client: Client, password: str, **headers: str) -> int:
    response = client.post(LOGIN_URL, {"username": "ops", "password": password, "next": "/admin/"}, **headers)
    return response.status_code


def test_after_the_failure_limit_even_the_right_password_is_refused_until_the_cool_off(staff_user, settings):
    limit = settings.AXES_FAILURE_LIMIT
    with time_machine.travel(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        client = Client()
        # A wrong password shows the form again (200); the limit-th failure locks out (429).
        assert [log_in(client, "wrong") for _ in range(limit)] == [200] * (limit - 1) + [429]
        response = client.post(LOGIN_URL, {"username": "ops", "password": "ops-password-1"})
        assert response.status_code == 429
        assert f"try again in {settings.ADMIN_LOGIN_LOCKOUT_MINUTES} minutes" in response.content.decode()
        assert "_auth_user_id" not in client.session

        traveller.shift(dt.timedelta(minutes=settings.ADMIN_LOGIN_LOCKOUT_MINUTES, seconds=1))
        assert log_in(client, "ops-password-1") == 302  # logged in


def test_a_success_before_the_limit_resets_the_count(staff_user, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong") == 200
    assert log_in(client, "ops-password-1") == 302
    client.logout()
    assert log_in(client, "wrong") == 200  # counted from zero again


def test_another_address_is_not_locked_out(staff_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), "wrong", REMOTE_ADDR="203.0.113.5")
    assert log_in(Client(), "wrong", REMOTE_ADDR="203.0.113.5") == 429
    assert log_in(Client(), "ops-password-1", REMOTE_ADDR="198.51.100.7") == 302


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_out_not_the_proxy(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    assert log_in(Client(), "ops-password-1", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy) == 429
    assert log_in(Client(), "ops-password-1", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy) == 302


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(staff_user, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert log_in(Client(), "ops-password-1", HTTP_X_FORWARDED_FOR="198.51.100.200") == 429
