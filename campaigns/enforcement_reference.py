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
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from budget_system.timezones import timezone_names
from campaigns.enforcement import CampaignFacts, decide_campaign_status
from campaigns.figures import ZERO, brand_spend_totals, campaigns_with_spend
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


def _windows_by_campaign(campaigns: QuerySet[Campaign]) -> dict[int, list[Window]]:
    """Windows of every campaign in the set, whatever its flag (one query).

    The flag is read in another statement, and a flag switched on in between must still
    find its windows. A window whose stored zone is unknown counts as closed (logged).
    """
    windows: dict[int, list[Window]] = defaultdict(list)
    for row in (
        DaypartingSchedule.objects.filter(campaign__in=campaigns)
        .values("id", "campaign_id", "day_of_week", "start_time", "end_time", "timezone")
        .order_by("day_of_week", "start_time", "id")
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
        windows[row.pop("campaign_id")].append(Window(**row))
    return windows


def load_campaign_facts(campaigns: QuerySet[Campaign], *, now: datetime) -> list[StoredCampaign]:
    """The stored state and the facts of every campaign in `campaigns`, by id.

    The figures are read as the rule reads them (`campaigns/figures.py`), in a fixed
    number of queries however many campaigns there are (five). The console explains
    campaigns from these same facts. A campaign whose brand's zone is unknown is left
    out (logged): one bad brand must not stop enforcement for all the others.
    """
    rows = list(
        campaigns_with_spend(campaigns.select_related(None), now=now)
        .values(
            "id",
            "brand_id",
            "status",
            "pause_reason",
            "daily_budget",
            "monthly_budget",
            "is_dayparting_enabled",
            "brand__timezone",
            "brand__daily_budget",
            "brand__monthly_budget",
            "brand_today",
            "today_spend",
            "month_to_date_spend",
        )
        .order_by("id")
    )
    totals = brand_spend_totals(brand_ids={row["brand_id"] for row in rows}, now=now)
    windows = _windows_by_campaign(campaigns)
    stored = []
    unknown_zones = {}
    for row in rows:
        if row["brand_today"] is None:
            unknown_zones[row["brand_id"]] = row["brand__timezone"]
            continue
        brand_daily, brand_monthly = totals.get(row["brand_id"], (ZERO, ZERO))
        facts = CampaignFacts(
            brand_timezone=row["brand__timezone"],
            brand_today=row["brand_today"],
            brand_daily_budget=row["brand__daily_budget"],
            brand_monthly_budget=row["brand__monthly_budget"],
            brand_daily_spend=brand_daily,
            brand_monthly_spend=brand_monthly,
            campaign_daily_budget=row["daily_budget"],
            campaign_monthly_budget=row["monthly_budget"],
            campaign_daily_spend=row["today_spend"],
            campaign_monthly_spend=row["month_to_date_spend"],
            is_dayparting_enabled=row["is_dayparting_enabled"],
            windows=tuple(windows.get(row["id"], ())),
        )
        stored.append(StoredCampaign(row["id"], row["status"], row["pause_reason"], facts))
    for brand_id, zone_name in unknown_zones.items():
        logger.error(
            "brand %s has unknown timezone %r: its campaigns are not enforced until it is fixed", brand_id, zone_name
        )
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
