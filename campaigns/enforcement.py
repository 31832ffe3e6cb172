"""Budget enforcement: the one rule that decides a campaign's status, and its applier.

`decide_campaign_status` is the rule (SPEC §4) as a pure function of plain facts.
`campaigns_enforce` applies it to any set of campaigns: it loads the facts in a fixed
number of queries, decides in Python and writes only the differences, each batch in
one transaction with its audit rows. Every task, admin action, API call and command
goes through here.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from brands.models import Brand
from budget_system.timezones import month_start, timezone_names
from campaigns.figures import ZERO, brand_local_dates, campaign_spend_expressions
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from dayparting.windows import Window, any_window_contains

logger = logging.getLogger(__name__)

Status = Campaign.Status
Reason = Campaign.PauseReason

DAILY_REASONS = (Reason.DAILY_BUDGET, Reason.BRAND_DAILY_BUDGET)
MONTHLY_REASONS = (Reason.MONTHLY_BUDGET, Reason.BRAND_MONTHLY_BUDGET)

# Campaigns decided and written per transaction: row locks are held briefly.
BATCH_SIZE = 1000

# --- The rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignFacts:
    """Everything the rule needs about one campaign at one instant."""

    brand_timezone: str
    brand_today: date
    brand_daily_budget: Decimal | None
    brand_monthly_budget: Decimal | None
    brand_daily_spend: Decimal
    brand_monthly_spend: Decimal
    campaign_daily_budget: Decimal | None
    campaign_monthly_budget: Decimal | None
    campaign_daily_spend: Decimal
    campaign_monthly_spend: Decimal
    is_dayparting_enabled: bool = False
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str
    details: dict[str, str]


def _reached(spend: Decimal, budget: Decimal | None) -> bool:
    # An empty budget is no limit; a budget of 0 is reached at once.
    return budget is not None and spend >= budget


def _text(value: object) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"  # two places on every backend


def decide_campaign_status(facts: CampaignFacts, *, now: datetime) -> Decision:
    """The rule: the first blocking reason in SPEC order, else ACTIVE."""
    budget_checks = (
        (Reason.BRAND_MONTHLY_BUDGET, facts.brand_monthly_spend, facts.brand_monthly_budget),
        (Reason.MONTHLY_BUDGET, facts.campaign_monthly_spend, facts.campaign_monthly_budget),
        (Reason.BRAND_DAILY_BUDGET, facts.brand_daily_spend, facts.brand_daily_budget),
        (Reason.DAILY_BUDGET, facts.campaign_daily_spend, facts.campaign_daily_budget),
    )
    reason = next((r for r, spend, budget in budget_checks if _reached(spend, budget)), "")
    in_window = any_window_contains(facts.windows, now) if facts.is_dayparting_enabled else None
    if not reason and in_window is False:
        reason = Reason.DAYPARTING

    details = {
        "now": now.astimezone(UTC).isoformat(),
        "timezone": facts.brand_timezone,
        "local_date": facts.brand_today.isoformat(),
        "brand_monthly_spend": _text(facts.brand_monthly_spend),
        "brand_monthly_budget": _text(facts.brand_monthly_budget),
        "campaign_monthly_spend": _text(facts.campaign_monthly_spend),
        "campaign_monthly_budget": _text(facts.campaign_monthly_budget),
        "brand_daily_spend": _text(facts.brand_daily_spend),
        "brand_daily_budget": _text(facts.brand_daily_budget),
        "campaign_daily_spend": _text(facts.campaign_daily_spend),
        "campaign_daily_budget": _text(facts.campaign_daily_budget),
    }
    if facts.is_dayparting_enabled:
        details["dayparting_windows"] = str(len(facts.windows))
        details["in_dayparting_window"] = str(in_window).lower()
    status = Status.PAUSED_BY_SYSTEM if reason else Status.ACTIVE
    return Decision(status=str(status), reason=str(reason), details=details)


# --- Loading the facts, set-based ----------------------------------------------------


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


# --- Writing the differences -------------------------------------------------------


@dataclass
class EnforcementSummary:
    examined: int = 0
    activated: int = 0
    paused: int = 0
    reason_changed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def count(self, old_status: str, new_status: str) -> None:
        if new_status == Status.ACTIVE:
            self.activated += 1
        elif new_status == old_status:
            self.reason_changed += 1
        else:
            self.paused += 1


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
    CampaignStatusChange.objects.bulk_create(
        CampaignStatusChange(
            campaign_id=change.campaign_id,
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


def _log_change(change: StatusChange, *, actor: str, source: str) -> None:
    old_reason = f"/{change.old_reason}" if change.old_reason else ""
    new_reason = f"/{change.new_reason}" if change.new_reason else ""
    logger.info(
        "campaign %s %s%s -> %s%s (%s, %s)",
        change.campaign_id,
        change.old_status,
        old_reason,
        change.new_status,
        new_reason,
        actor,
        source,
        extra={
            "event": "status_change",
            "campaign_id": change.campaign_id,
            "old_status": change.old_status,
            "old_reason": change.old_reason,
            "new_status": change.new_status,
            "new_reason": change.new_reason,
            "actor": actor,
            "source": source,
        },
    )


def _apply_rule(
    campaigns: QuerySet[Campaign],
    *,
    source: str,
    now: datetime | None,
    actor: str = CampaignStatusChange.Actor.SYSTEM,
    user=None,
) -> EnforcementSummary:
    """Decide and write, one locked batch at a time.

    Each batch locks its campaign rows first (in id order, so overlapping runs cannot
    deadlock) and only then reads their status and facts. So a decision is never made
    from figures older than the lock: a spend, budget or status change committed before
    it is seen, and one committed after it triggers its own enforcement run, which
    waits for this batch and then reads the new figures. Overlapping sweeps, or a
    sweep and an ops action, therefore end as one run would, with one audit row per
    real change. Batches follow brand order, so each reads few brands' totals.
    """
    now = now or timezone.now()
    summary = EnforcementSummary()
    ids = list(campaigns.order_by("brand_id", "pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_SIZE):
        batch_ids = ids[start : start + BATCH_SIZE]
        with transaction.atomic():
            list(Campaign.objects.select_for_update().filter(pk__in=batch_ids).order_by("pk").values_list("pk"))
            # Re-apply the caller's selection under the lock: a campaign that an ops
            # pause (or another run) moved out of it meanwhile is left alone.
            changes = []
            for stored in load_campaign_facts(campaigns.filter(pk__in=batch_ids), now=now):
                summary.examined += 1
                decision = decide_campaign_status(stored.facts, now=now)
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
            if changes:
                _write_changes(changes, source=source, actor=actor, user=user, now=now)
        for change in changes:
            summary.count(change.old_status, change.new_status)
            _log_change(change, actor=actor, source=source)
    return summary


# --- The service's entry points -----------------------------------------------------


def campaigns_enforce(*, campaigns: QuerySet[Campaign], source: str, now: datetime | None = None) -> EnforcementSummary:
    """Apply the rule to `campaigns`; the system never touches PAUSED_BY_USER ones."""
    return _apply_rule(campaigns.exclude(status=Status.PAUSED_BY_USER), source=source, now=now)


def brands_enforce(*, brand_ids: Iterable[int], source: str, now: datetime | None = None) -> EnforcementSummary:
    """Apply the rule to every campaign of these brands (after their spend or budgets changed)."""
    return campaigns_enforce(campaigns=Campaign.objects.filter(brand_id__in=list(brand_ids)), source=source, now=now)


def campaigns_pause(*, campaigns: QuerySet[Campaign], user, source: str) -> int:
    """Ops pause: ACTIVE / PAUSED_BY_SYSTEM -> PAUSED_BY_USER, audited with the user."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Campaign.objects.select_for_update()
            .filter(pk__in=campaigns.values("pk"))
            .exclude(status=Status.PAUSED_BY_USER)
            .order_by("pk")
            .values_list("pk", "status", "pause_reason")
        )
        Campaign.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            status=Status.PAUSED_BY_USER, pause_reason=Reason.NONE, updated_at=now
        )
        CampaignStatusChange.objects.bulk_create(
            CampaignStatusChange(
                campaign_id=pk,
                created_at=now,
                old_status=status,
                new_status=Status.PAUSED_BY_USER,
                old_reason=reason,
                new_reason=Reason.NONE,
                actor=CampaignStatusChange.Actor.USER,
                user=user,
                source=source,
                details={"now": now.isoformat()},
            )
            for pk, status, reason in rows
        )
    for pk, status, _ in rows:
        logger.info("campaign %s %s -> PAUSED_BY_USER (user %s, %s)", pk, status, user, source)
    return len(rows)


def campaigns_resume(*, campaigns: QuerySet[Campaign], user, source: str) -> EnforcementSummary:
    """Ops resume: PAUSED_BY_USER -> whatever the rule says now, audited with the user."""
    return _apply_rule(
        campaigns.filter(status=Status.PAUSED_BY_USER),
        source=source,
        now=None,
        actor=CampaignStatusChange.Actor.USER,
        user=user,
    )


def enforce_after_commit(*, brand_ids: Iterable[int] = (), campaign_ids: Iterable[int] = (), source: str) -> None:
    """Apply the rule in-process once the surrounding transaction commits.

    For edits that change what the rule reads (budgets, a timezone, windows, the
    dayparting flag, spend in the admin). A failure is logged, not raised: the change
    itself is saved, and the next periodic sweep applies the rule anyway.
    """
    brand_ids, campaign_ids = list(brand_ids), list(campaign_ids)

    def enforce() -> None:
        selected = Campaign.objects.filter(Q(brand_id__in=brand_ids) | Q(pk__in=campaign_ids))
        campaigns_enforce(campaigns=selected, source=source)

    transaction.on_commit(enforce, robust=True)


# --- The sets each periodic task looks at --------------------------------------------


def campaigns_not_paused_by_user() -> QuerySet[Campaign]:
    return Campaign.objects.exclude(status=Status.PAUSED_BY_USER)


def campaigns_paused_for(reasons: Iterable[str]) -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=Status.PAUSED_BY_SYSTEM, pause_reason__in=list(reasons))


def campaigns_under_dayparting() -> QuerySet[Campaign]:
    return Campaign.objects.exclude(status=Status.PAUSED_BY_USER).filter(
        Q(is_dayparting_enabled=True) | Q(pause_reason=Reason.DAYPARTING)
    )
