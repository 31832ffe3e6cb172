"""/metrics: a bearer token or nothing; the gauges from a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, PendingBrand
from campaigns.tests.factories import CampaignFactory
from conftest import wait_for
from operations.tests.factories import TaskHeartbeatFactory
from spend.services import SpendRow, spend_rows_upsert

pytestmark = [pytest.mark.django_db]

TOKEN = "scrape-token-0123456789abcdef"
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
S = Campaign.Status
R = Campaign.PauseReason


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_do_not_exist_without_a_token_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer wrong-token-0123456789", f"Token {TOKEN}", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_metrics_refuse_a_missing_or_wrong_token(client, metrics_on, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"budget_" not in response.content


def test_metrics_serve_campaigns_by_status_and_reason(client, metrics_on):
    CampaignFactory.create_batch(3)
    CampaignFactory.create_batch(2, status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    CampaignFactory(status=S.PAUSED_BY_USER)
    samples = scrape(client)
    by_status = {labels: value for (name, labels), value in samples.items() if name == "budget_campaigns"}
    assert by_status[(("reason", "none"), ("status", "ACTIVE"))] == 3
    assert by_status[(("reason", "DAILY_BUDGET"), ("status", "PAUSED_BY_SYSTEM"))] == 2
    assert by_status[(("reason", "none"), ("status", "PAUSED_BY_USER"))] == 1
    # Every allowed pair is a series, at 0 when no campaign is in it.
    assert by_status[(("reason", "DAYPARTING"), ("status", "PAUSED_BY_SYSTEM"))] == 0
    assert len(by_status) == 7


def test_metrics_serve_each_tasks_age_duration_runs_and_lateness(client, metrics_on):
    with time_machine.travel(NOW, tick=False):
        TaskHeartbeatFactory(
            task_name="check_all_campaign_budgets",
            last_finished_at=NOW - datetime.timedelta(minutes=30),
            last_duration_ms=2500,
            runs_finished=41,
        )
        TaskHeartbeatFactory(task_name="drain_pending_brands", last_finished_at=NOW, runs_finished=7)
        samples = scrape(client)
    task = (("task", "check_all_campaign_budgets"),)
    assert samples[("budget_task_last_finished_age_seconds", task)] == 1800
    assert samples[("budget_task_last_started_age_seconds", task)] == 1801.5
    assert samples[("budget_task_last_duration_seconds", task)] == 2.5
    assert samples[("budget_task_runs_finished_total", task)] == 41
    assert samples[("budget_enforcement_late", task)] == 1
    # Dayparting has not run in the 30 minutes since the first task did.
    assert samples[("budget_enforcement_late", (("task", "enforce_dayparting_for_all_campaigns"),))] == 1
    assert samples[("budget_enforcement_drains_total", ())] == 7


def test_drain_lag_is_the_age_of_the_oldest_pending_brand_and_0_when_none(client, metrics_on):
    samples = scrape(client)
    assert samples[("budget_enforcement_drain_lag_seconds", ())] == 0
    assert samples[("budget_enforcement_pending_brands", ())] == 0
    assert samples[("budget_enforcement_drains_total", ())] == 0

    with time_machine.travel(NOW, tick=False):
        PendingBrand.objects.create(brand=BrandFactory(), marked_at=NOW - datetime.timedelta(seconds=90))
        PendingBrand.objects.create(brand=BrandFactory(), marked_at=NOW - datetime.timedelta(seconds=5))
        samples = scrape(client)
    assert samples[("budget_enforcement_drain_lag_seconds", ())] == 90
    assert samples[("budget_enforcement_pending_brands", ())] == 2


@pytest.mark.parametrize("campaigns", [10, 1000])
def test_a_scrape_costs_four_queries_whatever_the_size(client, metrics_on, django_assert_max_num_queries, campaigns):
    brands = BrandFactory.create_batch(5)
    Campaign.objects.bulk_create(
        Campaign(
            brand=brands[i % 5],
            name=f"c{i}",
            status=S.PAUSED_BY_SYSTEM if i % 3 else S.ACTIVE,
            pause_reason=R.DAILY_BUDGET if i % 3 else "",
        )
        for i in range(campaigns)
    )
    for brand in brands:
        PendingBrand.objects.create(brand=brand, marked_at=NOW)
    for task_name in ("check_all_campaign_budgets", "enforce_dayparting_for_all_campaigns", "drain_pending_brands"):
        TaskHeartbeatFactory(task_name=task_name)
    with django_assert_max_num_queries(4):
        samples = scrape(client)
    assert samples[("budget_campaigns", (("reason", "DAILY_BUDGET"), ("status", "PAUSED_BY_SYSTEM")))] == sum(
        1 for i in range(campaigns) if i % 3
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_spend_rows_ingested_count_inserts_and_updates(client, metrics_on):
    def ingested() -> tuple[float, float]:
        samples = scrape(client)
        return (
            samples[("budget_spend_rows_ingested_total", (("operation", "insert"),))],
            samples[("budget_spend_rows_ingested_total", (("operation", "update"),))],
        )

    inserted, updated = ingested()
    campaign = CampaignFactory()

    def row(day: int, daily: str) -> SpendRow:
        return SpendRow(campaign.pk, campaign.brand_id, datetime.date(2026, 11, day), Decimal(daily), Decimal("100"))

    # What the API and import_spend write with: 3 new rows, then 1 changed and 1 replayed.
    assert spend_rows_upsert(rows=[row(1, "10"), row(2, "10"), row(3, "10")]) == (3, 0, 0)
    assert spend_rows_upsert(rows=[row(1, "11"), row(2, "10")]) == (0, 1, 1)
    # PostgreSQL publishes a session's table counts when it is idle, within a second.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert wait_for(lambda: ingested() == (inserted + 3, updated + 1), timeout=10), ingested()
