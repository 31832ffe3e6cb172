"""Prometheus metrics, read from the database when scraped.

Every value comes from a fixed number of cheap queries at scrape time (campaigns
grouped by status and reason on their index, the heartbeat rows, the pending brands,
PostgreSQL's own write counters of the spend table), never from counters kept in a
process's memory: whichever gunicorn worker answers the scrape, and whichever worker or
beat process did the work, the numbers are the same, with no multiprocess mode needed.
"""

from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from campaigns.models import Campaign, PendingBrand
from operations.heartbeats import enforcement_late_tasks, thresholds
from operations.models import TaskHeartbeat
from spend.models import Spend

DRAIN_TASK = "drain_pending_brands"

# Every (status, reason) pair the table's constraints allow, so a series reads 0 rather
# than vanishing when its last campaign changes.
STATUS_REASONS = [(Campaign.Status.ACTIVE, ""), (Campaign.Status.PAUSED_BY_USER, "")] + [
    (Campaign.Status.PAUSED_BY_SYSTEM, reason) for reason in Campaign.PauseReason.values if reason
]


def _campaigns_by_status() -> Metric:
    gauge = GaugeMetricFamily(
        "budget_campaigns",
        "Campaigns by status and pause reason (reason none unless paused by the system).",
        labels=["status", "reason"],
    )
    # GROUP BY on the (status, pause_reason) index: an index-only scan.
    counts = {
        (row["status"], row["pause_reason"]): row["campaigns"]
        for row in Campaign.objects.order_by().values("status", "pause_reason").annotate(campaigns=Count("*"))
    }
    for status, reason in sorted(set(STATUS_REASONS) | set(counts)):
        gauge.add_metric([status, reason or "none"], counts.get((status, reason), 0))
    return gauge


def _task_metrics(now: datetime, heartbeats: list[TaskHeartbeat]) -> Iterator[Metric]:
    started_age = GaugeMetricFamily(
        "budget_task_last_started_age_seconds", "Seconds since the task last started.", labels=["task"]
    )
    finished_age = GaugeMetricFamily(
        "budget_task_last_finished_age_seconds", "Seconds since the task last finished.", labels=["task"]
    )
    duration = GaugeMetricFamily(
        "budget_task_last_duration_seconds", "How long the task's last finished run took.", labels=["task"]
    )
    runs = CounterMetricFamily(
        "budget_task_runs_finished", "Runs of the task that finished (kept in the database).", labels=["task"]
    )
    for row in heartbeats:
        if row.last_started_at:
            started_age.add_metric([row.task_name], (now - row.last_started_at).total_seconds())
        if row.last_finished_at:
            finished_age.add_metric([row.task_name], (now - row.last_finished_at).total_seconds())
        if row.last_duration_ms is not None:
            duration.add_metric([row.task_name], row.last_duration_ms / 1000)
        runs.add_metric([row.task_name], row.runs_finished)
    yield from (started_age, finished_age, duration, runs)

    late_names = {task.task_name for task in enforcement_late_tasks(now=now, heartbeats=heartbeats)}
    late = GaugeMetricFamily(
        "budget_enforcement_late",
        "1 when the task has not finished within its threshold (as /healthz/enforcement says), else 0.",
        labels=["task"],
    )
    for task_name in thresholds():
        late.add_metric([task_name], 1 if task_name in late_names else 0)
    yield late


def _drain_metrics(now: datetime, heartbeats: list[TaskHeartbeat]) -> Iterator[Metric]:
    drains = next((row.runs_finished for row in heartbeats if row.task_name == DRAIN_TASK), 0)
    yield CounterMetricFamily(
        "budget_enforcement_drains", f"Finished runs of {DRAIN_TASK} (spend-triggered enforcement).", value=drains
    )
    pending = PendingBrand.objects.aggregate(oldest=Min("marked_at"), brands=Count("*"))
    yield GaugeMetricFamily(
        "budget_enforcement_pending_brands", "Brands whose spend changed, waiting for a drain.", value=pending["brands"]
    )
    lag = (now - pending["oldest"]).total_seconds() if pending["oldest"] else 0
    yield GaugeMetricFamily(
        "budget_enforcement_drain_lag_seconds",
        "Seconds since the longest-waiting pending brand was marked; 0 when none waits.",
        value=max(0.0, lag),
    )


def _spend_rows_ingested() -> Metric:
    counter = CounterMetricFamily(
        "budget_spend_rows_ingested",
        "Spend rows written, by operation: every writer (API, import_spend, admin, seed_data). On PostgreSQL, "
        "its own table statistics (they restart at 0 after a statistics reset or a crash, as counters may).",
        labels=["operation"],
    )
    table = Spend._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT n_tup_ins, n_tup_upd FROM pg_stat_user_tables WHERE relid = %s::regclass", [table])
            inserted, updated = cursor.fetchone() or (0, 0)
        else:
            # SQLite (local runs) keeps no such statistics: rows present stand in for inserts.
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - a model's table name
            (inserted,), updated = cursor.fetchone(), 0
    counter.add_metric(["insert"], inserted)
    counter.add_metric(["update"], updated)
    return counter


class BudgetSystemCollector:
    """Four queries a scrape, whatever the number of campaigns, brands or spend rows."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        heartbeats = list(TaskHeartbeat.objects.all())
        yield _campaigns_by_status()
        yield from _task_metrics(now, heartbeats)
        yield from _drain_metrics(now, heartbeats)
        yield _spend_rows_ingested()


def metrics_exposition() -> bytes:
    """The metrics in Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BudgetSystemCollector())
    return generate_latest(registry)
