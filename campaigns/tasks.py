"""Celery tasks: thin callers of the enforcement service (campaigns/enforcement.py).

Each returns and logs its summary. They are idempotent and safe to overlap, so they
acknowledge late (a crashed worker's task is redone); their time limits are below
their beat interval, and beat gives each periodic run an expiry before the next one.
"""

import logging
import time

from celery import shared_task
from django.db.models import QuerySet

from campaigns import enforcement
from campaigns.models import Campaign

logger = logging.getLogger(__name__)

PERIODIC = {"acks_late": True, "ignore_result": True}


def _run(task_name: str, campaigns: QuerySet[Campaign], *, source: str = "") -> dict[str, int]:
    started = time.monotonic()
    summary = enforcement.campaigns_enforce(campaigns=campaigns, source=source or task_name).as_dict()
    logger.info(
        "%s examined=%d activated=%d paused=%d reason_changed=%d duration_ms=%d",
        task_name,
        summary["examined"],
        summary["activated"],
        summary["paused"],
        summary["reason_changed"],
        (time.monotonic() - started) * 1000,
    )
    return summary


@shared_task(name="campaigns.tasks.check_all_campaign_budgets", soft_time_limit=8 * 60, time_limit=9 * 60, **PERIODIC)
def check_all_campaign_budgets() -> dict[str, int]:
    return _run("check_all_campaign_budgets", enforcement.campaigns_not_paused_by_user())


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
    return _run("enforce_brand_campaigns", Campaign.objects.filter(brand_id__in=brand_ids), source=source)
