"""Reacting to the enforcement engine's signals (campaigns.signals), which it sends after commit."""

import logging

from django.dispatch import receiver

from alerts.crossings import budget_alerts_detect
from alerts.status_webhooks import status_change_webhooks_have_receivers
from campaigns.signals import brands_enforced

logger = logging.getLogger(__name__)


@receiver(brands_enforced, dispatch_uid="alerts.detect_budget_crossings")
def detect_budget_crossings(sender, *, brand_ids, now, source, **kwargs) -> None:
    """The rule was just applied to these brands: alert on any threshold their spend crossed."""
    try:
        budget_alerts_detect(brand_ids=brand_ids, now=now, source=source)
    except Exception:
        # Enforcement has committed; a failed detection is retried by the next sweep.
        logger.exception("budget alert detection failed for brands %s (%s)", brand_ids or "all", source)


@receiver(brands_enforced, dispatch_uid="alerts.push_status_changes")
def push_status_changes(sender, **kwargs) -> None:
    """Status may have changed: start a drain now rather than at the next minute's beat."""
    from alerts.tasks import drain_status_change_webhooks

    try:
        if status_change_webhooks_have_receivers():
            drain_status_change_webhooks.apply_async(expires=60)
    except Exception:
        logger.exception("could not start the status-change webhook drain; the periodic one will")
