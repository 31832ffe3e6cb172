"""The OpenAPI schema, its docs page, the token admin, and a schemathesis run against the API."""

import datetime as dt
from decimal import Decimal

import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import SpendFactory


def test_the_schema_describes_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {"/api/v1/spend/", "/api/v1/campaigns/", "/api/v1/status-changes/"}
    spend = schema["paths"]["/api/v1/spend/"]["post"]
    assert set(spend["responses"]) == {"200", "400", "401", "403", "409", "413", "415", "429", "503"}
    assert spend["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert set(schema["components"]["schemas"]["SpendItem"]["required"]) == {
        "campaign",
        "date",
        "daily_spend",
        "monthly_spend",
    }
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_docs_page_points_at_the_schema(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"/api/schema/" in response.content
    # The page's script comes from our own static files, so the docs work offline.
    assert b"/static/drf_spectacular_sidecar/redoc/" in response.content
    assert b"cdn." not in response.content


@pytest.mark.django_db
def test_tokens_are_managed_in_the_admin(staff_client):
    response = staff_client.get("/admin/authtoken/tokenproxy/")
    assert response.status_code == 200
    assert staff_client.get("/admin/authtoken/tokenproxy/add/").status_code == 200


# --- schemathesis ------------------------------------------------------------------


# schemathesis's WSGI client sends Host: localhost. (Loaded at import, not through
# schemathesis.pytest.from_fixture, whose lazy loader does not work with pytest 9.)
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def wsgi_calls_in_the_test_transaction(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    # Django closes the connection at the end of each raw WSGI request; inside the test
    # transaction that would lose it (Django's own test client does the same as this).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token_headers(django_user_model, settings):
    # A private, empty cache for the throttle counts (never flush a shared Redis).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fuzz"}}
    cache.clear()
    user = django_user_model.objects.create_user("fuzzer")
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_spend", "change_spend", "view_campaign", "view_campaignstatuschange"]
        )
    )
    # Real rows, so some generated ids hit something.
    for campaign in CampaignFactory.create_batch(3, daily_budget=Decimal("5.00")):
        SpendFactory(campaign=campaign, date=dt.date(2026, 11, 1))
    yield {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    cache.clear()


@pytest.mark.django_db
@schema.parametrize()
@hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_the_api_never_answers_5xx_and_keeps_to_its_schema(case, wsgi_calls_in_the_test_transaction, token_headers):
    response = case.call(headers=token_headers)
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    assert response.status_code < 500
