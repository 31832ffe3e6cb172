"""Pacing forecast: where spend ends the local day and month at the current pace.

The method is linear: the pace is the spend so far over the time elapsed since the
period began (local midnight, or local midnight on the 1st, in the brand's timezone),
and the projection carries that pace to the period's end. The budget is reached at
`start + elapsed x budget / spend` if that falls before the end. The spend is the
rule's own reading (`campaigns.figures`). Limits, stated in the README: spend reported
late or in bursts (an ETL every few hours) looks like a slower then faster pace; the
first minutes of a period extrapolate from very little; a day's shape (more clicks in
the evening, dayparting windows, a pause) is not modelled.

Pure functions of figures (`period_forecast`, `spend_forecast`) and set-based helpers
for lists (`campaigns_forecast`, `brands_forecast`: a fixed number of queries for a
page of rows) and for one campaign (`campaign_forecast`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from budget_system.timezones import local_date, month_start, timezone_names, zone
from campaigns.figures import ZERO, brand_spend_totals, campaigns_with_spend
from campaigns.models import Campaign

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PeriodForecast:
    spend: Decimal
    budget: Decimal | None
    # Spend at the end of the period at the current pace (None: no time has passed yet).
    projected_spend: Decimal | None
    # Spend has reached the budget already (the rule pauses at this point).
    budget_reached: bool
    # When the pace reaches the budget, in the brand's timezone; None if not in this period.
    budget_reached_at: datetime | None
    ends_at: datetime


@dataclass(frozen=True)
class SpendForecast:
    daily: PeriodForecast
    monthly: PeriodForecast


@dataclass(frozen=True)
class CampaignForecast:
    campaign: SpendForecast
    brand: SpendForecast


def _local_midnight(day: date, zone_name: str) -> datetime:
    # In UTC at once: subtracting two datetimes of one zone would ignore a DST change.
    return datetime.combine(day, time(0), tzinfo=zone(zone_name)).astimezone(UTC)


def local_day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The local day as UTC instants [start, end): 23, 24 or 25 hours long."""
    return _local_midnight(day, zone_name), _local_midnight(day + timedelta(days=1), zone_name)


def local_month_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    first = month_start(day)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return _local_midnight(first, zone_name), _local_midnight(next_first, zone_name)


def period_forecast(
    *, spend: Decimal, budget: Decimal | None, starts_at: datetime, ends_at: datetime, now: datetime, zone_name: str
) -> PeriodForecast:
    """Linear pace over [starts_at, ends_at) seen at `now`."""
    elapsed = now - starts_at
    length = ends_at - starts_at
    reached = budget is not None and spend >= budget
    if spend <= 0:
        projected, reached_at = ZERO, None
    elif elapsed <= timedelta(0):
        projected, reached_at = None, None
    else:
        ratio = Decimal(length / timedelta(microseconds=1)) / Decimal(elapsed / timedelta(microseconds=1))
        projected = (spend * ratio).quantize(CENT, rounding=ROUND_HALF_UP)
        reached_at = None
        if budget is not None and not reached:
            microseconds = int(Decimal(elapsed / timedelta(microseconds=1)) * budget / spend)
            at = starts_at + timedelta(microseconds=microseconds)
            if at < ends_at:
                reached_at = at.astimezone(zone(zone_name)).replace(microsecond=0)
    return PeriodForecast(spend, budget, projected, reached, reached_at, ends_at.astimezone(zone(zone_name)))


def spend_forecast(
    *,
    today_spend: Decimal,
    month_to_date_spend: Decimal,
    daily_budget: Decimal | None,
    monthly_budget: Decimal | None,
    zone_name: str,
    now: datetime,
) -> SpendForecast:
    """Daily and monthly forecast for one set of figures (a campaign's or a brand's)."""
    today = local_date(now, zone_name)
    day_start, day_end = local_day_bounds(today, zone_name)
    month_begin, month_end = local_month_bounds(today, zone_name)
    return SpendForecast(
        daily=period_forecast(
            spend=today_spend,
            budget=daily_budget,
            starts_at=day_start,
            ends_at=day_end,
            now=now,
            zone_name=zone_name,
        ),
        monthly=period_forecast(
            spend=month_to_date_spend,
            budget=monthly_budget,
            starts_at=month_begin,
            ends_at=month_end,
            now=now,
            zone_name=zone_name,
        ),
    )


# --- Set-based helpers for lists and pages -------------------------------------------


def _brand_forecast(brand, totals: dict[int, tuple[Decimal, Decimal]], now: datetime) -> SpendForecast | None:
    if brand.timezone not in timezone_names():
        return None
    daily, monthly = totals.get(brand.pk, (ZERO, ZERO))
    return spend_forecast(
        today_spend=daily,
        month_to_date_spend=monthly,
        daily_budget=brand.daily_budget,
        monthly_budget=brand.monthly_budget,
        zone_name=brand.timezone,
        now=now,
    )


def brands_forecast(*, brands: Sequence, now: datetime) -> dict[int, SpendForecast]:
    """For a page of brands (the brand admin list): 2 queries, however many rows."""
    totals = brand_spend_totals(brand_ids=[brand.pk for brand in brands], now=now)
    forecasts = {brand.pk: _brand_forecast(brand, totals, now) for brand in brands}
    return {pk: forecast for pk, forecast in forecasts.items() if forecast is not None}


def campaigns_forecast(*, campaigns: Sequence[Campaign], now: datetime) -> dict[int, CampaignForecast]:
    """For a page of campaigns annotated by `campaigns_with_spend` (same `now`), with `brand` loaded.

    2 queries for the brands' totals, however many rows; a campaign whose brand's zone is
    unknown is left out (enforcement skips it too).
    """
    brands = {campaign.brand_id: campaign.brand for campaign in campaigns}
    brand_forecasts = brands_forecast(brands=list(brands.values()), now=now)
    forecasts = {}
    for campaign in campaigns:
        if campaign.brand_id not in brand_forecasts:
            continue
        forecasts[campaign.pk] = CampaignForecast(
            campaign=spend_forecast(
                today_spend=campaign.today_spend,
                month_to_date_spend=campaign.month_to_date_spend,
                daily_budget=campaign.daily_budget,
                monthly_budget=campaign.monthly_budget,
                zone_name=campaign.brand.timezone,
                now=now,
            ),
            brand=brand_forecasts[campaign.brand_id],
        )
    return forecasts


def campaign_forecast(*, campaign_id: int, now: datetime) -> CampaignForecast | None:
    """For one campaign's page (4 queries)."""
    campaign = campaigns_with_spend(Campaign.objects.filter(pk=campaign_id).select_related("brand"), now=now).first()
    if campaign is None:
        return None
    return campaigns_forecast(campaigns=[campaign], now=now).get(campaign.pk)


def facts_forecast(facts, *, now: datetime) -> CampaignForecast:
    """The forecast from the figures the rule read for one campaign at `now` (no query).

    `facts` is a `CampaignFacts` (the console's explanations hold them), so a list page
    forecasts its rows from the reading it already made.
    """

    def forecast(daily, monthly, daily_budget, monthly_budget) -> SpendForecast:
        return spend_forecast(
            today_spend=daily,
            month_to_date_spend=monthly,
            daily_budget=daily_budget,
            monthly_budget=monthly_budget,
            zone_name=facts.brand_timezone,
            now=now,
        )

    return CampaignForecast(
        campaign=forecast(
            facts.campaign_daily_spend,
            facts.campaign_monthly_spend,
            facts.campaign_daily_budget,
            facts.campaign_monthly_budget,
        ),
        brand=forecast(
            facts.brand_daily_spend, facts.brand_monthly_spend, facts.brand_daily_budget, facts.brand_monthly_budget
        ),
    )
