"""LOG_FORMAT=json: one JSON object a line with the engine's fields; the settings this app reads."""

import datetime
import json
import logging
import logging.config
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from budget_system.celery import app
from budget_system.tests.test_settings_env import load_settings  # noqa: F401 - a fixture
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money
from conftest import wait_for
from operations.models import TaskHeartbeat


def json_formatter(loaded_settings: dict) -> logging.Formatter:
    logging_config = loaded_settings["LOGGING"]
    handler_formatter = logging_config["handlers"]["console"]["formatter"]
    configurator = logging.config.DictConfigurator(logging_config)
    return configurator.configure_formatter(logging_config["formatters"][handler_formatter])


def test_json_lines_carry_the_run_fields_and_timestamp_level_logger_message(load_settings):  # noqa: F811
    formatter = json_formatter(load_settings(DJANGO_DEBUG="true", LOG_FORMAT="json"))
    extra = {
        "event": "enforcement_run",
        "task": "check_all_campaign_budgets",
        "examined": 12,
        "activated": 1,
        "paused": 2,
        "reason_changed": 0,
        "duration_ms": 34,
    }
    record = logging.getLogger("campaigns.tasks").makeRecord(
        "campaigns.tasks",
        logging.INFO,
        __file__,
        1,
        "%s examined=%d",
        ("check_all_campaign_budgets", 12),
        None,
        extra=extra,
    )
    line = formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed == {
        **extra,
        "message": "check_all_campaign_budgets examined=12",
        "level": "INFO",
        "logger": "campaigns.tasks",
        "timestamp": parsed["timestamp"],
    }
    assert datetime.datetime.fromisoformat(parsed["timestamp"]).utcoffset() == datetime.timedelta(0)


def test_any_other_record_becomes_a_json_line_too_with_its_traceback(load_settings):  # noqa: F811
    formatter = json_formatter(load_settings(DJANGO_DEBUG="true", LOG_FORMAT="json"))
    try:
        raise ValueError("bad row")
    except ValueError:
        import sys

        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x",), sys.exc_info()
        )
    parsed = json.loads(formatter.format(record))
    assert parsed["level"] == "ERROR" and parsed["logger"] == "django.request"
    assert parsed["message"] == "Internal Server Error: /x"
    assert "ValueError: bad row" in parsed["exc_info"]


def test_text_is_the_default_format(load_settings):  # noqa: F811
    loaded = load_settings(DJANGO_DEBUG="true")
    assert loaded["LOG_FORMAT"] == "text"
    assert loaded["LOGGING"]["handlers"]["console"]["formatter"] == "text"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOG_FORMAT", "yaml", "LOG_FORMAT='yaml' is not a log format: use text or json."),
        (
            "ENFORCEMENT_LATE_BUDGETS_MINUTES",
            "0",
            "ENFORCEMENT_LATE_BUDGETS_MINUTES='0' is not a positive whole number",
        ),
        ("ENFORCEMENT_LATE_DAYPARTING_MINUTES", "5m", "ENFORCEMENT_LATE_DAYPARTING_MINUTES='5m' is not a positive"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN (5 characters) is not a usable token"),
        ("METRICS_TOKEN", "has spaces in the middle of it", "METRICS_TOKEN (30 characters) is not a usable token"),
    ],
)
def test_bad_operations_settings_stop_the_start_naming_the_variable(load_settings, name, value, message):  # noqa: F811
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)) as error:
        load_settings(DJANGO_DEBUG="true", **{name: value})
    if name == "METRICS_TOKEN":
        assert value not in str(error.value), "a secret must not be printed"


def test_thresholds_and_token_are_read_from_the_environment(load_settings):  # noqa: F811
    loaded = load_settings(
        DJANGO_DEBUG="true",
        ENFORCEMENT_LATE_BUDGETS_MINUTES="40",
        ENFORCEMENT_LATE_DAYPARTING_MINUTES="3",
        METRICS_TOKEN="abcdefghijklmnop-1234",
    )
    assert loaded["ENFORCEMENT_LATE_AFTER_MINUTES"] == {
        "check_all_campaign_budgets": 40,
        "enforce_dayparting_for_all_campaigns": 3,
    }
    assert loaded["METRICS_TOKEN"] == "abcdefghijklmnop-1234"


@pytest.fixture
def json_logs(monkeypatch):
    """The worker started after this fixture logs JSON (it reads LOG_FORMAT from its environment)."""
    monkeypatch.setenv("LOG_FORMAT", "json")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_one_json_line_per_run_and_per_status_change(json_logs, celery_worker_process):
    today = datetime.datetime.now(datetime.UTC).date()
    over_budget = CampaignFactory(daily_budget=money(10))
    add_spend(over_budget, today, 25)
    CampaignFactory()

    app.send_task("campaigns.tasks.check_all_campaign_budgets")
    assert wait_for(lambda: TaskHeartbeat.objects.filter(task_name="check_all_campaign_budgets").exists())

    def events() -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for line in celery_worker_process.log_path.read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                found.setdefault(record.get("event", ""), []).append(record)
        return found

    assert wait_for(lambda: "enforcement_run" in events())
    # Celery's own records are JSON lines too; no line is in a text log format (ours starts
    # with the date, Celery's with "[date"). Its start-up banner is printed, not logged.
    lines = celery_worker_process.log_path.read_text().splitlines()
    assert [line for line in lines if re.match(r"\[?\d{4}-\d\d-\d\d", line)] == []
    assert any(json.loads(line)["logger"] == "celery.apps.worker" for line in lines if line.startswith("{"))

    (run,) = events()["enforcement_run"]
    assert {key: run[key] for key in ("task", "examined", "activated", "paused", "reason_changed")} == {
        "task": "check_all_campaign_budgets",
        "examined": 2,
        "activated": 0,
        "paused": 1,
        "reason_changed": 0,
    }
    assert isinstance(run["duration_ms"], int)
    assert run["level"] == "INFO" and run["logger"] == "campaigns.tasks" and run["timestamp"]
    assert run["message"].startswith("check_all_campaign_budgets examined=2 activated=0 paused=1")

    (change,) = events()["status_change"]
    assert change["campaign_id"] == over_budget.pk
    assert (change["old_status"], change["new_status"], change["new_reason"]) == (
        Campaign.Status.ACTIVE,
        Campaign.Status.PAUSED_BY_SYSTEM,
        Campaign.PauseReason.DAILY_BUDGET,
    )
    assert change["actor"] == "system" and change["source"] == "check_all_campaign_budgets"
