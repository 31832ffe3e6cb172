"""/healthz, /healthz/enforcement and the admin's late banner."""

import datetime

import pytest
import time_machine

from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns
from campaigns.tests.factories import CampaignFactory
from operations.middleware import PROBE_PATHS
from operations.tests.factories import TaskHeartbeatFactory

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
BANNER = "Enforcement is late"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: pytest-django makes any database access here an error.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(PROBE_PATHS))
def test_probes_answer_a_container_address_over_plain_http(client, settings, path):
    """A probe's Host is the container's address and its scheme http: neither may turn it away."""
    settings.ALLOWED_HOSTS = ["budget.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(path, HTTP_HOST="10.0.3.7:8000")
    assert response.status_code not in {301, 302, 400}
    # Everything else still goes through the host check and the redirect.
    assert client.get("/admin/", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_every_probe_route_is_served_first_by_the_probe_middleware():
    from django.urls import get_resolver

    from operations import views

    probe_views = {views.healthz, views.readyz, views.enforcement_health, views.metrics}
    routed = {"/" + str(pattern.pattern) for pattern in get_resolver().url_patterns if pattern.callback in probe_views}
    assert routed == PROBE_PATHS


def test_probes_refuse_to_write(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_enforcement_is_ok_while_both_sweeps_finish_in_time(client, frozen):
    TaskHeartbeatFactory(task_name="check_all_campaign_budgets", last_finished_at=NOW - datetime.timedelta(minutes=24))
    TaskHeartbeatFactory(
        task_name="enforce_dayparting_for_all_campaigns", last_finished_at=NOW - datetime.timedelta(minutes=4)
    )
    response = client.get("/healthz/enforcement")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_late_enforcement_is_503_with_a_banner_and_a_finished_run_turns_it_back(client, staff_client, frozen):
    CampaignFactory(is_dayparting_enabled=True)
    TaskHeartbeatFactory(task_name="check_all_campaign_budgets", last_finished_at=NOW - datetime.timedelta(minutes=26))
    TaskHeartbeatFactory(
        task_name="enforce_dayparting_for_all_campaigns", last_finished_at=NOW - datetime.timedelta(minutes=2)
    )

    response = client.get("/healthz/enforcement")
    assert response.status_code == 503
    # Only up/late and the task names: no times, counts or errors.
    assert response.json() == {"status": "late", "late": ["check_all_campaign_budgets"]}
    for page in ("/admin/", "/admin/campaigns/campaign/"):
        html = staff_client.get(page).content.decode()
        assert BANNER in html, page
        assert "check_all_campaign_budgets last finished 26 minutes ago (expected within 25 minutes)" in html

    check_all_campaign_budgets.apply()

    assert client.get("/healthz/enforcement").status_code == 200
    assert BANNER not in staff_client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_dayparting_is_late_after_5_minutes(client, frozen):
    TaskHeartbeatFactory(task_name="check_all_campaign_budgets", last_finished_at=NOW)
    TaskHeartbeatFactory(
        task_name="enforce_dayparting_for_all_campaigns",
        last_finished_at=NOW - datetime.timedelta(minutes=5, seconds=1),
    )
    response = client.get("/healthz/enforcement")
    assert response.status_code == 503
    assert response.json()["late"] == ["enforce_dayparting_for_all_campaigns"]

    enforce_dayparting_for_all_campaigns.apply()
    assert client.get("/healthz/enforcement").status_code == 200


@pytest.mark.django_db
def test_thresholds_come_from_the_settings(client, settings, frozen):
    settings.ENFORCEMENT_LATE_AFTER_MINUTES = {
        "check_all_campaign_budgets": 60,
        "enforce_dayparting_for_all_campaigns": 2,
    }
    TaskHeartbeatFactory(task_name="check_all_campaign_budgets", last_finished_at=NOW - datetime.timedelta(minutes=50))
    TaskHeartbeatFactory(
        task_name="enforce_dayparting_for_all_campaigns", last_finished_at=NOW - datetime.timedelta(minutes=3)
    )
    assert client.get("/healthz/enforcement").json() == {
        "status": "late",
        "late": ["enforce_dayparting_for_all_campaigns"],
    }


@pytest.mark.django_db
def test_a_system_where_no_task_ever_ran_is_late(client):
    response = client.get("/healthz/enforcement")
    assert response.status_code == 503
    assert response.json()["late"] == ["check_all_campaign_budgets", "enforce_dayparting_for_all_campaigns"]


@pytest.mark.django_db
def test_a_fresh_install_is_not_late_before_its_first_budget_sweep_was_due(client, frozen):
    """Dayparting runs every minute from the start; the budget sweep first comes at :x0."""
    TaskHeartbeatFactory(
        task_name="enforce_dayparting_for_all_campaigns",
        last_finished_at=NOW,
        first_seen_at=NOW - datetime.timedelta(minutes=9),
    )
    assert client.get("/healthz/enforcement").status_code == 200
    frozen.move_to(NOW + datetime.timedelta(minutes=17))
    TaskHeartbeatFactory(task_name="enforce_dayparting_for_all_campaigns", last_finished_at=NOW)
    enforce_dayparting_for_all_campaigns.apply()
    assert client.get("/healthz/enforcement").json()["late"] == ["check_all_campaign_budgets"]


@pytest.mark.django_db
def test_the_banner_costs_one_query_and_is_for_staff_only(client, staff_client, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = staff_client.get("/admin/").wsgi_request.user
    template = Template("{% load operations %}{% enforcement_late_banner %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request}))
    assert BANNER in html
    # The login page (anonymous) shows nothing and reads nothing.
    assert BANNER not in client.get("/admin/login/").content.decode()


@pytest.mark.django_db
def test_the_front_page_shows_each_tasks_heartbeat(staff_client, frozen):
    TaskHeartbeatFactory(
        task_name="check_all_campaign_budgets",
        last_finished_at=NOW - datetime.timedelta(minutes=6),
        last_duration_ms=812,
        last_summary={"examined": 1200, "activated": 4, "paused": 9, "reason_changed": 1},
    )
    html = staff_client.get("/admin/").content.decode()
    assert 'id="heartbeat-panel"' in html
    assert "2026-11-24 11:54:00" in html and "812 ms" in html
    assert "examined 1200, paused 9, activated 4, reason changed 1" in html
    # The dayparting sweep never ran in the 6 minutes since the first task did: listed, and late.
    assert "enforce_dayparting_for_all_campaigns" in html
    assert "heartbeat-late" in html
