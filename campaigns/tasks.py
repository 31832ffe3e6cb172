"""Celery tasks: thin callers of the enforcement service (campaigns/enforcement.py).

Each returns and logs its summary. They are idempotent and safe to overlap, so they
acknowledge late (a crashed worker's task is redone); their time limits are below
their beat interval, and beat gives each periodic run an expiry before the next one.
"""

import logging
import time

from celery import shared_task
from django.db.models import QuerySet
from django.utils import timezone

from campaigns import enforcement, signals
from campaigns.models import Campaign

logger = logging.getLogger(__name__)

PERIODIC = {"acks_late": True, "ignore_result": True}


_ALL_BRANDS = None


def _run(
    task_name: str, campaigns: QuerySet[Campaign], *, source: str = "", brands: list[int] | None | bool = False
) -> dict[str, int]:
    """Apply the rule, log the summary and tell the receivers (heartbeat, alerts).

    `brands`: the brand ids whose every campaign was covered (None: all brands), or False
    when the run covered only some campaigns of its brands (reactivation, dayparting).
    """
    started_at = timezone.now()
    started = time.monotonic()
    signals.enforcement_run_started.send_robust(sender=task_name, task_name=task_name, started_at=started_at)
    summary = enforcement.campaigns_enforce(campaigns=campaigns, source=source or task_name, now=started_at).as_dict()
    duration_ms = int((time.monotonic() - started) * 1000)
    logger.info(
        "%s examined=%d activated=%d paused=%d reason_changed=%d duration_ms=%d",
        task_name,
        summary["examined"],
        summary["activated"],
        summary["paused"],
        summary["reason_changed"],
        duration_ms,
        extra={"event": "enforcement_run", "task": task_name, **summary, "duration_ms": duration_ms},
    )
    if brands is not False:
        signals.brands_enforced.send_robust(
            sender=task_name, brand_ids=brands, now=started_at, source=source or task_name
        )
    signals.enforcement_run_finished.send_robust(
        sender=task_name, task_name=task_name, started_at=started_at, finished_at=timezone.now(), summary=summary
    )
    return summary


@shared_task(name="campaigns.tasks.check_all_campaign_budgets", soft_time_limit=8 * 60, time_limit=9 * 60, **PERIODIC)
def check_all_campaign_budgets() -> dict[str, int]:
    return _run("check_all_campaign_budgets", enforcement.campaigns_not_paused_by_user(), brands=_ALL_BRANDS)


@shared_task(name="campaigns.tasks.reactivate_daily_campaigns", soft_time_limit=12 * 60, time_limit=13 * 60, **PERIODIC)
def reactivate_daily_campaigns() -> dict[str, int]:
    return _run("reactivate_daily_campaigns", enforcement.campaigns_paused_for(enforcement.DAILY_REASONS))


@shared_task(
    name="campaigns.tasks.reactivate_monthly_campaigns", soft_time_limit=12 * 60, time_limit=13 * 60, **PERIODIC
)
def reactivate_monthly_campaigns() -> dict[str, int]:
    return _run("reactivate_monthly_campaigns", enforcement.campaigns_paused_for(enforcement.MONTHLY_REASONS))


@shared_task(name="campaigns.tasks.enforce_dayparting_for_all_campaigns", soft_time_limit=45, time_limit=50, **PERIODIC)
def enforce_dayparting_for_all_campaigns() -> dict[str, int]:
    return _run("enforce_dayparting_for_all_campaigns", enforcement.campaigns_under_dayparting())


@shared_task(name="campaigns.tasks.enforce_brand_campaigns", soft_time_limit=60, time_limit=90, **PERIODIC)
def enforce_brand_campaigns(brand_ids: list[int], source: str = "api") -> dict[str, int]:
    """After spend was written: every campaign of these brands (their totals changed)."""
    return _run(
        "enforce_brand_campaigns",
        Campaign.objects.filter(brand_id__in=brand_ids),
        source=source,
        brands=list(brand_ids),
    )
