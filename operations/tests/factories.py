import datetime

import factory

from operations.models import TaskHeartbeat


class TaskHeartbeatFactory(factory.django.DjangoModelFactory):
    """A task that last ran at `last_finished_at` (default: now), taking 1.5 s."""

    class Meta:
        model = TaskHeartbeat
        django_get_or_create = ["task_name"]

    task_name = "check_all_campaign_budgets"
    last_finished_at = factory.LazyFunction(lambda: datetime.datetime.now(datetime.UTC))
    last_started_at = factory.LazyAttribute(lambda row: row.last_finished_at - datetime.timedelta(seconds=1.5))
    first_seen_at = factory.LazyAttribute(lambda row: row.last_started_at)
    last_duration_ms = 1500
    last_summary = factory.LazyFunction(lambda: {"examined": 3, "activated": 0, "paused": 1, "reason_changed": 0})
    runs_finished = 1
