"""Demo data: brands, campaigns, spend and dayparting windows, for a demo or a benchmark.

`demo_data_create` is what `manage.py seed_data` runs. Everything it draws comes from
`random.Random(seed)`, so a seed and a clock give the same data every time. It only
ever adds rows: brand names are checked against the existing ones, and all rows are
written in one transaction, so a failure leaves nothing half-written.

So that every screen has something to show, spend is shaped per campaign and budgets
per brand (`campaigns/demo_spend.py`): with six brands or more, the rule pauses
campaigns for each of its five reasons, others stay active, and one is paused by a user.
A day of history is made by applying the rule once an hour over the last hours, as
beat would have, so the audit trail has pauses and resumes to show.

Sized for benchmarks: rows are built in memory a chunk of campaigns at a time and
written with `bulk_create` (one INSERT per batch; PostgreSQL returns the new keys) or,
for the many spend rows on PostgreSQL, with COPY. The number of queries grows with the
row count divided by the batch size, never with one query per campaign.
"""

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Literal

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from brands.models import Brand
from budget_system.timezones import local_date, validate_timezone_name, zone
from campaigns import demo_rows
from campaigns.demo_names import CampaignNamer, brand_names_unique
from campaigns.demo_spend import (
    BRAND_KIND_CYCLE,
    FALLBACK_DAILY_CENTS,
    PROFILE_CYCLE,
    BrandTotals,
    CampaignLimits,
    SpendCalendar,
    brand_budgets_auto,
    cents,
    month_to_date_totals,
    spend_amounts,
)
from campaigns.enforcement import EnforcementSummary, campaigns_enforce, campaigns_pause
from campaigns.models import Campaign
from dayparting.models import DaypartingSchedule

# Real IANA zones with whole, half and quarter-hour offsets on both sides of UTC, with
# and without DST, so a demo shows brands whose `today` differs from UTC's.
DEMO_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
)

# Brand budgets set from each brand's spend and kind (see demo_spend.brand_budgets_auto).
AUTO = "auto"
BrandBudget = Decimal | None | Literal["auto"]

# Limits that keep every generated amount inside the money columns (14 digits, 2
# places): a month of spend at the highest pace stays far below 10**12.
MAX_BUDGET = Decimal("1000000000.00")
# Ten years of daily rows is more than any demo or benchmark needs.
MAX_SPEND_DAYS = 3660

# History: the rule applied once an hour over this many hours before now, for the new
# campaigns of whole brands up to HISTORY_MAX_CAMPAIGNS, so a benchmark-sized run
# stays fast (each hour is one sweep of those campaigns).
DEFAULT_HISTORY_HOURS = 24
MAX_HISTORY_HOURS = 24 * 7
HISTORY_MAX_CAMPAIGNS = 1000

# Every third campaign gets dayparting windows; every other one of those has a window
# open now, so some are active and some are paused for DAYPARTING.
DAYPARTING_EVERY = 3
WINDOWS_PER_DAYPARTED_CAMPAIGN = 3

# Campaigns built in memory per round trip, and rows per INSERT.
CAMPAIGN_CHUNK = 5000
BATCH_SIZE = 5000


@dataclass
class DemoDataSummary:
    seed: int
    brand_ids: list[int]
    campaigns: int = 0
    spend_rows: int = 0
    dayparting_windows: int = 0
    history_hours: int = 0
    history_changes: int = 0
    enforcement: EnforcementSummary | None = None
    # (status, pause_reason) -> number of the new campaigns, read at the end.
    statuses: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def brands(self) -> int:
        return len(self.brand_ids)

    def line(self) -> str:
        text = (
            f"Created {self.brands} brands, {self.campaigns} campaigns, {self.spend_rows} spend rows, "
            f"{self.dayparting_windows} dayparting windows (seed {self.seed}); "
        )
        if self.enforcement is None:
            return text + "enforcement skipped."
        if self.history_hours:
            text += f"history: {self.history_changes} status changes over {self.history_hours} hours; "
        paused = Counter()
        for (status, reason), number in self.statuses.items():
            if status == Campaign.Status.PAUSED_BY_SYSTEM:
                paused[reason] += number
        active = self.statuses.get((Campaign.Status.ACTIVE, ""), 0)
        by_user = self.statuses.get((Campaign.Status.PAUSED_BY_USER, ""), 0)
        reasons = ", ".join(f"{number} {reason}" for reason, number in sorted(paused.items()))
        return (
            text
            + f"enforcement: {paused.total()} paused"
            + (f" ({reasons})" if reasons else "")
            + f", {by_user} paused by a user, {active} active."
        )


def _check_arguments(
    *,
    brands: int,
    campaigns: int,
    spend_days: int,
    budgets: dict[str, BrandBudget],
    timezones: Sequence[str],
    history_hours: int,
) -> None:
    """Refuse what would write bad rows; the command gives friendlier messages first."""
    if brands < 1:
        raise ValueError(f"brands must be at least 1, got {brands!r}.")
    if campaigns < 0:
        raise ValueError(f"campaigns must be at least 0, got {campaigns!r}.")
    if not 0 <= spend_days <= MAX_SPEND_DAYS:
        raise ValueError(f"spend_days must be 0 to {MAX_SPEND_DAYS}, got {spend_days!r}.")
    if not 0 <= history_hours <= MAX_HISTORY_HOURS:
        raise ValueError(f"history_hours must be 0 to {MAX_HISTORY_HOURS}, got {history_hours!r}.")
    for name, budget in budgets.items():
        if budget is None or (budget == AUTO and name.startswith("brand_")):
            continue
        if (
            not isinstance(budget, Decimal)
            or not budget.is_finite()
            or not 0 <= budget <= MAX_BUDGET
            or budget != budget.quantize(Decimal("0.01"))
        ):
            raise ValueError(f"{name} must be 0 to {MAX_BUDGET} with at most 2 decimal places, got {budget!r}.")
    if not timezones:
        raise ValueError("timezones must name at least one IANA zone.")
    for name in timezones:
        validate_timezone_name(name)


def _campaigns_per_brand(campaigns: int, brands: int) -> list[int]:
    """Spread evenly: the first `campaigns % brands` brands get one more."""
    share, extra = divmod(campaigns, brands)
    return [share + (1 if index < extra else 0) for index in range(brands)]


def _campaigns_of(brand_ids: list[int]) -> QuerySet[Campaign]:
    """The campaigns of these brands.

    When the new keys are one unbroken run (the usual case: one INSERT sequence) a
    range says the same as a list of 100,000 ids, and stays under SQLite's parameter limit.
    """
    if brand_ids and max(brand_ids) - min(brand_ids) + 1 == len(brand_ids):
        return Campaign.objects.filter(brand_id__gte=min(brand_ids), brand_id__lte=max(brand_ids))
    return Campaign.objects.filter(brand_id__in=brand_ids)


def _history_brand_ids(brand_ids: list[int], counts: list[int]) -> list[int]:
    """The first brands whose campaigns add up to at most HISTORY_MAX_CAMPAIGNS."""
    chosen, total = [], 0
    for brand_id, count in zip(brand_ids, counts, strict=True):
        if total + count > HISTORY_MAX_CAMPAIGNS:
            break
        chosen.append(brand_id)
        total += count
    return chosen


def demo_data_create(
    *,
    brands: int,
    campaigns: int,
    spend_days: int,
    daily_budget: Decimal | None,
    monthly_budget: Decimal | None,
    brand_daily_budget: BrandBudget = AUTO,
    brand_monthly_budget: BrandBudget = AUTO,
    timezones: Sequence[str] = DEMO_TIMEZONES,
    seed: int | None = None,
    enforce: bool = True,
    history_hours: int = DEFAULT_HISTORY_HOURS,
    progress: Callable[[str], None] | None = None,
) -> DemoDataSummary:
    """Add `brands` brands and `campaigns` campaigns spread evenly over them, with spend.

    Each campaign gets the given budgets and one spend row a day for the `spend_days`
    days ending on its brand's `today`; every third one gets dayparting windows in its
    brand's zone. Brand zones are drawn from `timezones`. Brand budgets are the given
    amounts, or with AUTO set per brand from its spend (roomy, reached, near or none).
    Unless `enforce` is False the rule is then applied to the new campaigns (source
    "command"): first once an hour over the last `history_hours` hours, then now; and
    the last active one is paused as a user would.
    """
    _check_arguments(
        brands=brands,
        campaigns=campaigns,
        spend_days=spend_days,
        budgets={
            "daily_budget": daily_budget,
            "monthly_budget": monthly_budget,
            "brand_daily_budget": brand_daily_budget,
            "brand_monthly_budget": brand_monthly_budget,
        },
        timezones=timezones,
        history_hours=history_hours,
    )
    if seed is None:
        # Still reported, so an unseeded run can be replayed.
        seed = random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    # Names have their own stream: when a rerun must draw again to avoid taken names,
    # every other choice stays the same as on a fresh database.
    name_rng = random.Random(f"brand-names-{seed}")
    campaign_names = CampaignNamer(rng)
    report = progress or (lambda message: None)

    now = timezone.now()
    brand_zones = [rng.choice(timezones) for _ in range(brands)]
    # Each brand's last `spend_days` local dates; date arithmetic, no local datetimes.
    brand_days = [SpendCalendar.ending(local_date(now, tz), spend_days) for tz in brand_zones]
    counts = _campaigns_per_brand(campaigns, brands)
    limits = CampaignLimits(
        daily=None if daily_budget is None else cents(daily_budget),
        monthly=None if monthly_budget is None else cents(monthly_budget),
    )
    totals = [BrandTotals(campaigns=count) for count in counts]

    summary = DemoDataSummary(seed=seed, brand_ids=[])
    with transaction.atomic():
        new_brands = Brand.objects.bulk_create(
            [
                Brand(
                    name=name,
                    timezone=tz,
                    daily_budget=None if brand_daily_budget == AUTO else brand_daily_budget,
                    monthly_budget=None if brand_monthly_budget == AUTO else brand_monthly_budget,
                )
                for name, tz in zip(brand_names_unique(name_rng, brands), brand_zones, strict=True)
            ],
            batch_size=BATCH_SIZE,
        )
        summary.brand_ids = [brand.pk for brand in new_brands]
        report(f"{len(new_brands)} brands")

        # (brand index, number within the brand) for every campaign, in creation order.
        plan = [(index, number) for index, count in enumerate(counts) for number in range(count)]
        for start in range(0, len(plan), CAMPAIGN_CHUNK):
            chunk = plan[start : start + CAMPAIGN_CHUNK]
            parted = [(start + offset) % DAYPARTING_EVERY == DAYPARTING_EVERY - 1 for offset in range(len(chunk))]
            new_campaigns = Campaign.objects.bulk_create(
                [
                    Campaign(
                        brand_id=summary.brand_ids[index],
                        name=campaign_names.name(index, brand_zones[index]),
                        daily_budget=daily_budget,
                        monthly_budget=monthly_budget,
                        is_dayparting_enabled=is_parted,
                    )
                    for (index, _), is_parted in zip(chunk, parted, strict=True)
                ],
                batch_size=BATCH_SIZE,
            )
            rows_by_campaign: list[list[demo_rows.SpendRow]] = []
            windows: list[DaypartingSchedule] = []
            for offset, (campaign, (index, number), is_parted) in enumerate(
                zip(new_campaigns, chunk, parted, strict=True)
            ):
                days = brand_days[index]
                amounts = spend_amounts(rng, days, limits=limits, profile=PROFILE_CYCLE[number % len(PROFILE_CYCLE)])
                month_to_date = month_to_date_totals(days, amounts)
                rows_by_campaign.append(list(zip(repeat(campaign.pk), days.days, amounts, month_to_date, strict=False)))
                if amounts:
                    totals[index].today += amounts[-1]
                    totals[index].month_to_date += month_to_date[-1]
                if is_parted:
                    # Every other dayparted campaign has a window open now.
                    open_now = ((start + offset) // DAYPARTING_EVERY) % 2 == 1
                    local_now = now.astimezone(zone(brand_zones[index])) if open_now else None
                    windows.extend(
                        demo_rows.dayparting_windows(rng, campaign.pk, brand_zones[index], open_at=local_now)
                    )
            # Day by day, as an ETL reports spend, so a day's rows sit together on disk.
            spend = [rows[day] for day in range(spend_days) for rows in rows_by_campaign]
            demo_rows.spend_insert(spend, now=now)
            DaypartingSchedule.objects.bulk_create(windows, batch_size=BATCH_SIZE)
            summary.campaigns += len(new_campaigns)
            summary.spend_rows += len(spend)
            summary.dayparting_windows += len(windows)
            report(f"{summary.campaigns}/{campaigns} campaigns, {summary.spend_rows} spend rows")

        if AUTO in (brand_daily_budget, brand_monthly_budget):
            _brand_budgets_set(
                rng,
                new_brands,
                totals,
                brand_days,
                now=now,
                limits=limits,
                daily=brand_daily_budget,
                monthly=brand_monthly_budget,
            )
            report("brand budgets")

    if enforce:
        _enforce_with_history(summary, counts, now=now, history_hours=history_hours, report=report)
    summary.statuses = {
        (row["status"], row["pause_reason"]): row["number"]
        for row in _campaigns_of(summary.brand_ids)
        .values("status", "pause_reason")
        .annotate(number=Count("id"))
        .order_by()
    }
    return summary


def _brand_budgets_set(
    rng: random.Random,
    brands: list[Brand],
    totals: list[BrandTotals],
    brand_days: list[SpendCalendar],
    *,
    now: datetime,
    limits: CampaignLimits,
    daily: BrandBudget,
    monthly: BrandBudget,
) -> None:
    """Set the AUTO budgets from each brand's spend and kind, in one UPDATE per batch."""
    for index, brand in enumerate(brands):
        days = brand_days[index].days
        today = days[-1] if days else local_date(now, brand.timezone)
        auto_daily, auto_monthly = brand_budgets_auto(
            rng,
            BRAND_KIND_CYCLE[index % len(BRAND_KIND_CYCLE)],
            totals[index],
            today=today,
            reference_daily=limits.daily or FALLBACK_DAILY_CENTS,
        )
        if daily == AUTO:
            brand.daily_budget = auto_daily
        if monthly == AUTO:
            brand.monthly_budget = auto_monthly
    Brand.objects.bulk_update(brands, ["daily_budget", "monthly_budget"], batch_size=1000)


def _enforce_with_history(
    summary: DemoDataSummary, counts: list[int], *, now: datetime, history_hours: int, report: Callable[[str], None]
) -> None:
    """Apply the rule as beat would have over the last hours, then now; then a user's pause.

    Outside the data's transaction: the rule writes its own locked batches with their
    audit rows, and the data stays even if this fails (the next sweep applies it). The
    hourly runs start an hour before the history, so the first run's pauses (every
    campaign starts ACTIVE) fall outside it.
    """
    if history_hours:
        history_brands = _history_brand_ids(summary.brand_ids, counts)
        for hours_back in range(history_hours + 1, 0, -1):
            run = campaigns_enforce(
                campaigns=_campaigns_of(history_brands), source="command", now=now - timedelta(hours=hours_back)
            )
            if hours_back <= history_hours:
                summary.history_changes += run.activated + run.paused + run.reason_changed
        summary.history_hours = history_hours
        report(f"history: {summary.history_changes} changes over {history_hours} hours")
    summary.enforcement = campaigns_enforce(campaigns=_campaigns_of(summary.brand_ids), source="command", now=now)
    report(f"enforcement: {summary.enforcement.as_dict()}")
    last_active = _campaigns_of(summary.brand_ids).filter(status=Campaign.Status.ACTIVE).order_by("-pk")[:1]
    user_paused = Campaign.objects.filter(pk__in=list(last_active.values_list("pk", flat=True)))
    campaigns_pause(campaigns=user_paused, user=None, source="command")
