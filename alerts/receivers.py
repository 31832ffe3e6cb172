"""Reacting to the enforcement engine's signals (campaigns.signals), which it sends after commit.

The receiver only enqueues: the engine's task does no extra queries, and the detection
runs in its own task. Crossings are a state (spend stays above a threshold for the rest
of the period), so a detection lost to a broker outage is made up by the next sweep.
"""

import logging

from django.dispatch import receiver

from campaigns.signals import brands_enforced

logger = logging.getLogger(__name__)

# A detection still queued after this long is dropped: the next sweep (every 10 minutes) covers it.
DETECTION_EXPIRES_SECONDS = 600


@receiver(brands_enforced, dispatch_uid="alerts.detect_budget_crossings")
def detect_budget_crossings(sender, *, brand_ids, now, source, **kwargs) -> None:
    """The rule was just applied to these brands: look for thresholds their spend crossed."""
    from alerts.tasks import detect_budget_alerts
    from budget_system.celery import send_quickly

    try:
        # Quickly: the engine may run inside a web request (spend posts, admin saves).
        send_quickly(
            detect_budget_alerts.s(None if brand_ids is None else list(brand_ids), now.isoformat(), source),
            expires=DETECTION_EXPIRES_SECONDS,
        )
    except Exception:
        logger.exception("could not enqueue budget alert detection for brands %s (%s)", brand_ids or "all", source)
