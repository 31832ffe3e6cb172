"""Demo data: brands, campaigns, spend and dayparting windows, for a demo or a benchmark.

`demo_data_create` is what `manage.py seed_data` runs. Everything it draws comes from
`random.Random(seed)`, so a seed and a clock give the same data every time. It only
ever adds rows: brand names are checked against the existing ones, and all rows are
written in one transaction, so a failure leaves nothing half-written.

Sized for benchmarks: rows are built in memory a chunk of campaigns at a time and
written with `bulk_create` (one INSERT per batch; PostgreSQL returns the new keys) or,
for the many spend rows on PostgreSQL, with COPY. The number of queries grows with the
row count divided by the batch size, never with one query per campaign.
"""

import io
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from brands.models import Brand
from budget_system.timezones import local_date, validate_timezone_name
from campaigns.enforcement import EnforcementSummary, campaigns_enforce
from campaigns.models import Campaign
from dayparting.models import DaypartingSchedule
from spend.models import Spend

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

# Limits that keep every generated amount inside the money columns (14 digits, 2
# places): a month of spend at the highest pace stays far below 10**12.
MAX_BUDGET = Decimal("1000000000.00")
# Ten years of daily rows is more than any demo or benchmark needs.
MAX_SPEND_DAYS = 3660

# Every third campaign gets dayparting windows.
DAYPARTING_EVERY = 3
WINDOWS_PER_DAYPARTED_CAMPAIGN = 3

# Campaigns built in memory per round trip, and rows per INSERT.
CAMPAIGN_CHUNK = 5000
BATCH_SIZE = 5000

# Spend when the campaign has no daily budget to spend around.
FALLBACK_DAILY_SPEND = Decimal("50.00")

_ADJECTIVES = (
    "Acme", "Blue", "Bright", "Cedar", "Copper", "Golden", "Harbor", "Iron", "Lunar", "Maple",
    "Nimbus", "Northwind", "Oak", "Polar", "Quartz", "Red", "Silver", "Solar", "Summit", "Velvet",
)  # fmt: skip
_NOUNS = (
    "Apparel", "Bakery", "Bikes", "Coffee", "Cosmetics", "Foods", "Footwear", "Games", "Garden",
    "Home", "Motors", "Optics", "Outdoor", "Pets", "Sports", "Studios", "Tea", "Toys", "Travel", "Wines",
)  # fmt: skip
_CAMPAIGN_THEMES = (
    "Brand awareness", "Display", "Holiday promo", "Product launch", "Retargeting", "Search",
    "Shopping", "Social", "Spring sale", "Video",
)  # fmt: skip


@dataclass
class DemoDataSummary:
    seed: int
    brand_ids: list[int]
    campaigns: int = 0
    spend_rows: int = 0
    dayparting_windows: int = 0
    enforcement: EnforcementSummary | None = None
    # (status, pause_reason) -> number of the new campaigns, read after enforcement.
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
        paused = Counter()
        for (status, reason), number in self.statuses.items():
            if status == Campaign.Status.PAUSED_BY_SYSTEM:
                paused[reason] += number
        active = self.statuses.get((Campaign.Status.ACTIVE, ""), 0)
        reasons = ", ".join(f"{number} {reason}" for reason, number in sorted(paused.items()))
        return (
            text
            + f"enforcement: {paused.total()} paused"
            + (f" ({reasons})" if reasons else "")
            + f", {active} active."
        )


def _check_arguments(
    *,
    brands: int,
    campaigns: int,
    spend_days: int,
    budgets: dict[str, Decimal | None],
    timezones: Sequence[str],
) -> None:
    """Refuse what would write bad rows; the command gives friendlier messages first."""
    if brands < 1:
        raise ValueError(f"brands must be at least 1, got {brands!r}.")
    if campaigns < 0:
        raise ValueError(f"campaigns must be at least 0, got {campaigns!r}.")
    if not 0 <= spend_days <= MAX_SPEND_DAYS:
        raise ValueError(f"spend_days must be 0 to {MAX_SPEND_DAYS}, got {spend_days!r}.")
    for name, budget in budgets.items():
        if budget is None:
            continue
        if not budget.is_finite() or not 0 <= budget <= MAX_BUDGET or budget != budget.quantize(Decimal("0.01")):
            raise ValueError(f"{name} must be 0 to {MAX_BUDGET} with at most 2 decimal places, got {budget!r}.")
    if not timezones:
        raise ValueError("timezones must name at least one IANA zone.")
    for name in timezones:
        validate_timezone_name(name)


def _unique_brand_names(rng: random.Random, count: int) -> list[str]:
    """`count` new names, none of them already taken.

    Candidates are checked against the table in one query per round (in chunks, to
    stay under SQLite's parameter limit); a rerun with the same seed collides on the
    first round and draws again.
    """
    names: list[str] = []
    chosen: set[str] = set()
    while len(names) < count:
        candidates: list[str] = []
        while len(candidates) < count - len(names):
            name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.randrange(16**6):06X}"
            if name not in chosen:
                chosen.add(name)
                candidates.append(name)
        taken: set[str] = set()
        for start in range(0, len(candidates), BATCH_SIZE):
            taken.update(
                Brand.objects.filter(name__in=candidates[start : start + BATCH_SIZE]).values_list("name", flat=True)
            )
        names.extend(name for name in candidates if name not in taken)
    return names


def _campaigns_per_brand(campaigns: int, brands: int) -> list[int]:
    """Spread evenly: the first `campaigns % brands` brands get one more."""
    share, extra = divmod(campaigns, brands)
    return [share + (1 if index < extra else 0) for index in range(brands)]


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# (campaign id, date, daily spend in cents, month-to-date spend in cents)
SpendRow = tuple[int, date, int, int]


def _spend_rows(rng: random.Random, campaign_id: int, days: Sequence[date], daily_cents: int) -> list[SpendRow]:
    """One row a day, spending around the daily budget; some days over it.

    Each campaign has its own pace (0.5-1.15 of its budget) and each day varies by
    +-15% around it, so about one day in five ends at or over budget.
    `monthly_spend` is the running total from the 1st of the row's month: these rows
    are the campaign's only spend, so it restarts at the first row of each month.
    """
    pace = rng.uniform(0.5, 1.15)
    rows = []
    month_to_date = 0
    month = None
    for day in days:
        if (day.year, day.month) != month:
            month, month_to_date = (day.year, day.month), 0
        daily = round(daily_cents * pace * rng.uniform(0.85, 1.15))
        month_to_date += daily
        rows.append((campaign_id, day, daily, month_to_date))
    return rows


def _copy_supported() -> bool:
    return connection.vendor == "postgresql"


def _spend_insert(rows: Sequence[SpendRow], *, now: datetime) -> None:
    """Write spend rows: COPY on PostgreSQL, `bulk_create` elsewhere.

    Spend is seven rows per campaign in the default benchmark, most of what is written;
    building 700,000 model instances for `bulk_create` alone took longer than the whole
    minute the benchmark allows, while COPY takes a few seconds. The rows are the same
    either way (tests compare the two paths).
    """
    if not rows:
        return
    if not _copy_supported():
        Spend.objects.bulk_create(
            (
                Spend(campaign_id=campaign_id, date=day, daily_spend=_money(daily), monthly_spend=_money(monthly))
                for campaign_id, day, daily, monthly in rows
            ),
            batch_size=BATCH_SIZE,
        )
        return
    # Cents as text with two places: exact, and no Decimal per value. No value holds a
    # tab, newline or backslash, so COPY's text format needs no escaping.
    stamp = now.isoformat()
    data = "".join(
        f"{campaign_id}\t{day.isoformat()}\t{daily // 100}.{daily % 100:02d}\t"
        f"{monthly // 100}.{monthly % 100:02d}\t{stamp}\t{stamp}\n"
        for campaign_id, day, daily, monthly in rows
    )
    quote = connection.ops.quote_name
    fields = [Spend._meta.get_field(name) for name in ("campaign", "date", "daily_spend", "monthly_spend")]
    fields += [Spend._meta.get_field("created_at"), Spend._meta.get_field("updated_at")]
    sql = f"COPY {quote(Spend._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            raw.copy_expert(sql, io.StringIO(data))
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(data)


def _dayparting_windows(rng: random.Random, campaign_id: int, tz: str) -> list[DaypartingSchedule]:
    """Two daytime windows on different days and one overnight window (e.g. Fri 22:00-02:00)."""
    day_one, day_two = rng.sample(range(7), 2)
    windows = []
    for day in (day_one, day_two):
        start = rng.randint(6, 11)
        windows.append(
            DaypartingSchedule(
                campaign_id=campaign_id,
                day_of_week=day,
                start_time=time(start),
                end_time=time(start + rng.randint(6, 10)),
                timezone=tz,
            )
        )
    windows.append(
        DaypartingSchedule(
            campaign_id=campaign_id,
            day_of_week=rng.randrange(7),
            start_time=time(rng.randint(20, 23)),
            end_time=time(rng.randint(1, 4)),
            timezone=tz,
        )
    )
    return windows


def _campaigns_of(brand_ids: list[int]) -> QuerySet[Campaign]:
    """The campaigns of these brands.

    When the new keys are one unbroken run (the usual case: one INSERT sequence) a
    range says the same as a list of 100,000 ids, and stays under SQLite's parameter limit.
    """
    if brand_ids and max(brand_ids) - min(brand_ids) + 1 == len(brand_ids):
        return Campaign.objects.filter(brand_id__gte=min(brand_ids), brand_id__lte=max(brand_ids))
    return Campaign.objects.filter(brand_id__in=brand_ids)


def demo_data_create(
    *,
    brands: int,
    campaigns: int,
    spend_days: int,
    daily_budget: Decimal | None,
    monthly_budget: Decimal | None,
    brand_daily_budget: Decimal | None = None,
    brand_monthly_budget: Decimal | None = None,
    timezones: Sequence[str] = DEMO_TIMEZONES,
    seed: int | None = None,
    enforce: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DemoDataSummary:
    """Add `brands` brands and `campaigns` campaigns spread evenly over them, with spend.

    Each campaign gets the given budgets and one spend row a day for the `spend_days`
    days ending on its brand's `today`; every third one gets dayparting windows in its
    brand's zone. Brand zones are drawn from `timezones`. Unless `enforce` is False the
    rule is then applied to the new campaigns (source "command"), so the demo shows
    campaigns paused for their budgets or their schedule.
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
    )
    if seed is None:
        # Still reported, so an unseeded run can be replayed.
        seed = random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    # Names have their own stream: when a rerun must draw again to avoid taken names,
    # every other choice stays the same as on a fresh database.
    name_rng = random.Random(f"brand-names-{seed}")
    report = progress or (lambda message: None)

    now = timezone.now()
    brand_zones = [rng.choice(timezones) for _ in range(brands)]
    # Each brand's last `spend_days` local dates; date arithmetic, no local datetimes.
    brand_days: list[list[date]] = []
    for tz in brand_zones:
        today = local_date(now, tz)
        brand_days.append([today - timedelta(days=back) for back in range(spend_days - 1, -1, -1)])
    counts = _campaigns_per_brand(campaigns, brands)
    # A budget of 0 pauses at once anyway; spend still needs something to vary around.
    daily_cents = _cents(daily_budget or FALLBACK_DAILY_SPEND)

    summary = DemoDataSummary(seed=seed, brand_ids=[])
    with transaction.atomic():
        new_brands = Brand.objects.bulk_create(
            [
                Brand(name=name, timezone=tz, daily_budget=brand_daily_budget, monthly_budget=brand_monthly_budget)
                for name, tz in zip(_unique_brand_names(name_rng, brands), brand_zones, strict=True)
            ],
            batch_size=BATCH_SIZE,
        )
        summary.brand_ids = [brand.pk for brand in new_brands]
        report(f"{len(new_brands)} brands")

        # (brand index, number within the brand) for every campaign, in creation order.
        plan = [(index, number) for index, count in enumerate(counts) for number in range(1, count + 1)]
        for start in range(0, len(plan), CAMPAIGN_CHUNK):
            chunk = plan[start : start + CAMPAIGN_CHUNK]
            parted = [(start + offset) % DAYPARTING_EVERY == DAYPARTING_EVERY - 1 for offset in range(len(chunk))]
            new_campaigns = Campaign.objects.bulk_create(
                [
                    Campaign(
                        brand_id=summary.brand_ids[index],
                        name=f"{rng.choice(_CAMPAIGN_THEMES)} {number}",
                        daily_budget=daily_budget,
                        monthly_budget=monthly_budget,
                        is_dayparting_enabled=is_parted,
                    )
                    for (index, number), is_parted in zip(chunk, parted, strict=True)
                ],
                batch_size=BATCH_SIZE,
            )
            spend: list[SpendRow] = []
            windows: list[DaypartingSchedule] = []
            for campaign, (index, _), is_parted in zip(new_campaigns, chunk, parted, strict=True):
                spend.extend(_spend_rows(rng, campaign.pk, brand_days[index], daily_cents))
                if is_parted:
                    windows.extend(_dayparting_windows(rng, campaign.pk, brand_zones[index]))
            _spend_insert(spend, now=now)
            DaypartingSchedule.objects.bulk_create(windows, batch_size=BATCH_SIZE)
            summary.campaigns += len(new_campaigns)
            summary.spend_rows += len(spend)
            summary.dayparting_windows += len(windows)
            report(f"{summary.campaigns}/{campaigns} campaigns, {summary.spend_rows} spend rows")

    if enforce:
        # Outside the data's transaction: the rule writes its own locked batches with
        # their audit rows, and the data stays even if this fails (the next sweep applies it).
        summary.enforcement = campaigns_enforce(campaigns=_campaigns_of(summary.brand_ids), source="command")
        report(f"enforcement: {summary.enforcement.as_dict()}")
    summary.statuses = {
        (row["status"], row["pause_reason"]): row["number"]
        for row in _campaigns_of(summary.brand_ids)
        .values("status", "pause_reason")
        .annotate(number=Count("id"))
        .order_by()
    }
    return summary
