"""The Celery path for real: a worker on Redis runs the tasks by name; beat's schedule."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask

from budget_system.celery import app
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money
from conftest import _database_url_of_test_database, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

S = Campaign.Status
R = Campaign.PauseReason


def status_of(campaign_id: int) -> tuple[str, str]:
    return tuple(Campaign.objects.values_list("status", "pause_reason").get(pk=campaign_id))


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_each_task_by_name(celery_worker_process):
    today = datetime.datetime.now(datetime.UTC).date()
    over_budget = CampaignFactory(daily_budget=money(10))
    add_spend(over_budget, today, 25)
    outside_windows = CampaignFactory(is_dayparting_enabled=False)

    app.send_task("campaigns.tasks.check_all_campaign_budgets")
    assert wait_for(lambda: status_of(over_budget.pk) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET))

    # Enabled with no windows: never inside.
    Campaign.objects.filter(pk=outside_windows.pk).update(is_dayparting_enabled=True)
    app.send_task("campaigns.tasks.enforce_dayparting_for_all_campaigns")
    assert wait_for(lambda: status_of(outside_windows.pk) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING))

    Campaign.objects.filter(pk=over_budget.pk).update(daily_budget=money(100))
    app.send_task("campaigns.tasks.reactivate_daily_campaigns")
    assert wait_for(lambda: status_of(over_budget.pk) == (S.ACTIVE, ""))

    monthly = CampaignFactory(status=S.PAUSED_BY_SYSTEM, pause_reason=R.MONTHLY_BUDGET, monthly_budget=money(500))
    app.send_task("campaigns.tasks.reactivate_monthly_campaigns")
    assert wait_for(lambda: status_of(monthly.pk) == (S.ACTIVE, ""))

    brand_campaign = CampaignFactory(daily_budget=money(5))
    add_spend(brand_campaign, today, 5)
    app.send_task("campaigns.tasks.enforce_brand_campaigns", args=[[brand_campaign.brand_id], "api"])
    assert wait_for(lambda: status_of(brand_campaign.pk) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET))

    sources = set(CampaignStatusChange.objects.values_list("source", flat=True))
    assert sources == {
        "check_all_campaign_budgets",
        "enforce_dayparting_for_all_campaigns",
        "reactivate_daily_campaigns",
        "reactivate_monthly_campaigns",
        "api",
    }
    log = celery_worker_process.log_path.read_text()
    assert "check_all_campaign_budgets examined=" in log


@pytest.mark.django_db(transaction=True)
def test_beat_starts_with_the_database_scheduler_and_stores_the_schedule(tmp_path):
    env = os.environ | {
        "DATABASE_URL": _database_url_of_test_database(),
        "CELERY_BROKER_URL": app.conf.broker_url,
        "DJANGO_SETTINGS_MODULE": "budget_system.test_settings",
        "DATABASE_CONN_MAX_AGE": "60",
    }
    connection.close()  # beat writes the schedule over its own connection
    log_path = tmp_path / "beat.log"
    command = [sys.executable, "-m", "celery", "-A", "budget_system", "beat", "-l", "info"]
    command += ["--pidfile", str(tmp_path / "beat.pid"), "--max-interval", "1"]
    with open(log_path, "w") as log:
        beat = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Every entry of the schedule in code: beat has finished setting up (stopping it
        # half-way through would interrupt its own writes).
        expected = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        stored = wait_for(
            lambda: expected <= set(PeriodicTask.objects.values_list("task", flat=True)) and beat.poll() is None,
            timeout=30,
        )
        assert stored, log_path.read_text()[-3000:]
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=20)
        except subprocess.TimeoutExpired:
            beat.kill()  # never leave a beat holding the test database
            beat.wait()
            raise
    output = log_path.read_text()
    assert "django_celery_beat.schedulers.DatabaseScheduler" in output

    rows = {row.task.rsplit(".", 1)[1]: row for row in PeriodicTask.objects.select_related("crontab")}
    cadence = {
        name: (row.crontab.minute, row.crontab.hour, row.expire_seconds) for name, row in rows.items() if row.crontab
    }
    assert cadence["check_all_campaign_budgets"] == ("*/10", "*", 540)
    assert cadence["reactivate_daily_campaigns"] == ("0,15,30,45", "*", 840)
    assert cadence["reactivate_monthly_campaigns"] == ("0,15,30,45", "*", 840)
    assert cadence["enforce_dayparting_for_all_campaigns"] == ("*", "*", 55)
    assert all(rows[name].crontab.timezone.key == "UTC" for name in cadence)


@pytest.mark.django_db(transaction=True)
def test_beat_restart_keeps_an_entry_that_ops_disabled(tmp_path):
    from django_celery_beat.schedulers import DatabaseScheduler

    scheduler = DatabaseScheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    PeriodicTask.objects.filter(task="campaigns.tasks.check_all_campaign_budgets").update(enabled=False)
    DatabaseScheduler(app=app, lazy=True).setup_schedule()  # what a beat restart does
    assert not PeriodicTask.objects.get(task="campaigns.tasks.check_all_campaign_budgets").enabled
