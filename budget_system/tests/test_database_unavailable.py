"""A database that goes away mid-request: 503 with Retry-After, logged once, never a 500.

(The database being down from the start is tested through gunicorn in test_served.)
"""

import logging

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import RequestFactory
from rest_framework.test import APIClient

from budget_system import errors, middleware
from budget_system.errors import server_error
from budget_system.outage import Outage
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage(monkeypatch):
    """A fresh outage state for this test (the module's one is per process)."""
    fresh = Outage("PostgreSQL", logger=errors.logger)
    monkeypatch.setattr(errors, "database_outage", fresh)
    monkeypatch.setattr(middleware, "database_outage", fresh)
    return fresh


def fail_as_if_the_connection_was_lost(self, *args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def connection_lost(monkeypatch):
    """Every query from now on fails as a restarting PostgreSQL makes it fail."""
    monkeypatch.setattr(CursorWrapper, "execute", fail_as_if_the_connection_was_lost)
    monkeypatch.setattr(CursorWrapper, "executemany", fail_as_if_the_connection_was_lost)


def outage_events(caplog) -> list[str]:
    return [record.event for record in caplog.records if getattr(record, "event", "").startswith("outage_")]


def test_api_requests_while_the_connection_is_lost_are_json_503s(outage, staff_user, caplog, connection_lost):
    client = APIClient()
    client.force_authenticate(staff_user)
    for url in ("/api/v1/campaigns/", "/api/v1/campaigns/?brand=1"):
        response = client.get(url)
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response.json() == {
            "detail": "The database is unavailable; nothing was changed. Try again in a few seconds."
        }
    assert outage_events(caplog) == ["outage_started"]  # once, not per request
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_admin_pages_while_the_connection_is_lost_are_plain_503_pages(outage, staff_client, connection_lost):
    response = staff_client.get("/admin/campaigns/campaign/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"The database is unavailable; nothing was changed." in response.content


def test_the_first_answered_request_after_an_outage_logs_that_it_is_over(outage, staff_client, caplog, monkeypatch):
    CampaignFactory()
    with monkeypatch.context() as lost:
        lost.setattr(CursorWrapper, "execute", fail_as_if_the_connection_was_lost)
        assert staff_client.get("/admin/campaigns/campaign/").status_code == 503
        assert staff_client.get("/admin/campaigns/campaign/").status_code == 503
    assert staff_client.get("/admin/campaigns/campaign/").status_code == 200
    assert outage_events(caplog) == ["outage_started", "outage_ended"]
    (ended,) = [record for record in caplog.records if getattr(record, "event", "") == "outage_ended"]
    assert ended.failures == 2


@pytest.mark.parametrize(("path", "content_type"), [("/api/v1/spend/", "application/json"), ("/admin/", "text/html")])
def test_a_database_error_outside_any_view_is_a_503_too(outage, path, content_type):
    # handler500 is called for errors raised by middleware (e.g. saving the session).
    request = RequestFactory().get(path)
    try:
        raise OperationalError("terminating connection due to administrator command")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith(content_type)


def test_any_other_server_error_stays_a_500(outage):
    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = server_error(RequestFactory().get("/api/v1/campaigns/"))
    assert response.status_code == 500
    assert not outage.is_down
