"""The rule applied row by row in Python: the reference engine, and the engine on SQLite.

It loads each batch's facts with a fixed number of queries, decides every campaign
with `decide_campaign_status` and writes the differences. PostgreSQL runs the same rule
as set-based SQL (`campaigns/enforcement_sql.py`); the property test compares the two.
SQLite, the local default, stores money as floating point, so the rule must not be
evaluated there in SQL: this module is its engine, fast enough for a laptop's data.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from brands.models import Brand
from budget_system.timezones import month_start, timezone_names
from campaigns.enforcement import CampaignFacts, decide_campaign_status
from campaigns.figures import ZERO, brand_local_dates, campaign_spend_expressions
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from dayparting.windows import Window

logger = logging.getLogger(__name__)

# Campaigns decided and written per transaction: row locks are held briefly.
BATCH_SIZE = 1000


@dataclass(frozen=True)
class StoredCampaign:
    id: int
    status: str
    pause_reason: str
    facts: CampaignFacts


def load_campaign_facts(campaigns: QuerySet[Campaign], *, now: datetime) -> list[StoredCampaign]:
    """The stored state and the facts of every campaign in `campaigns`.

    Brands are grouped by their local date (at most three at any instant), so the
    number of queries is fixed however many campaigns and brands there are:
    one for the brands, one for the windows, two per local date.
    """
    brands = {
        row["id"]: row
        for row in Brand.objects.filter(pk__in=campaigns.values("brand_id"))
        .values("id", "timezone", "daily_budget", "monthly_budget")
        .order_by()
    }
    zones_by_today = brand_local_dates((brand["timezone"] for brand in brands.values()), now=now)
    today_by_zone = {name: today for today, names in zones_by_today.items() for name in names}
    brand_ids_by_today: dict[date, list[int]] = defaultdict(list)
    for brand in brands.values():
        if brand["timezone"] in today_by_zone:
            brand_ids_by_today[today_by_zone[brand["timezone"]]].append(brand["id"])
        else:
            # One bad brand must not stop enforcement for all the others.
            logger.error(
                "brand %s has unknown timezone %r: its campaigns are not enforced until it is fixed",
                brand["id"],
                brand["timezone"],
            )

    # Windows of every campaign in the set, whatever its flag: the flag is read in
    # another statement, and a flag switched on in between must still find its windows.
    windows_by_campaign: dict[int, list[Window]] = defaultdict(list)
    for row in (
        DaypartingSchedule.objects.filter(campaign__in=campaigns)
        .values("id", "campaign_id", "day_of_week", "start_time", "end_time", "timezone")
        .order_by()
    ):
        if row["timezone"] not in timezone_names():
            logger.error(
                "dayparting window %s of campaign %s has unknown timezone %r: it counts as closed",
                row["id"],
                row["campaign_id"],
                row["timezone"],
            )
            continue
        del row["id"]
        windows_by_campaign[row.pop("campaign_id")].append(Window(**row))

    stored: list[StoredCampaign] = []
    for today, brand_ids in brand_ids_by_today.items():
        daily, monthly = campaign_spend_expressions(today, month_start(today))
        # Brand totals run over all of a brand's campaigns, whatever their status.
        brand_totals = {
            row["brand_id"]: row
            for row in Campaign.objects.filter(brand_id__in=brand_ids)
            .annotate(campaign_daily=daily, campaign_monthly=monthly)
            .values("brand_id")
            .annotate(daily_total=Sum("campaign_daily"), monthly_total=Sum("campaign_monthly"))
            .order_by()
        }
        rows = (
            campaigns.filter(brand_id__in=brand_ids)
            .annotate(campaign_daily=daily, campaign_monthly=monthly)
            .values(
                "id",
                "brand_id",
                "status",
                "pause_reason",
                "daily_budget",
                "monthly_budget",
                "is_dayparting_enabled",
                "campaign_daily",
                "campaign_monthly",
            )
            .order_by("id")
        )
        for row in rows:
            brand = brands[row["brand_id"]]
            totals = brand_totals.get(row["brand_id"], {})
            facts = CampaignFacts(
                brand_timezone=brand["timezone"],
                brand_today=today,
                brand_daily_budget=brand["daily_budget"],
                brand_monthly_budget=brand["monthly_budget"],
                brand_daily_spend=totals.get("daily_total") or ZERO,
                brand_monthly_spend=totals.get("monthly_total") or ZERO,
                campaign_daily_budget=row["daily_budget"],
                campaign_monthly_budget=row["monthly_budget"],
                campaign_daily_spend=row["campaign_daily"],
                campaign_monthly_spend=row["campaign_monthly"],
                is_dayparting_enabled=row["is_dayparting_enabled"],
                windows=tuple(windows_by_campaign.get(row["id"], ())),
            )
            stored.append(StoredCampaign(row["id"], row["status"], row["pause_reason"], facts))
    return stored


@dataclass(frozen=True)
class StatusChange:
    campaign_id: int
    old_status: str
    old_reason: str
    new_status: str
    new_reason: str
    details: dict[str, str]


def _write_changes(changes: Sequence[StatusChange], *, source: str, actor: str, user, now: datetime) -> None:
    """Write the changes and their audit rows; the caller holds the rows' locks."""
    # One UPDATE per target state (at most six) is far cheaper than a CASE per row.
    ids_by_target: dict[tuple[str, str], list[int]] = defaultdict(list)
    for change in changes:
        ids_by_target[(change.new_status, change.new_reason)].append(change.campaign_id)
    for (new_status, new_reason), ids in ids_by_target.items():
        Campaign.objects.filter(pk__in=ids).update(status=new_status, pause_reason=new_reason, updated_at=now)
    names = {
        pk: (campaign_name, brand_id, brand_name)
        for pk, campaign_name, brand_id, brand_name in Campaign.objects.filter(
            pk__in=[change.campaign_id for change in changes]
        ).values_list("pk", "name", "brand_id", "brand__name")
    }
    CampaignStatusChange.objects.bulk_create(
        CampaignStatusChange(
            campaign_id=change.campaign_id,
            campaign_name=names[change.campaign_id][0],
            brand_id=names[change.campaign_id][1],
            brand_name=names[change.campaign_id][2],
            username=user.get_username() if user is not None else "",
            created_at=now,
            old_status=change.old_status,
            new_status=change.new_status,
            old_reason=change.old_reason,
            new_reason=change.new_reason,
            actor=actor,
            user=user,
            source=source,
            details=change.details,
        )
        for change in changes
    )


def reference_apply(
    campaigns: QuerySet[Campaign], *, now: datetime | None, source: str, actor: str, user, write: bool
) -> tuple[int, list[StatusChange]]:
    """Decide `campaigns` one locked batch at a time; return (examined, the changes).

    Each batch locks its campaign rows first (in id order) and only then reads their
    status and facts, at the instant taken after the lock (unless `now` is given), so a
    decision is never older than the lock. With `write`, the differences and their
    audit rows are written in the batch's transaction; without it nothing is written
    (the dry run).
    """
    examined, all_changes = 0, []
    ids = list(campaigns.order_by("brand_id", "pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_SIZE):
        batch_ids = ids[start : start + BATCH_SIZE]
        with transaction.atomic():
            list(
                Campaign.objects.select_for_update(no_key=True)
                .filter(pk__in=batch_ids)
                .order_by("pk")
                .values_list("pk")
            )
            decided_at = now or timezone.now()
            # Re-apply the caller's selection under the lock: a campaign that an ops
            # pause (or another run) moved out of it meanwhile is left alone.
            stored_batch = load_campaign_facts(campaigns.filter(pk__in=batch_ids), now=decided_at)
            changes = []
            for stored in stored_batch:
                decision = decide_campaign_status(stored.facts, now=decided_at)
                if (stored.status, stored.pause_reason) != (decision.status, decision.reason):
                    changes.append(
                        StatusChange(
                            stored.id,
                            stored.status,
                            stored.pause_reason,
                            decision.status,
                            decision.reason,
                            decision.details,
                        )
                    )
            if changes and write:
                _write_changes(changes, source=source, actor=actor, user=user, now=decided_at)
        examined += len(stored_batch)
        all_changes.extend(changes)
    return examined, all_changes
