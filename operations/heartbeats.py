"""Task heartbeats: what each enforcement task did last, and whether enforcement is late.

`heartbeat_record_started` / `heartbeat_record_finished` keep one row per task name
(`TaskHeartbeat`), called by the receivers of the engine's run signals.
`enforcement_late_tasks` reads those rows (one query) against the thresholds in
`settings.ENFORCEMENT_LATE_AFTER_MINUTES`; the health endpoint, the admin banner and
`check_enforcement` all ask it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from operations.models import TaskHeartbeat


def _upsert(task_name: str, *, seen_at: datetime, fields: dict[str, Any], finished: bool) -> None:
    """Write the task's row in one statement: INSERT, or on conflict UPDATE `fields` in place.

    One INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite): race-free when two
    processes report the same task at once, and the same single query on the first run as
    on every later one. No savepoint: the engine sends its signals after its transaction
    committed (campaigns/signals.py), so a failed write here spoils no caller's work.
    """
    meta = TaskHeartbeat._meta
    row = {
        "task_name": task_name,
        "first_seen_at": seen_at,
        "last_started_at": None,
        "last_finished_at": None,
        "last_duration_ms": None,
        "last_summary": {},
        "runs_finished": 1 if finished else 0,
        **fields,
    }
    quote = connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in row}
    table = quote(meta.db_table)
    updates = [f"{column[name]} = EXCLUDED.{column[name]}" for name in fields]
    if finished:
        updates.append(f"{column['runs_finished']} = {table}.{column['runs_finished']} + 1")
    sql = (
        f"INSERT INTO {table} ({', '.join(column.values())}) VALUES ({', '.join(['%s'] * len(row))}) "
        f"ON CONFLICT ({column['task_name']}) DO UPDATE SET {', '.join(updates)}"
    )
    values = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in row.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def heartbeat_record_started(*, task_name: str, started_at: datetime) -> None:
    _upsert(task_name, seen_at=started_at, fields={"last_started_at": started_at}, finished=False)


def heartbeat_record_finished(
    *, task_name: str, started_at: datetime, finished_at: datetime, summary: Mapping[str, Any] | None
) -> None:
    duration_ms = max(0, int((finished_at - started_at).total_seconds() * 1000))
    fields = {
        "last_finished_at": finished_at,
        "last_duration_ms": duration_ms,
        "last_summary": dict(summary or {}),
    }
    _upsert(task_name, seen_at=started_at, fields=fields, finished=True)


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@dataclass(frozen=True)
class LateTask:
    """A watched task that has not finished within its threshold."""

    task_name: str
    late_after: timedelta
    # The last finish, or None when the task has never finished.
    last_finished_at: datetime | None
    # What the lateness counts from: the last finish, the task's first start, or the first
    # run of any task (None: no task has ever run here).
    since: datetime | None

    def describe(self, now: datetime) -> str:
        limit = f"expected within {_minutes(self.late_after)}"
        if self.last_finished_at is not None:
            return f"{self.task_name} last finished {_minutes(now - self.last_finished_at)} ago ({limit})"
        if self.since is not None:
            waited = _minutes(now - self.since)
            return f"{self.task_name} has not finished once in the {waited} since enforcement began here ({limit})"
        return f"{self.task_name} has never run (no enforcement task has run yet)"


def thresholds() -> dict[str, timedelta]:
    return {name: timedelta(minutes=minutes) for name, minutes in settings.ENFORCEMENT_LATE_AFTER_MINUTES.items()}


def enforcement_late_tasks(
    *, now: datetime | None = None, heartbeats: Iterable[TaskHeartbeat] | None = None
) -> list[LateTask]:
    """The watched tasks that are late at `now`, in threshold order; empty when all is well.

    One query (every heartbeat row: one per task name, a handful), or none when the rows
    are given. A watched task that never finished counts from its own first start, or
    else from the first start of any task, so a fresh install is not late before its
    first sweep was due; with no task ever run, every watched task is late.
    """
    now = now or timezone.now()
    rows = {row.task_name: row for row in (TaskHeartbeat.objects.all() if heartbeats is None else heartbeats)}
    system_first_seen = min((row.first_seen_at for row in rows.values()), default=None)
    late = []
    for task_name, late_after in thresholds().items():
        row = rows.get(task_name)
        finished = row.last_finished_at if row else None
        since = finished or (row.first_seen_at if row else None) or system_first_seen
        if since is None or now - since > late_after:
            late.append(LateTask(task_name=task_name, late_after=late_after, last_finished_at=finished, since=since))
    return late


def heartbeats_for_display(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every heartbeat row with its age and whether it is late, for the admin's front page."""
    now = now or timezone.now()
    rows = list(TaskHeartbeat.objects.all())
    late = {task.task_name: task for task in enforcement_late_tasks(now=now, heartbeats=rows)}
    watched = thresholds()
    shown = []
    for row in rows:
        shown.append(
            {
                "heartbeat": row,
                "finished_ago": now - row.last_finished_at if row.last_finished_at else None,
                # Started after its last finish: running now, or it died mid-run.
                "running": row.last_started_at is not None
                and (row.last_finished_at is None or row.last_started_at > row.last_finished_at),
                "late": late.get(row.task_name),
                "watched_after": watched.get(row.task_name),
            }
        )
    # Watched tasks without a row are shown too: they have never started here.
    for task_name, late_after in watched.items():
        if task_name not in {row.task_name for row in rows}:
            shown.append(
                {"heartbeat": None, "task_name": task_name, "late": late.get(task_name), "watched_after": late_after}
            )
    return shown
