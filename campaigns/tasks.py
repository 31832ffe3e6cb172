"""Celery tasks: when the rule is applied. The rule and the engine are in `campaigns/enforcement.py`.

- The four periodic sweeps (SPEC §5), on the `periodic` queue. On a worker a sweep
  splits into shards by brand (`enforcement.brand_shards`) and runs them as a Celery
  group on whatever workers serve the queue; the shard that completes the run logs the
  summed summary. Called directly (tests, `manage.py enforce`) or in eager mode, it
  runs the same shards in a loop and returns the summary.
- `drain_pending_brands`, on the `drains` queue: spend writes mark brands pending and
  ask for one drain; the drain enforces every pending brand, step after step, until
  none is left. One drain at a time (a PostgreSQL advisory lock).

Every task is idempotent and safe to overlap, acknowledges late (a killed worker's run
is redelivered) and retries with backoff when the database is unreachable.
"""

import logging
import time
from datetime import datetime, timedelta

from celery import group, shared_task
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import enforcement, signals
from campaigns.enforcement import EnforcementSummary, Scope, Selection
from campaigns.models import EnforcementRun, EnforcementRunShard

logger = logging.getLogger(__name__)

# A database restart (or a deadlock past the engine's own retries) makes the run
# retry with backoff instead of failing for good.
RETRYING = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}

# Per sweep: its scope, its time limits (below its beat interval) and how long its
# shards may wait in the queue (until the next run is due).
SWEEPS = {
    "check_all_campaign_budgets": (Scope.NOT_PAUSED_BY_USER, 9 * 60),
    "reactivate_daily_campaigns": (Scope.DAILY_PAUSED, 14 * 60),
    "reactivate_monthly_campaigns": (Scope.MONTHLY_PAUSED, 14 * 60),
    "enforce_dayparting_for_all_campaigns": (Scope.DAYPARTING, 55),
}
# Sweeps whose every campaign of every brand was decided: their end is announced as
# `brands_enforced` (budget alerts look for crossings then).
COVERS_ALL_BRANDS = {"check_all_campaign_budgets"}
RUNS_KEPT_SECONDS = 2 * 24 * 3600
# A drain works this long, then hands over to a fresh task (time limits, fairness).
DRAIN_SECONDS = 30
# With nothing pending, a drain looks again every poll for this long before it ends.
DRAIN_LINGER_SECONDS = 0.5
DRAIN_POLL_SECONDS = 0.05


def _log_run(task_name: str, summary: dict[str, int], duration_ms: int, **fields) -> None:
    logger.info(
        "%s examined=%d activated=%d paused=%d reason_changed=%d duration_ms=%d",
        task_name,
        summary["examined"],
        summary["activated"],
        summary["paused"],
        summary["reason_changed"],
        duration_ms,
        extra={"event": "enforcement_run", "task": task_name, **summary, "duration_ms": duration_ms, **fields},
    )


def _finish(task_name: str, started_at: datetime, summary: dict[str, int], *, brand_ids="unknown") -> None:
    finished_at = timezone.now()
    _log_run(task_name, summary, int((finished_at - started_at).total_seconds() * 1000))
    if brand_ids != "unknown":
        signals.brands_enforced.send_robust(sender=task_name, brand_ids=brand_ids, now=started_at, source=task_name)
    signals.enforcement_run_finished.send_robust(
        sender=task_name, task_name=task_name, started_at=started_at, finished_at=finished_at, summary=summary
    )


def _runs_in_process(task) -> bool:
    return task.request.called_directly or bool(task.request.is_eager)


def _sweep(task, task_name: str) -> dict[str, int]:
    scope, expires = SWEEPS[task_name]
    started_at = timezone.now()
    signals.enforcement_run_started.send_robust(sender=task_name, task_name=task_name, started_at=started_at)
    enforcement.stored_timezones_check()
    shards = enforcement.brand_shards()
    if _runs_in_process(task):
        summary = EnforcementSummary()
        for brand_range in shards:
            summary.add(
                enforcement.selection_enforce(
                    selection=Selection(scope=scope, brand_range=brand_range), source=task_name
                )
            )
        result = summary.as_dict()
        _finish(task_name, started_at, result, brand_ids=None if task_name in COVERS_ALL_BRANDS else "unknown")
        return result
    EnforcementRun.objects.filter(started_at__lt=started_at - timedelta(seconds=RUNS_KEPT_SECONDS)).delete()
    run = EnforcementRun.objects.create(task_name=task_name, started_at=started_at, shards_total=len(shards))
    if len(shards) == 1:
        _enforce_shard(run.pk, 0, None, None)  # no group for a single shard
    else:
        group(
            enforce_shard.s(run.pk, number, after, up_to).set(expires=expires)
            for number, (after, up_to) in enumerate(shards)
        ).apply_async()
        logger.info("%s split into %d shards (run %d)", task_name, len(shards), run.pk)
    return {"run": run.pk, "shards": len(shards)}


@shared_task(name="campaigns.tasks.enforce_shard", soft_time_limit=5 * 60, time_limit=6 * 60, **RETRYING)
def enforce_shard(run_id: int, number: int, after: int | None, up_to: int | None) -> None:
    """One shard of a sweep run by a worker."""
    _enforce_shard(run_id, number, after, up_to)


def _enforce_shard(run_id: int, number: int, after: int | None, up_to: int | None) -> None:
    """A shard's brands, in one transaction with the run's bookkeeping."""
    run = EnforcementRun.objects.filter(pk=run_id).values("task_name", "started_at").first()
    if run is None:  # pruned: a message far older than any run we keep
        return
    task_name = run["task_name"]
    scope, _ = SWEEPS[task_name]

    def attempt() -> EnforcementRun | None:
        with transaction.atomic():
            # A redelivered shard that already committed stops here (its message was
            # not acknowledged before its worker died).
            _, created = EnforcementRunShard.objects.get_or_create(run_id=run_id, number=number)
            if not created:
                return None
            summary = enforcement.selection_enforce(
                selection=Selection(scope=scope, brand_range=(after, up_to)), source=task_name
            )
            # The run row is locked last, after the shard's campaigns: no cycle with other shards.
            EnforcementRun.objects.filter(pk=run_id).update(
                shards_done=F("shards_done") + 1, **{name: F(name) + value for name, value in summary.as_dict().items()}
            )
            done = EnforcementRun.objects.get(pk=run_id)
            if done.shards_done == done.shards_total:
                done.finished_at = timezone.now()
                done.save(update_fields=["finished_at"])
            return done

    done = enforcement.retrying_conflicts(attempt)
    if done is not None and done.finished_at is not None:
        summary = {name: getattr(done, name) for name in EnforcementSummary().as_dict()}
        _finish(task_name, done.started_at, summary, brand_ids=None if task_name in COVERS_ALL_BRANDS else "unknown")


@shared_task(
    bind=True, name="campaigns.tasks.check_all_campaign_budgets", soft_time_limit=5 * 60, time_limit=6 * 60, **RETRYING
)
def check_all_campaign_budgets(self) -> dict[str, int]:
    return _sweep(self, "check_all_campaign_budgets")


@shared_task(
    bind=True, name="campaigns.tasks.reactivate_daily_campaigns", soft_time_limit=5 * 60, time_limit=6 * 60, **RETRYING
)
def reactivate_daily_campaigns(self) -> dict[str, int]:
    return _sweep(self, "reactivate_daily_campaigns")


@shared_task(
    bind=True,
    name="campaigns.tasks.reactivate_monthly_campaigns",
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    **RETRYING,
)
def reactivate_monthly_campaigns(self) -> dict[str, int]:
    return _sweep(self, "reactivate_monthly_campaigns")


@shared_task(
    bind=True,
    name="campaigns.tasks.enforce_dayparting_for_all_campaigns",
    soft_time_limit=45,
    time_limit=50,
    **RETRYING,
)
def enforce_dayparting_for_all_campaigns(self) -> dict[str, int]:
    return _sweep(self, "enforce_dayparting_for_all_campaigns")


# --- Spend-triggered enforcement ----------------------------------------------------------

# Any constant: the key of the advisory lock that lets one drain run at a time.
DRAIN_LOCK_KEY = 0x6275646765740001


def _try_drain_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite serializes writers itself
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [DRAIN_LOCK_KEY])
        return cursor.fetchone()[0]


def _release_drain_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [DRAIN_LOCK_KEY])


@shared_task(name="campaigns.tasks.drain_pending_brands", soft_time_limit=60, time_limit=90, **RETRYING)
def drain_pending_brands(source: str = "api", after_brand_id: int = 0) -> dict[str, int]:
    """Enforce every pending brand, step after step, until none is left.

    Steps go round the pending brands from `after_brand_id` (where the drain before this
    one stopped). Another drain holding the lock means this one has nothing to do: the
    holder checks again after releasing it, so a brand marked meanwhile is never stranded.
    """
    started_at = timezone.now()
    started = time.monotonic()
    summary, brands, steps = EnforcementSummary(), set(), 0
    while _try_drain_lock():
        try:
            idle_since, last_brand_id = None, after_brand_id
            while time.monotonic() - started < DRAIN_SECONDS:
                brand_ids, step = enforcement.pending_brands_enforce(source=source, after_brand_id=last_brand_id)
                if not brand_ids:
                    # A burst of posts rarely arrives all at once: wait a moment for the
                    # next before ending, so the burst costs one drain, not one per gap.
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since >= DRAIN_LINGER_SECONDS:
                        enforcement.drain_request_clear()
                        break
                    time.sleep(DRAIN_POLL_SECONDS)
                    continue
                idle_since, last_brand_id = None, brand_ids[-1]
                if not steps:  # a drain with nothing to do is not a run
                    signals.enforcement_run_started.send_robust(
                        sender="drain_pending_brands", task_name="drain_pending_brands", started_at=started_at
                    )
                steps += 1
                brands.update(brand_ids)
                summary.add(step)
            else:
                # Out of time: a fresh task goes on, from the brand this one reached.
                enforcement.drain_request(source=source, force=True, after_brand_id=last_brand_id)
                break
        finally:
            _release_drain_lock()
        # Checked after the release: a mark made while the lock was held, whose writer saw
        # the request flag still set, is taken here.
        if not enforcement.pending_brands_exist():
            break
    result = summary.as_dict()
    if steps:
        _finish("drain_pending_brands", started_at, result, brand_ids=sorted(brands))
        logger.info("drain_pending_brands brands=%d steps=%d", len(brands), steps)
    return result


@shared_task(name="campaigns.tasks.enforce_brand_campaigns", soft_time_limit=60, time_limit=90, **RETRYING)
def enforce_brand_campaigns(brand_ids: list[int], source: str = "api") -> dict[str, int]:
    """Every campaign of these brands, now (their totals changed)."""
    started_at = timezone.now()
    summary = enforcement.brands_enforce(brand_ids=brand_ids, source=source).as_dict()
    _finish("enforce_brand_campaigns", started_at, summary, brand_ids=list(brand_ids))
    return summary
