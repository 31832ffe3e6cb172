"""Demo spend and brand budgets, shaped so that a demo shows every pause reason.

Each campaign gets a profile from its place in its brand (`PROFILE_CYCLE`): most spend
steadily below their budgets; some reach their daily budget today, some come near it,
some reached their monthly budget this month, some come near that. Each brand gets a
kind from its place among the new brands (`BRAND_KIND_CYCLE`), and with automatic brand
budgets its budgets are set from what its campaigns spent: roomy, reached today, reached
this month, or near. So six brands or more show every reason, whatever the date.

All amounts are whole cents (ints): exact, and cheap for millions of rows.
"""

import calendar
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import accumulate

# Spend when the campaign has no daily budget to spend around (cents).
FALLBACK_DAILY_CENTS = 5000


class CampaignProfile(StrEnum):
    STEADY = "steady"
    DAILY_REACHED = "daily reached"
    NEAR_DAILY = "near daily"
    MONTHLY_REACHED = "monthly reached"
    NEAR_MONTHLY = "near monthly"


P = CampaignProfile
# By the campaign's number within its brand: five campaigns a brand already show each profile.
PROFILE_CYCLE: tuple[CampaignProfile, ...] = (
    P.STEADY, P.DAILY_REACHED, P.NEAR_DAILY, P.MONTHLY_REACHED, P.STEADY,
    P.DAILY_REACHED, P.STEADY, P.NEAR_MONTHLY, P.STEADY, P.STEADY,
)  # fmt: skip


class BrandKind(StrEnum):
    ROOMY = "roomy"
    DAILY_REACHED = "daily reached"
    MONTHLY_REACHED = "monthly reached"
    NEAR = "near"
    UNBUDGETED = "no budgets"


K = BrandKind
# By the brand's place among the new brands: three brands show both brand reasons.
BRAND_KIND_CYCLE: tuple[BrandKind, ...] = (K.ROOMY, K.DAILY_REACHED, K.MONTHLY_REACHED, K.NEAR, K.UNBUDGETED, K.ROOMY)


@dataclass(frozen=True)
class CampaignLimits:
    """A campaign's budgets in cents (None: no limit)."""

    daily: int | None
    monthly: int | None


@dataclass
class BrandTotals:
    """What the rule will read for a brand: sums over its campaigns, in cents."""

    campaigns: int = 0
    today: int = 0
    month_to_date: int = 0


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def money(amount_in_cents: int) -> Decimal:
    return Decimal(amount_in_cents).scaleb(-2)


def _days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


@dataclass(frozen=True)
class SpendCalendar:
    """A brand's spend days, ascending and ending on its today, worked out once per brand.

    Every campaign of the brand reuses it: for 100,000 campaigns the calendar arithmetic
    would otherwise cost more than drawing the amounts.
    """

    days: tuple[date, ...]
    month_lengths: tuple[int, ...]
    # (first, last + 1) index of the days of each calendar month, in order.
    months: tuple[tuple[int, int], ...]

    @classmethod
    def ending(cls, today: date, count: int) -> "SpendCalendar":
        days = tuple(today - timedelta(days=back) for back in range(count - 1, -1, -1))
        months, start = [], 0
        for index in range(1, len(days) + 1):
            if index == len(days) or days[index].month != days[start].month:
                months.append((start, index))
                start = index
        return cls(days, tuple(_days_in_month(day) for day in days), tuple(months))

    @property
    def this_month(self) -> range:
        """Indexes of the days from the 1st of today's month (within the spend days)."""
        return range(*self.months[-1]) if self.months else range(0)


def _add(amounts: list[int], indexes: Sequence[int], extra: int) -> None:
    share, remainder = divmod(extra, len(indexes))
    for position, index in enumerate(indexes):
        amounts[index] += share + (1 if position < remainder else 0)


def _rescale(amounts: list[int], indexes: Sequence[int], total: int) -> None:
    """Scale the amounts at `indexes` so that they sum to `total` (>= 0), keeping their shape."""
    current = sum(amounts[index] for index in indexes)
    if current == 0:
        _add(amounts, indexes, total)
        return
    for index in indexes:
        amounts[index] = amounts[index] * total // current
    _add(amounts, indexes[-1:], total - sum(amounts[index] for index in indexes))


def spend_amounts(
    rng: random.Random, days: SpendCalendar, *, limits: CampaignLimits, profile: CampaignProfile
) -> list[int]:
    """Daily spend in cents for the calendar's days (the last one the brand's today).

    Each campaign has its own pace (0.5-1.15 of its daily budget) and each day varies by
    +-15% around it, so some days end over budget. A monthly budget that a month at
    that pace would pass is paced over the month instead (55-85% of it), as ad
    platforms do. Then today and this month are shaped by the profile.
    """
    level = (limits.daily or FALLBACK_DAILY_CENTS) * rng.uniform(0.5, 1.15)
    draw = rng.random
    if limits.monthly:
        monthly_share = limits.monthly * rng.uniform(0.55, 0.85)
        amounts = [round(min(level, monthly_share / length) * (0.85 + 0.3 * draw())) for length in days.month_lengths]
    else:
        amounts = [round(level * (0.85 + 0.3 * draw())) for _ in days.days]
    if amounts:
        _shape_today(rng, amounts, limits.daily, profile)
        _shape_this_month(rng, amounts, list(days.this_month), limits.monthly, profile)
    return amounts


def _shape_today(rng: random.Random, amounts: list[int], daily: int | None, profile: CampaignProfile) -> None:
    if not daily:
        return
    if profile is P.DAILY_REACHED:
        amounts[-1] = max(daily, round(daily * rng.uniform(1.0, 1.1)))
    elif profile is P.NEAR_DAILY:
        amounts[-1] = min(daily - 1, round(daily * rng.uniform(0.85, 0.97)))
    elif amounts[-1] >= daily:
        # Only the profiles above reach the daily budget today.
        amounts[-1] = min(daily - 1, round(daily * rng.uniform(0.55, 0.95)))


def _shape_this_month(
    rng: random.Random, amounts: list[int], this_month: list[int], monthly: int | None, profile: CampaignProfile
) -> None:
    if not monthly:
        return
    earlier = this_month[:-1]
    month_to_date = sum(amounts[index] for index in this_month)
    if profile is P.MONTHLY_REACHED:
        # Early in a month this is a burst of spend well over the daily budget: a
        # campaign that overspent, which is what a monthly pause looks like then.
        target = max(monthly, round(monthly * rng.uniform(1.0, 1.06)))
        if month_to_date < target:
            _add(amounts, earlier or this_month, target - month_to_date)
    elif profile is P.NEAR_MONTHLY and earlier:
        target = round(monthly * rng.uniform(0.85, 0.97)) - amounts[-1]
        current = month_to_date - amounts[-1]
        # Only where it needs no burst: up to 1.5 times the campaign's own pace.
        if 0 < target <= 1.5 * current:
            _rescale(amounts, earlier, target)
    elif month_to_date >= monthly * 0.97 and earlier:
        _rescale(amounts, earlier, max(0, round(monthly * rng.uniform(0.6, 0.9)) - amounts[-1]))


def month_to_date_totals(days: SpendCalendar, amounts: Sequence[int]) -> list[int]:
    """Running totals from the 1st of each day's month: these rows are the campaign's only spend."""
    totals: list[int] = []
    for start, end in days.months:
        totals.extend(accumulate(amounts[start:end]))
    return totals


def _step(amount: int) -> int:
    """Budgets look set by a person: whole dollars, tens, or hundreds, by size."""
    if amount < 100_00:
        return 100
    if amount < 10_000_00:
        return 10_00
    return 100_00


def _round_up(amount: float) -> int:
    whole = math.ceil(amount)
    step = _step(whole)
    return -(-whole // step) * step


def _round_down(amount: float) -> int:
    whole = math.floor(amount)
    return whole // _step(whole) * _step(whole) or whole


def brand_budgets_auto(
    rng: random.Random, kind: BrandKind, totals: BrandTotals, *, today: date, reference_daily: int
) -> tuple[Decimal | None, Decimal | None]:
    """A brand's (daily, monthly) budgets for its kind, from what its campaigns spent.

    Roomy: under 70% used. Reached: 90-99% of what was spent, so the brand is paused.
    Near: 82-95% used (the monthly one only once a month's spend makes that plausible).
    """
    if kind is K.UNBUDGETED:
        return None, None
    spent_today, spent_month = totals.today, totals.month_to_date
    days_in_month = _days_in_month(today)
    if spent_today:
        roomy_daily = _round_up(spent_today / rng.uniform(0.45, 0.7))
    else:
        roomy_daily = _round_up(max(1, totals.campaigns) * reference_daily)
    roomy_monthly = _round_up(max(spent_month / rng.uniform(0.45, 0.7), roomy_daily * days_in_month * 0.7))
    daily, monthly = roomy_daily, roomy_monthly
    if kind is K.DAILY_REACHED and spent_today:
        daily = _round_down(spent_today * rng.uniform(0.9, 0.99))
    elif kind is K.MONTHLY_REACHED and spent_month:
        monthly = _round_down(spent_month * rng.uniform(0.9, 0.99))
    elif kind is K.NEAR:
        if spent_today:
            daily = _round_up(spent_today / rng.uniform(0.82, 0.95))
        if spent_month and spent_month >= 0.5 * spent_today * days_in_month:
            monthly = _round_up(spent_month / rng.uniform(0.8, 0.93))
    return money(daily), money(monthly)
