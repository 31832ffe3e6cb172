"""The beat schedule in settings holds SPEC §5's four periodic tasks and the alerts' two
at their cadence, and each run expires (and is killed) before the next one is due."""

import pytest
from celery.schedules import crontab
from django.conf import settings

from budget_system.celery import app

EVERY_MINUTE = set(range(60))
QUARTER_HOURS = {0, 15, 30, 45}

# SPEC §5: task -> the UTC minutes of each hour it runs at.
SPEC_CADENCE = {
    "campaigns.tasks.check_all_campaign_budgets": set(range(0, 60, 10)),
    "campaigns.tasks.reactivate_daily_campaigns": QUARTER_HOURS,
    "campaigns.tasks.reactivate_monthly_campaigns": QUARTER_HOURS,
    "campaigns.tasks.enforce_dayparting_for_all_campaigns": EVERY_MINUTE,
}
# SPEC §12: deliveries whose message was lost, and the status-change webhook drain.
ALERTS_CADENCE = {
    "alerts.tasks.retry_due_deliveries": EVERY_MINUTE,
    "alerts.tasks.drain_status_change_webhooks": EVERY_MINUTE,
}
CADENCE = SPEC_CADENCE | ALERTS_CADENCE


def entries_by_task() -> dict[str, dict]:
    return {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def shortest_gap_seconds(minutes: set[int]) -> int:
    ordered = sorted(minutes)
    gaps = [later - earlier for earlier, later in zip(ordered, ordered[1:], strict=False)]
    gaps.append(ordered[0] + 60 - ordered[-1])
    return min(gaps) * 60


# Beyond SPEC §5's four: the drain's safety net, for brands marked pending while the
# broker was down.
SAFETY_NET = {"campaigns.tasks.drain_pending_brands": EVERY_MINUTE}


def test_beat_schedule_holds_the_four_periodic_tasks_the_drain_safety_net_and_the_alerts_tasks():
    assert set(entries_by_task()) == set(SPEC_CADENCE) | set(SAFETY_NET) | set(ALERTS_CADENCE)
    assert len(settings.CELERY_BEAT_SCHEDULE) == 7


def test_the_drain_safety_net_runs_every_minute_and_expires_before_the_next():
    entry = entries_by_task()["campaigns.tasks.drain_pending_brands"]
    assert entry["schedule"].minute == EVERY_MINUTE
    assert 0 < entry["options"]["expire_seconds"] < 60


def test_periodic_runs_and_drains_have_their_own_queues():
    app.loader.import_default_modules()
    for task in SPEC_CADENCE:
        assert app.amqp.router.route({}, task)["queue"].name == "periodic"
    assert app.amqp.router.route({}, "campaigns.tasks.enforce_shard")["queue"].name == "periodic"
    assert app.amqp.router.route({}, "campaigns.tasks.drain_pending_brands")["queue"].name == "drains"


@pytest.mark.parametrize("task", sorted(CADENCE))
def test_each_task_runs_at_its_spec_minutes_every_hour_of_every_day(task):
    schedule = entries_by_task()[task]["schedule"]
    assert isinstance(schedule, crontab), "crontab, so a beat restart does not shift the ticks"
    assert schedule.minute == CADENCE[task]
    assert schedule.hour == set(range(24))
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))


@pytest.mark.parametrize("task", sorted(CADENCE))
def test_each_periodic_run_expires_before_the_next_is_due(task):
    interval = shortest_gap_seconds(CADENCE[task])
    expires = entries_by_task()[task]["options"]["expire_seconds"]
    assert 0 < expires < interval


@pytest.mark.parametrize("task", sorted(CADENCE))
def test_each_periodic_task_is_killed_before_the_next_run_is_due(task):
    app.loader.import_default_modules()
    registered = app.tasks[task]
    interval = shortest_gap_seconds(CADENCE[task])
    assert registered.soft_time_limit < registered.time_limit < interval


def test_every_scheduled_task_is_registered_with_the_celery_app():
    app.loader.import_default_modules()
    assert set(CADENCE) <= set(app.tasks)
    assert "campaigns.tasks.enforce_brand_campaigns" in app.tasks


def test_beat_uses_the_database_scheduler_in_utc():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.timezone == "UTC"
    assert app.conf.enable_utc is True
