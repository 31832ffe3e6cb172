from django.db import models
from django.db.models import Q


class TaskHeartbeat(models.Model):
    """The last run of one enforcement task, updated in place: one row per task name.

    Written by the receivers of the engine's `enforcement_run_started` /
    `enforcement_run_finished` signals; read by the health endpoint, the admin banner,
    `check_enforcement` and /metrics. A handful of rows, read whole.
    """

    task_name = models.CharField(max_length=200, primary_key=True)
    # When this task was first seen starting: the lateness of a task that never finished
    # counts from here (a fresh install is not late before its first sweep was due).
    first_seen_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.BigIntegerField(null=True, blank=True)
    # The finished run's summary: examined, activated, paused, reason_changed.
    last_summary = models.JSONField(default=dict, blank=True)
    # Finished runs since the row was created; /metrics serves it as a counter.
    runs_finished = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["task_name"]
        constraints = [
            models.CheckConstraint(condition=Q(runs_finished__gte=0), name="heartbeat_runs_finished_non_negative"),
            models.CheckConstraint(
                condition=Q(last_duration_ms__isnull=True) | Q(last_duration_ms__gte=0),
                name="heartbeat_duration_null_or_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.task_name
