"""The figures of the ops dashboard (the admin's front page).

Campaigns by status and by pause reason; brands nearest their daily and monthly
budgets; spend today and this month against the brands' budgets; spend per day over
the last 30 days; pauses and resumes per hour over the last day.

Spend is read as the rule reads it (`campaigns/figures.py`): each brand's today and
month are its own, in its timezone. Every figure is set-based: `dashboard_figures`
runs a fixed number of queries however many brands, campaigns and spend rows there are.

Speed at 100,000 campaigns and millions of spend rows: one GROUP BY (brand, date) over
the rows dated from the earliest to the latest brand's today gives each brand's spend
today and month-to-date (a campaign's row dated its brand's today is its latest row of
the month) and the chart's latest days; only campaigns with no row today need the
rule's per-campaign lookup of their month-to-date, and only their brands are asked. The
30-day chart needs every row of 30 days; the days before every brand's today change
rarely (late corrections), so their totals are cached, each day on its own: the day
before for SETTLED_SPEND_CACHE_SECONDS, older days for OLDER_SPEND_CACHE_SECONDS.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncHour

from brands.models import Brand
from budget_system.timezones import timezone_names
from campaigns.figures import ZERO, brand_local_dates, campaigns_with_spend
from campaigns.models import Campaign, CampaignStatusChange
from spend.models import Spend

SPEND_CHART_DAYS = 30
CHANGE_CHART_HOURS = 24
NEAREST_BRANDS = 8
# Utilization from which a budget counts as near (amber); at 100% it is reached (red).
NEAR_FRACTION = Decimal("0.8")
# How stale the totals of days before every brand's today may be: a late correction to
# the day before shows within 5 minutes, to an older day within an hour.
SETTLED_SPEND_CACHE_SECONDS = 300
OLDER_SPEND_CACHE_SECONDS = 3600

Status = Campaign.Status
Reason = Campaign.PauseReason
PAUSED = (Status.PAUSED_BY_SYSTEM, Status.PAUSED_BY_USER)


@dataclass(frozen=True)
class Use:
    """Spend against a budget (None: no budget, so no limit)."""

    spend: Decimal
    budget: Decimal | None

    @property
    def fraction(self) -> Decimal | None:
        """Spend / budget; None without a budget or with a budget of 0 (reached at once)."""
        if not self.budget:
            return None
        return self.spend / self.budget

    @property
    def reached(self) -> bool:
        return self.budget is not None and self.spend >= self.budget

    @property
    def level(self) -> str:
        """ "reached" (red), "near" (amber, from 80%), "ok", or "none" without a budget."""
        if self.budget is None:
            return "none"
        if self.reached:
            return "reached"
        return "near" if self.fraction >= NEAR_FRACTION else "ok"

    @property
    def rank(self) -> Decimal:
        """Order for "nearest its budget": reached budgets of 0 first, then by fraction."""
        return Decimal("Infinity") if self.fraction is None else self.fraction


@dataclass(frozen=True)
class BrandUse:
    brand_id: int
    name: str
    timezone: str
    # The brand's local date now; None for a timezone outside the IANA database.
    today: date | None
    daily: Use
    monthly: Use


@dataclass(frozen=True)
class SpendTotal:
    """Spend of all brands in their own today (or month), against the brands' budgets."""

    spend: Decimal
    # Spend and budgets of the brands that have such a budget; the others have no limit.
    budgeted: Use
    unbudgeted_brands: int


@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class DaySpend:
    day: date
    spend: Decimal


@dataclass(frozen=True)
class HourChanges:
    start: datetime  # UTC
    pauses: int
    resumes: int


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    campaigns: int
    by_status: list[Tally]
    by_reason: list[Tally]
    brands: int
    nearest_daily: list[BrandUse]
    nearest_monthly: list[BrandUse]
    daily_reached: int
    monthly_reached: int
    today: SpendTotal
    month: SpendTotal
    # The local dates that are "today" for the brands now, with their zones.
    brand_todays: list[tuple[date, list[str]]]
    spend_by_day: list[DaySpend]
    changes_by_hour: list[HourChanges]


def dashboard_figures(*, now: datetime, nearest: int = NEAREST_BRANDS) -> Dashboard:
    """Every figure of the dashboard at instant `now`, in a fixed number of queries."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # For this transaction only: JIT compiling takes longer (~130 ms) than these
            # one-off aggregates take to run, and the GROUP BY (brand, date) over 100,000
            # campaigns' rows sorts on disk in the default 4 MB but hashes in memory in 32.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
        by_status, by_reason, campaigns_per_brand = _campaigns_by_status_and_reason()
        brands = list(Brand.objects.order_by().values("id", "name", "timezone", "daily_budget", "monthly_budget"))
        zones_by_today = brand_local_dates((brand["timezone"] for brand in brands), now=now)
        today_of_zone = {name: day for day, names in zones_by_today.items() for name in names}
        brand_today = {brand["id"]: today_of_zone.get(brand["timezone"]) for brand in brands}
        brand_spend, recent_days = _brand_spend_and_recent_days(brand_today, campaigns_per_brand, now=now)
        uses = _brand_uses(brands, brand_spend, brand_today)
        spend_by_day = _spend_by_day(zones_by_today, recent_days, brands, now=now)
        changes_by_hour = _changes_by_hour(now=now)
    return Dashboard(
        now=now,
        campaigns=sum(item.count for item in by_status),
        by_status=by_status,
        by_reason=by_reason,
        brands=len(brands),
        nearest_daily=_nearest(uses, "daily", nearest),
        nearest_monthly=_nearest(uses, "monthly", nearest),
        daily_reached=sum(use.daily.reached for use in uses),
        monthly_reached=sum(use.monthly.reached for use in uses),
        today=_total(use.daily for use in uses),
        month=_total(use.monthly for use in uses),
        brand_todays=sorted((day, sorted(names)) for day, names in zones_by_today.items()),
        spend_by_day=spend_by_day,
        changes_by_hour=changes_by_hour,
    )


def _campaigns_by_status_and_reason() -> tuple[list[Tally], list[Tally], Counter[int]]:
    """Campaigns by status and by reason, and per brand, from one GROUP BY."""
    counts: Counter[tuple[str, str]] = Counter()
    per_brand: Counter[int] = Counter()
    rows = Campaign.objects.order_by().values("brand_id", "status", "pause_reason").annotate(number=Count("pk"))
    for row in rows:
        counts[(row["status"], row["pause_reason"])] += row["number"]
        per_brand[row["brand_id"]] += row["number"]
    by_status = [
        Tally(status.value, status.label, sum(n for (s, _), n in counts.items() if s == status)) for status in Status
    ]
    # In the rule's order: the first reason that holds is the one stored.
    by_reason = [
        Tally(reason.value, reason.label, counts[(Status.PAUSED_BY_SYSTEM, reason.value)])
        for reason in Reason
        if reason != Reason.NONE
    ]
    return by_status, by_reason, per_brand


def _brand_spend_and_recent_days(
    brand_today: dict[int, date | None], campaigns_per_brand: Counter[int], *, now: datetime
) -> tuple[dict[int, tuple[Decimal, Decimal]], dict[date, Decimal]]:
    """(spend today, month-to-date) per brand, as the rule reads them; and the latest days' totals.

    One GROUP BY (brand, date) over the rows dated from the earliest to the latest
    brand's today. A brand's group dated its today holds each campaign's row for today,
    whose `monthly_spend` is the campaign's month-to-date (no row of the month is
    later). A group dated on or before its brand's today counts for the chart.

    A brand with fewer rows today than campaigns has campaigns with no row today: their
    month-to-date is their latest earlier row this month, read with the rule's own
    expressions (`campaigns_with_spend`) in one more query over those brands only.
    """
    todays = sorted({day for day in brand_today.values() if day is not None})
    spend: dict[int, tuple[Decimal, Decimal]] = {}
    recent: dict[date, Decimal] = defaultdict(lambda: ZERO)
    if not todays:
        return spend, recent
    rows_today: Counter[int] = Counter()
    groups = (
        Spend.objects.order_by()
        .filter(date__gte=todays[0], date__lte=todays[-1])
        .values("campaign__brand_id", "date")
        .annotate(daily=Sum("daily_spend"), monthly=Sum("monthly_spend"), rows=Count("pk"))
    )
    for group in groups:
        brand_id, day = group["campaign__brand_id"], group["date"]
        today = brand_today.get(brand_id)
        if today is None or day > today:
            # An unknown zone (the rule skips the brand), or a row after its brand's today.
            continue
        recent[day] += group["daily"]
        if day == today:
            spend[brand_id] = (group["daily"], group["monthly"])
            rows_today[brand_id] = group["rows"]
    short = [
        brand_id
        for brand_id, count in campaigns_per_brand.items()
        if brand_today.get(brand_id) is not None and rows_today[brand_id] < count
    ]
    if short:
        without_todays_row = campaigns_with_spend(Campaign.objects.filter(brand_id__in=short), now=now).filter(
            ~Exists(Spend.objects.filter(campaign=OuterRef("pk"), date=OuterRef("brand_today")))
        )
        totals = without_todays_row.values("brand_id").annotate(monthly=Sum("month_to_date_spend")).order_by()
        for row in totals:
            daily, monthly = spend.get(row["brand_id"], (ZERO, ZERO))
            spend[row["brand_id"]] = (daily, monthly + row["monthly"])
    return spend, recent


def _brand_uses(
    brands: list[dict], spend: dict[int, tuple[Decimal, Decimal]], brand_today: dict[int, date | None]
) -> list[BrandUse]:
    uses = []
    for brand in brands:
        daily, monthly = spend.get(brand["id"], (ZERO, ZERO))
        uses.append(
            BrandUse(
                brand_id=brand["id"],
                name=brand["name"],
                timezone=brand["timezone"],
                today=brand_today[brand["id"]],
                daily=Use(daily, brand["daily_budget"]),
                monthly=Use(monthly, brand["monthly_budget"]),
            )
        )
    return uses


def _nearest(uses: list[BrandUse], which: str, count: int) -> list[BrandUse]:
    budgeted = [use for use in uses if getattr(use, which).budget is not None]
    budgeted.sort(key=lambda use: (-getattr(use, which).rank, use.name))
    return budgeted[:count]


def _total(uses) -> SpendTotal:
    spend = budgeted_spend = budget = ZERO
    budgeted = unbudgeted = 0
    for use in uses:
        spend += use.spend
        if use.budget is None:
            unbudgeted += 1
        else:
            budgeted += 1
            budgeted_spend += use.spend
            budget += use.budget
    return SpendTotal(
        spend=spend, budgeted=Use(budgeted_spend, budget if budgeted else None), unbudgeted_brands=unbudgeted
    )


def _spend_by_day(
    zones_by_today: dict[date, list[str]], recent: dict[date, Decimal], brands: list[dict], *, now: datetime
) -> list[DaySpend]:
    """Total daily spend per date, for the 30 dates ending on the latest brand's today.

    A row counts on its own date (its brand's calendar) and, as for the rule, not when
    it is dated after its brand's today. The dates from the earliest brand's today on
    come with the brands' figures (`recent`, read fresh); the dates before it hold only
    rows that count, so they need no join with brands, and their totals are cached.
    """
    todays = sorted(zones_by_today) or [now.astimezone(UTC).date()]
    first = todays[-1] - timedelta(days=SPEND_CHART_DAYS - 1)
    totals = _settled_spend(first, todays[0] - timedelta(days=1), brands) if todays[0] > first else {}
    totals.update(recent)
    return [
        DaySpend(day, totals.get(day, ZERO)) for day in (first + timedelta(days=n) for n in range(SPEND_CHART_DAYS))
    ]


def settled_day_key(day: date, unknown_zones: frozenset[str] = frozenset()) -> str:
    """The cache key of one settled day's total (the rows of brands with unknown zones left out)."""
    return f"dashboard:spend-day:{day.isoformat()}:{','.join(sorted(unknown_zones))}"


def _settled_spend(first: date, last: date, brands: list[dict]) -> dict[date, Decimal]:
    """Each day's total from `first` to `last`, every day before every brand's today.

    Each day is cached on its own: the day before the earliest brand's today, where
    late corrections usually land, for SETTLED_SPEND_CACHE_SECONDS; older days for
    OLDER_SPEND_CACHE_SECONDS. One query reads the days missing from the cache.
    """
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    unknown = frozenset({brand["timezone"] for brand in brands} - timezone_names())
    keys = {day: settled_day_key(day, unknown) for day in days}
    cached = cache.get_many(keys.values())
    totals = {day: Decimal(cached[key]) for day, key in keys.items() if key in cached}
    missing = [day for day in days if day not in totals]
    if not missing:
        return totals
    rows = Spend.objects.order_by().filter(date__in=missing)
    if unknown:
        # The rule skips brands whose stored zone is unknown; so does the chart (slower).
        rows = rows.exclude(campaign__brand__timezone__in=unknown)
    read = {row["date"]: row["total"] for row in rows.values("date").annotate(total=Sum("daily_spend"))}
    for day in missing:
        totals[day] = read.get(day, ZERO)
        timeout = SETTLED_SPEND_CACHE_SECONDS if day == last else OLDER_SPEND_CACHE_SECONDS
        cache.set(keys[day], str(totals[day]), timeout)
    return totals


def _changes_by_hour(*, now: datetime) -> list[HourChanges]:
    """Pauses (from ACTIVE) and resumes (to ACTIVE) per UTC hour, the current hour last."""
    current_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first_hour = current_hour - timedelta(hours=CHANGE_CHART_HOURS - 1)
    rows = (
        CampaignStatusChange.objects.order_by()
        .filter(created_at__gte=first_hour, created_at__lte=now)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour")
        .annotate(
            pauses=Count("pk", filter=Q(old_status=Status.ACTIVE, new_status__in=PAUSED)),
            resumes=Count("pk", filter=Q(new_status=Status.ACTIVE)),
        )
    )
    by_hour = {row["hour"].astimezone(UTC): (row["pauses"], row["resumes"]) for row in rows}
    hours = (first_hour + timedelta(hours=n) for n in range(CHANGE_CHART_HOURS))
    return [HourChanges(hour, *by_hour.get(hour, (0, 0))) for hour in hours]
