"""The heartbeat: one row per task, updated in place by the engine's run signals."""

import datetime
import logging

import pytest
import time_machine

from campaigns import signals
from campaigns.models import Campaign
from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money
from operations.heartbeats import enforcement_late_tasks
from operations.models import TaskHeartbeat

pytestmark = [pytest.mark.django_db]

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)


def test_a_finished_run_records_its_start_finish_duration_and_summary():
    over_budget = CampaignFactory(daily_budget=money(10))
    add_spend(over_budget, NOW.date(), 25)
    CampaignFactory()
    with time_machine.travel(NOW, tick=False):
        check_all_campaign_budgets.apply()

    beat = TaskHeartbeat.objects.get()
    assert beat.task_name == "check_all_campaign_budgets"
    assert beat.first_seen_at == beat.last_started_at == beat.last_finished_at == NOW
    assert beat.last_duration_ms == 0
    assert beat.last_summary == {"examined": 2, "activated": 0, "paused": 1, "reason_changed": 0}
    assert beat.runs_finished == 1


def test_each_task_keeps_one_row_updated_in_place():
    CampaignFactory(is_dayparting_enabled=True)
    for minute in range(3):
        with time_machine.travel(NOW + datetime.timedelta(minutes=minute), tick=False):
            enforce_dayparting_for_all_campaigns.apply()
            check_all_campaign_budgets.apply()

    rows = {row.task_name: row for row in TaskHeartbeat.objects.all()}
    assert set(rows) == {"check_all_campaign_budgets", "enforce_dayparting_for_all_campaigns"}
    dayparting = rows["enforce_dayparting_for_all_campaigns"]
    assert dayparting.runs_finished == 3
    assert dayparting.first_seen_at == NOW
    assert dayparting.last_finished_at == NOW + datetime.timedelta(minutes=2)
    # The first run paused the campaign (no windows); the later ones found nothing to do.
    assert dayparting.last_summary == {"examined": 1, "activated": 0, "paused": 0, "reason_changed": 0}
    assert Campaign.objects.get().pause_reason == Campaign.PauseReason.DAYPARTING


def test_duration_is_the_time_between_the_signals_of_one_sweep():
    """A sharded sweep sends `finished` once, when its last shard commits: that is the duration."""
    started = NOW
    signals.enforcement_run_started.send_robust(sender="x", task_name="drain_pending_brands", started_at=started)
    beat = TaskHeartbeat.objects.get()
    assert (beat.last_started_at, beat.last_finished_at, beat.runs_finished) == (started, None, 0)

    signals.enforcement_run_finished.send_robust(
        sender="x",
        task_name="drain_pending_brands",
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=42, milliseconds=250),
        summary={"examined": 5000, "activated": 2, "paused": 7, "reason_changed": 1},
    )
    beat.refresh_from_db()
    assert beat.last_duration_ms == 42_250
    assert beat.runs_finished == 1
    assert beat.last_summary["examined"] == 5000


def test_a_started_run_that_never_finishes_makes_the_task_late_after_its_threshold():
    signals.enforcement_run_started.send_robust(sender="x", task_name="check_all_campaign_budgets", started_at=NOW)
    signals.enforcement_run_started.send_robust(
        sender="x", task_name="enforce_dayparting_for_all_campaigns", started_at=NOW
    )
    assert enforcement_late_tasks(now=NOW + datetime.timedelta(minutes=4)) == []
    late = enforcement_late_tasks(now=NOW + datetime.timedelta(minutes=6))
    assert [task.task_name for task in late] == ["enforce_dayparting_for_all_campaigns"]
    assert "has not finished once in the 6 minutes" in late[0].describe(NOW + datetime.timedelta(minutes=6))


def test_a_heartbeat_that_cannot_be_written_is_logged_and_the_run_goes_on(caplog, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("operations.receivers.heartbeat_record_finished", broken)
    CampaignFactory()
    with caplog.at_level(logging.ERROR, logger="operations.receivers"):
        result = check_all_campaign_budgets.apply()
    assert result.get()["examined"] == 1
    assert "could not record the finish of check_all_campaign_budgets" in caplog.text
    assert "database went away" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_processes_reporting_a_new_task_at_once_make_one_row_and_count_every_run():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    from operations.heartbeats import heartbeat_record_finished

    start = Barrier(4)

    def report(run: int) -> None:
        start.wait()
        try:
            heartbeat_record_finished(
                task_name="drain_pending_brands",
                started_at=NOW,
                finished_at=NOW + datetime.timedelta(seconds=run),
                summary={"examined": run},
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(report, range(4)))
    beat = TaskHeartbeat.objects.get()
    assert beat.runs_finished == 4
    assert beat.first_seen_at == NOW
