"""Celery tasks of the alerts app: thin callers of alerts.delivery and alerts.status_webhooks."""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from alerts.crossings import budget_alerts_detect
from alerts.delivery import deliveries_enqueue, delivery_attempt
from alerts.models import Delivery
from alerts.status_webhooks import status_change_webhooks_drain, status_change_webhooks_have_receivers

logger = logging.getLogger(__name__)

# A message lost between a delivery's creation and the worker (a broker outage) is found
# by retry_due_deliveries once it has been due this long.
LOST_AFTER = timedelta(seconds=60)
SWEEP_LIMIT = 1000
# Idempotent (an attempt starts only if the delivery is still due): acknowledge late.
PERIODIC = {"acks_late": True, "ignore_result": True}


@shared_task(name="alerts.tasks.detect_budget_alerts", soft_time_limit=240, time_limit=270, **PERIODIC)
def detect_budget_alerts(brand_ids: list[int] | None, now: str, source: str) -> int:
    """After an enforcement run (`now` as ISO 8601): record and send new crossings, push status changes."""
    created = budget_alerts_detect(brand_ids=brand_ids, now=datetime.fromisoformat(now), source=source)
    # Statuses may have changed too: push them now rather than at the next minute's beat.
    if status_change_webhooks_have_receivers():
        drain_status_change_webhooks.apply_async(expires=60)
    return len(created)


@shared_task(name="alerts.tasks.deliver", soft_time_limit=60, time_limit=90, **PERIODIC)
def deliver(delivery_id: int) -> str | None:
    """One attempt; a failure schedules the next one at the backoff's time."""
    delivery = delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return None
    if delivery.state == Delivery.State.PENDING:
        deliver.apply_async(args=[delivery_id], eta=delivery.next_attempt_at)
    return delivery.state


@shared_task(name="alerts.tasks.retry_due_deliveries", soft_time_limit=45, time_limit=50, **PERIODIC)
def retry_due_deliveries() -> int:
    """Enqueue pending deliveries overdue by a minute: their message was lost or never sent."""
    overdue = timezone.now() - LOST_AFTER
    ids = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=overdue)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    deliveries_enqueue(delivery_ids=ids)
    if ids:
        logger.info("retry_due_deliveries: %d overdue deliveries enqueued", len(ids))
    return len(ids)


@shared_task(name="alerts.tasks.drain_status_change_webhooks", soft_time_limit=50, time_limit=55, **PERIODIC)
def drain_status_change_webhooks() -> int:
    return status_change_webhooks_drain()
