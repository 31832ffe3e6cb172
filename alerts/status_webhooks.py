"""Pushing the status-change feed to each brand's status-change webhook, at least once.

One drain at a time follows the feed with its own cursor (`FeedCursor` row
"status_change_webhooks", locked for the run; a second drain finds it locked and leaves).
Each page becomes one signed delivery per brand with a webhook URL, created in the same
transaction that moves the cursor past the page, so a crash either creates the
deliveries and moves the cursor, or neither. Deliveries are retried like budget alerts;
a receiver deduplicates on each change's `id` (a retried batch repeats it).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from alerts.delivery import deliveries_enqueue_on_commit, iso
from alerts.feed import (
    FeedPosition,
    changes_after,
    feed_horizon,
    last_position,
    status_changes_page,
    visible_changes,
)
from alerts.models import BrandAlertSettings, Delivery, FeedCursor

logger = logging.getLogger(__name__)

CURSOR_NAME = "status_change_webhooks"
PAGE_SIZE = 500
MAX_PAGES_PER_RUN = 20


def _brands_with_status_webhook():
    return BrandAlertSettings.objects.exclude(status_change_webhook_url="").values("brand_id")


def status_change_webhooks_have_receivers() -> bool:
    return _brands_with_status_webhook().exists()


def _drain_one_page() -> tuple[int, bool]:
    """One page in one transaction: (deliveries created, whether more may be waiting)."""
    now = timezone.now()
    with transaction.atomic():
        FeedCursor.objects.get_or_create(name=CURSOR_NAME)
        cursor = FeedCursor.objects.select_for_update(skip_locked=True).filter(name=CURSOR_NAME).first()
        if cursor is None:
            return 0, False  # another drain holds it and will carry on
        after = FeedPosition(cursor.txid, cursor.last_id)
        horizon = feed_horizon()
        page = status_changes_page(
            after=after, limit=PAGE_SIZE, brand_ids=_brands_with_status_webhook(), horizon=horizon
        )
        next_position = page.next_cursor
        if not page.has_more:
            # Nothing more for any receiver below the horizon: skip the changes of brands
            # without a webhook too, so the next run does not scan them again.
            next_position = max(next_position, last_position(changes_after(visible_changes(horizon), after)) or after)
        changes_by_brand = defaultdict(list)
        for change in page.changes:
            changes_by_brand[change["brand"]].append(change)
        urls = dict(
            BrandAlertSettings.objects.filter(brand_id__in=list(changes_by_brand)).values_list(
                "brand_id", "status_change_webhook_url"
            )
        )
        deliveries = []
        for brand_id, changes in sorted(changes_by_brand.items()):
            if not urls.get(brand_id):
                continue  # the URL was removed between the two reads
            delivery = Delivery(
                kind=Delivery.Kind.STATUS_CHANGES,
                channel=Delivery.Channel.WEBHOOK,
                brand_id=brand_id,
                target=urls[brand_id],
                created_at=now,
                next_attempt_at=now,
            )
            delivery.payload = {
                "id": str(delivery.delivery_id),
                "type": "status_changes",
                "created_at": iso(now),
                "brand": brand_id,
                "changes": changes,
            }
            deliveries.append(delivery)
        Delivery.objects.bulk_create(deliveries)
        if next_position != after:
            FeedCursor.objects.filter(name=CURSOR_NAME).update(
                txid=next_position.txid, last_id=next_position.id, updated_at=now
            )
        deliveries_enqueue_on_commit(delivery_ids=[d.pk for d in deliveries])
    return len(deliveries), page.has_more


def status_change_webhooks_drain(*, max_pages: int = MAX_PAGES_PER_RUN) -> int:
    """Turn the feed's new changes into deliveries; returns how many deliveries were created."""
    created = 0
    for _ in range(max_pages):
        count, more = _drain_one_page()
        created += count
        if not more:
            break
    if created:
        logger.info("status-change webhooks: %d deliveries created", created)
    return created
