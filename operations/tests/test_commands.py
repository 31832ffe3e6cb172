"""`check_enforcement` (cron, a monitor) and `check_beat` (beat's health check) exit codes."""

import datetime

import pytest
import time_machine
from django.core.management import ManagementUtility
from django.db import connections
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns
from operations.tests.factories import TaskHeartbeatFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    """The command line closes every connection when a command ends; the test's transaction needs its own."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)


def run_command(*argv: str) -> int:
    """Run `manage.py <argv>` as the command line does and return its exit code."""
    try:
        ManagementUtility(["manage.py", *argv]).execute()
    except SystemExit as exit_:
        return exit_.code
    return 0


def test_check_enforcement_exits_1_and_says_what_is_late(capsys):
    with time_machine.travel(NOW, tick=False):
        TaskHeartbeatFactory(
            task_name="check_all_campaign_budgets", last_finished_at=NOW - datetime.timedelta(minutes=40)
        )
        TaskHeartbeatFactory(task_name="enforce_dayparting_for_all_campaigns", last_finished_at=NOW)
        assert run_command("check_enforcement") == 1
    err = capsys.readouterr().err
    assert "enforcement is late: check_all_campaign_budgets last finished 40 minutes ago" in err
    assert "enforce_dayparting_for_all_campaigns" not in err


def test_check_enforcement_exits_0_after_both_sweeps_ran(capsys):
    with time_machine.travel(NOW, tick=False):
        assert run_command("check_enforcement") == 1
        assert "has never run" in capsys.readouterr().err
        check_all_campaign_budgets.apply()
        enforce_dayparting_for_all_campaigns.apply()
        assert run_command("check_enforcement") == 0
    assert "enforcement on time: check_all_campaign_budgets (within 25 min)" in capsys.readouterr().out


def periodic_task(name: str, *, last_run_at, enabled: bool = True) -> PeriodicTask:
    crontab, _ = CrontabSchedule.objects.get_or_create(minute="*", hour="*", timezone="UTC")
    return PeriodicTask.objects.create(
        name=name, task=f"campaigns.tasks.{name}", crontab=crontab, last_run_at=last_run_at, enabled=enabled
    )


def test_check_beat_exits_0_while_beat_sends_tasks(capsys):
    periodic_task("enforce_dayparting_for_all_campaigns", last_run_at=NOW - datetime.timedelta(seconds=200))
    periodic_task("check_all_campaign_budgets", last_run_at=NOW - datetime.timedelta(minutes=9))
    with time_machine.travel(NOW, tick=False):
        assert run_command("check_beat") == 0
    assert "beat last sent a periodic task 200 s ago" in capsys.readouterr().out


def test_check_beat_exits_1_when_beat_stopped_sending(capsys):
    periodic_task("enforce_dayparting_for_all_campaigns", last_run_at=NOW - datetime.timedelta(minutes=7))
    # A disabled entry's old tick says nothing about beat now.
    periodic_task("reactivate_daily_campaigns", last_run_at=NOW, enabled=False)
    with time_machine.travel(NOW, tick=False):
        assert run_command("check_beat") == 1
        assert "beat last sent a periodic task 420 s ago (limit 360 s)" in capsys.readouterr().err
        assert run_command("check_beat", "--max-age", "600") == 0


def test_check_beat_exits_1_before_beat_ever_sent_a_task(capsys):
    periodic_task("enforce_dayparting_for_all_campaigns", last_run_at=None)
    assert run_command("check_beat") == 1
    assert "beat has not sent any enabled periodic task yet" in capsys.readouterr().err
