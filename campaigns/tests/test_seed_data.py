"""`manage.py seed_data`: the demo data it adds, and the options it refuses."""

import datetime
import re
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from brands.models import Brand
from brands.tests.factories import BrandFactory
from budget_system.timezones import local_date, validate_timezone_name
from campaigns import demo_data, demo_names, demo_rows, demo_spend
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from dayparting.windows import Window, any_window_contains
from spend.models import Spend

pytestmark = pytest.mark.django_db

S = Campaign.Status
R = Campaign.PauseReason
UTC = datetime.UTC
# 02:30 UTC on 3 March: still 2 March in the Americas, so seven days there run
# 24 Feb - 2 Mar and cross the month boundary; already 3 March in Asia.
MARCH_3 = datetime.datetime(2026, 3, 3, 2, 30, tzinfo=UTC)


def seed(*args, **options) -> str:
    out = StringIO()
    call_command("seed_data", *args, stdout=out, **options)
    return out.getvalue()


def new_brands(before: set[int]) -> list[Brand]:
    return list(Brand.objects.exclude(pk__in=before).order_by("pk"))


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Brand, Campaign, Spend, DaypartingSchedule, CampaignStatusChange)
    }


def snapshot(brands: list[Brand], *, with_names: bool = True) -> list:
    """Everything generated for these brands, without primary keys, in creation order."""
    result = []
    for brand in brands:
        campaigns = []
        for campaign in brand.campaigns.order_by("pk"):
            spend = list(campaign.spend_set.order_by("date").values_list("date", "daily_spend", "monthly_spend"))
            windows = list(
                campaign.dayparting_schedules.order_by("pk").values_list(
                    "day_of_week", "start_time", "end_time", "timezone"
                )
            )
            campaigns.append(
                (
                    campaign.name,
                    campaign.daily_budget,
                    campaign.monthly_budget,
                    campaign.is_dayparting_enabled,
                    spend,
                    windows,
                )
            )
        name = brand.name if with_names else None
        result.append((name, brand.timezone, brand.daily_budget, brand.monthly_budget, campaigns))
    return result


def month_to_date_totals(rows: list[Spend]) -> list[Decimal]:
    """Running total of daily_spend from the 1st of each row's month (rows sorted by date)."""
    totals, running, month = [], Decimal("0"), None
    for row in rows:
        if (row.date.year, row.date.month) != month:
            month, running = (row.date.year, row.date.month), Decimal("0")
        running += row.daily_spend
        totals.append(running)
    return totals


ALL_REASONS = {R.BRAND_MONTHLY_BUDGET, R.MONTHLY_BUDGET, R.BRAND_DAILY_BUDGET, R.DAILY_BUDGET, R.DAYPARTING}


def windows_of(campaign: Campaign) -> list[Window]:
    return [Window(w.day_of_week, w.start_time, w.end_time, w.timezone) for w in campaign.dayparting_schedules.all()]


def campaign_spend_by_the_rule(now: datetime.datetime) -> dict[int, tuple[Decimal, Decimal]]:
    """Each campaign's spend today and month-to-date, read here from its rows as the rule reads them."""
    figures = {}
    for campaign in Campaign.objects.select_related("brand").prefetch_related("spend_set"):
        today = local_date(now, campaign.brand.timezone)
        rows = {row.date: row for row in campaign.spend_set.all() if today.replace(day=1) <= row.date <= today}
        daily = rows[today].daily_spend if today in rows else Decimal("0")
        monthly = rows[max(rows)].monthly_spend if rows else Decimal("0")
        figures[campaign.pk] = (daily, monthly)
    return figures


def brand_spend_by_the_rule(now: datetime.datetime) -> tuple[Counter, Counter]:
    daily, monthly = Counter(), Counter()
    brand_of = dict(Campaign.objects.values_list("pk", "brand_id"))
    for pk, (campaign_daily, campaign_monthly) in campaign_spend_by_the_rule(now).items():
        daily[brand_of[pk]] += campaign_daily
        monthly[brand_of[pk]] += campaign_monthly
    return daily, monthly


def statuses_by_the_rule(now: datetime.datetime) -> dict[int, tuple[str, str]]:
    """What the rule gives each campaign, worked out here from the rows (SPEC section 4)."""

    def reached(spend, budget) -> bool:
        return budget is not None and spend >= budget

    spend = campaign_spend_by_the_rule(now)
    brand_daily, brand_monthly = brand_spend_by_the_rule(now)
    expected = {}
    for campaign in Campaign.objects.select_related("brand").prefetch_related("dayparting_schedules"):
        brand, (daily, monthly) = campaign.brand, spend[campaign.pk]
        if reached(brand_monthly[brand.pk], brand.monthly_budget):
            expected[campaign.pk] = (S.PAUSED_BY_SYSTEM, R.BRAND_MONTHLY_BUDGET)
        elif reached(monthly, campaign.monthly_budget):
            expected[campaign.pk] = (S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)
        elif reached(brand_daily[brand.pk], brand.daily_budget):
            expected[campaign.pk] = (S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)
        elif reached(daily, campaign.daily_budget):
            expected[campaign.pk] = (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
        elif campaign.is_dayparting_enabled and not any_window_contains(windows_of(campaign), now):
            expected[campaign.pk] = (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
        else:
            expected[campaign.pk] = (S.ACTIVE, "")
    return expected


def brand_budget_states(now: datetime.datetime) -> set[str]:
    daily, monthly = brand_spend_by_the_rule(now)
    states = set()
    for brand in Brand.objects.all():
        if brand.daily_budget is None and brand.monthly_budget is None:
            states.add("no budgets")
            continue
        daily_used, monthly_used = daily[brand.pk] / brand.daily_budget, monthly[brand.pk] / brand.monthly_budget
        states.add("daily reached" if daily_used >= 1 else "daily near" if daily_used >= Decimal("0.8") else "room")
        if monthly_used >= 1:
            states.add("monthly reached")
    return states


# --- What it creates -------------------------------------------------------------------


@time_machine.travel(MARCH_3, tick=False)
def test_creates_the_brands_and_spreads_campaigns_evenly_with_the_given_budgets():
    BrandFactory(name="Existing brand")
    before = set(Brand.objects.values_list("pk", flat=True))

    out = seed(brands=3, campaigns=10, spend_days=7, daily_budget="75", monthly_budget="1500", seed=1)

    brands = new_brands(before)
    assert len(brands) == 3
    assert sorted(brand.campaigns.count() for brand in brands) == [3, 3, 4]
    campaigns = Campaign.objects.filter(brand__in=brands)
    assert campaigns.count() == 10
    assert set(campaigns.values_list("daily_budget", "monthly_budget")) == {(Decimal("75.00"), Decimal("1500.00"))}
    # Brand budgets are set per brand by default (the first five kinds all have both).
    assert all(brand.daily_budget is not None and brand.monthly_budget is not None for brand in brands)
    assert Spend.objects.filter(campaign__in=campaigns).count() == 10 * 7
    # Every third campaign has three windows in its brand's zone, one of them overnight.
    parted = list(campaigns.filter(is_dayparting_enabled=True).order_by("pk"))
    assert [c.pk for c in parted] == [c.pk for c in campaigns.order_by("pk")][2::3]
    for campaign in parted:
        windows = list(campaign.dayparting_schedules.all())
        assert len(windows) == 3
        assert {w.timezone for w in windows} == {campaign.brand.timezone}
        assert sum(w.end_time <= w.start_time for w in windows) == 1
    assert not DaypartingSchedule.objects.filter(campaign__in=campaigns, campaign__is_dayparting_enabled=False)
    assert DaypartingSchedule.objects.filter(campaign__in=campaigns).count() == 9
    assert out.startswith("Created 3 brands, 10 campaigns, 70 spend rows, 9 dayparting windows (seed 1); ")


@pytest.mark.parametrize("brands, campaigns", [(4, 10), (7, 100), (5, 5), (1, 3)])
def test_campaigns_are_spread_evenly_over_the_brands(brands, campaigns):
    with time_machine.travel(MARCH_3, tick=False):
        seed(brands=brands, campaigns=campaigns, spend_days=0, seed=1, no_enforce=True)
    per_brand = [brand.campaigns.count() for brand in Brand.objects.all()]
    assert len(per_brand) == brands
    assert sum(per_brand) == campaigns
    assert max(per_brand) - min(per_brand) <= 1


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "UTC", "Asia/Kathmandu", "Asia/Tokyo"])
def test_spend_rows_are_the_days_ending_on_each_brands_today(tz):
    with time_machine.travel(MARCH_3, tick=False):
        seed(brands=2, campaigns=5, spend_days=7, timezones=tz, seed=3)
    brand_today = local_date(MARCH_3, tz)
    expected_days = [brand_today - datetime.timedelta(days=back) for back in range(6, -1, -1)]
    assert set(Brand.objects.values_list("timezone", flat=True)) == {tz}
    for campaign in Campaign.objects.all():
        assert list(campaign.spend_set.order_by("date").values_list("date", flat=True)) == expected_days
    if tz == "America/Los_Angeles":
        assert brand_today == datetime.date(2026, 3, 2)


@time_machine.travel(MARCH_3, tick=False)
def test_monthly_spend_is_the_month_to_date_total_across_month_boundaries():
    # 35 days ending on 2 March (Los Angeles) run from 27 January: two month boundaries.
    seed(brands=1, campaigns=4, spend_days=35, timezones="America/Los_Angeles", seed=5, no_enforce=True)
    for campaign in Campaign.objects.all():
        rows = list(campaign.spend_set.order_by("date"))
        assert rows[0].date == datetime.date(2026, 1, 27)
        assert rows[-1].date == datetime.date(2026, 3, 2)
        assert [row.monthly_spend for row in rows] == month_to_date_totals(rows)
        by_date = {row.date: row for row in rows}
        for first in (datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)):
            assert by_date[first].monthly_spend == by_date[first].daily_spend
        assert by_date[datetime.date(2026, 2, 28)].monthly_spend == sum(
            row.daily_spend for row in rows if row.date.month == 2
        )
        assert all(row.daily_spend == row.daily_spend.quantize(Decimal("0.01")) for row in rows)


@time_machine.travel(MARCH_3, tick=False)
def test_daily_spend_varies_around_the_daily_budget_some_days_over_it():
    # No monthly budget: one would pace the spend below the daily budget (next test).
    seed(brands=2, campaigns=40, spend_days=7, daily_budget="80", monthly_budget="none", seed=8, no_enforce=True)
    daily = list(Spend.objects.values_list("daily_spend", flat=True))
    assert len(set(daily)) > len(daily) // 2
    assert any(value >= Decimal("80") for value in daily)
    assert any(value < Decimal("80") for value in daily)
    # Plausible: within the pace and jitter ranges, never a wild outlier.
    assert all(Decimal("30") <= value <= Decimal("110") for value in daily)


@time_machine.travel(MARCH_3, tick=False)
def test_brand_budgets_and_no_budget_options():
    seed(
        brands=2,
        campaigns=4,
        daily_budget="none",
        monthly_budget="2000.5",
        brand_daily_budget="300",
        brand_monthly_budget="9000.25",
        seed=2,
        no_enforce=True,
    )
    assert set(Brand.objects.values_list("daily_budget", "monthly_budget")) == {(Decimal("300.00"), Decimal("9000.25"))}
    assert set(Campaign.objects.values_list("daily_budget", "monthly_budget")) == {(None, Decimal("2000.50"))}
    # Without a daily budget spend still varies around a plausible amount (30 days by default).
    assert Spend.objects.filter(daily_spend__gt=0).count() == 4 * 30


@time_machine.travel(MARCH_3, tick=False)
def test_fewer_campaigns_than_brands_and_zero_counts_are_allowed():
    seed(brands=3, campaigns=2, spend_days=0, seed=4)
    assert sorted(brand.campaigns.count() for brand in Brand.objects.all()) == [0, 1, 1]
    assert Spend.objects.count() == 0
    out = seed(brands=1, campaigns=0, seed=4)
    assert Brand.objects.count() == 4
    assert Campaign.objects.count() == 2
    assert out.startswith("Created 1 brands, 0 campaigns, 0 spend rows, 0 dayparting windows (seed 4)")


def test_brand_timezones_are_drawn_from_a_varied_list_of_real_zones():
    for name in demo_data.DEMO_TIMEZONES:
        validate_timezone_name(name)
    with time_machine.travel(MARCH_3, tick=False):
        seed(brands=30, campaigns=0, seed=6)
    drawn = set(Brand.objects.values_list("timezone", flat=True))
    assert drawn <= set(demo_data.DEMO_TIMEZONES)
    assert len(drawn) >= 5
    # Brands whose local date differs from UTC's at this instant.
    assert {local_date(MARCH_3, tz) for tz in drawn} == {datetime.date(2026, 3, 2), datetime.date(2026, 3, 3)}


@time_machine.travel(MARCH_3, tick=False)
def test_written_rows_pass_model_validation():
    seed(brands=3, campaigns=12, spend_days=10, seed=9)
    for model in (Brand, Campaign, Spend, DaypartingSchedule):
        for obj in model.objects.all():
            obj.full_clean()


# --- Enforcement -----------------------------------------------------------------------


@time_machine.travel(MARCH_3, tick=False)
def test_new_campaigns_get_the_status_the_rule_gives():
    out = seed(brands=6, campaigns=30, spend_days=7, daily_budget="75", monthly_budget="1500", seed=10, history_hours=0)
    expected = statuses_by_the_rule(MARCH_3)
    by_user = Campaign.objects.get(status=S.PAUSED_BY_USER)
    # The last campaign that the rule left active was then paused as a user.
    assert by_user.pk == max(pk for pk, state in expected.items() if state == (S.ACTIVE, ""))
    for campaign in Campaign.objects.exclude(pk=by_user.pk):
        assert (campaign.status, campaign.pause_reason) == expected[campaign.pk], campaign.name
    paused = Campaign.objects.filter(status=S.PAUSED_BY_SYSTEM)
    # The demo shows every reason, and active campaigns.
    assert set(paused.values_list("pause_reason", flat=True)) == ALL_REASONS
    assert Campaign.objects.filter(status=S.ACTIVE).exists()
    changes = CampaignStatusChange.objects.all()
    assert changes.filter(actor="system").count() == paused.count()
    assert changes.filter(actor="user").count() == 1
    assert set(changes.values_list("source", flat=True)) == {"command"}
    match = re.search(r"enforcement: (\d+) paused.*, 1 paused by a user, (\d+) active\.$", out.strip())
    assert match and (int(match[1]), int(match[2])) == (paused.count(), 30 - paused.count() - 1)


@pytest.mark.parametrize(
    "instant",
    [
        MARCH_3,
        # The last evening of January in UTC: already 1 February east of it.
        datetime.datetime(2026, 1, 31, 22, 0, tzinfo=UTC),
        datetime.datetime(2026, 11, 15, 12, 0, tzinfo=UTC),
        # The night Europe moves its clocks forward.
        datetime.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    ],
)
def test_the_default_demo_shows_every_pause_reason_a_user_pause_and_active_campaigns(instant):
    with time_machine.travel(instant, tick=False):
        out = seed(seed=instant.day)
    assert re.match(r"Created 8 brands, 120 campaigns, 3600 spend rows, ", out)
    states = Counter(Campaign.objects.values_list("status", "pause_reason"))
    assert {reason for status, reason in states if status == S.PAUSED_BY_SYSTEM} == ALL_REASONS
    assert states[(S.PAUSED_BY_USER, "")] == 1
    assert states[(S.ACTIVE, "")] >= 10
    # Brands show every state of their budgets: reached, near, with room, and none.
    kinds = brand_budget_states(instant)
    assert {"daily reached", "monthly reached", "daily near", "room", "no budgets"} <= kinds


@time_machine.travel(MARCH_3, tick=False)
def test_history_applies_the_rule_once_an_hour_over_the_last_day():
    seed(brands=6, campaigns=60, seed=11)
    changes = CampaignStatusChange.objects.all()
    day_ago = MARCH_3 - datetime.timedelta(hours=24)
    history = changes.filter(created_at__gte=day_ago, created_at__lt=MARCH_3)
    # Windows opening and closing, and local midnights, both pause and resume campaigns.
    assert history.filter(old_status=S.ACTIVE, new_status=S.PAUSED_BY_SYSTEM).exists()
    assert history.filter(old_status=S.PAUSED_BY_SYSTEM, new_status=S.ACTIVE).exists()
    # The runs are on the hour before now, starting one hour before the day shown.
    instants = set(changes.values_list("created_at", flat=True))
    assert min(instants) >= MARCH_3 - datetime.timedelta(hours=25)
    assert {(MARCH_3 - instant).total_seconds() % 3600 for instant in instants} == {0}
    # And the campaigns end as the rule has them now.
    expected = statuses_by_the_rule(MARCH_3)
    for campaign in Campaign.objects.exclude(status=S.PAUSED_BY_USER):
        assert (campaign.status, campaign.pause_reason) == expected[campaign.pk]


@time_machine.travel(MARCH_3, tick=False)
def test_history_covers_whole_brands_up_to_a_bound_and_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(demo_data, "HISTORY_MAX_CAMPAIGNS", 25)
    seed(brands=4, campaigns=40, seed=12)
    earlier = CampaignStatusChange.objects.filter(created_at__lt=MARCH_3)
    first_two_brands = list(Brand.objects.order_by("pk").values_list("pk", flat=True))[:2]
    assert earlier.exists()
    assert set(earlier.values_list("campaign__brand_id", flat=True)) <= set(first_two_brands)

    Brand.objects.all().delete()
    CampaignStatusChange.objects.all().delete()  # the audit trail outlives deletions
    out = seed(brands=4, campaigns=40, seed=12, history_hours=0)
    assert not CampaignStatusChange.objects.filter(created_at__lt=MARCH_3).exists()
    assert "history:" not in out


@time_machine.travel(MARCH_3, tick=False)
def test_every_other_dayparted_campaign_has_a_window_open_now():
    seed(brands=3, campaigns=60, seed=4, no_enforce=True)
    parted = Campaign.objects.filter(is_dayparting_enabled=True).order_by("pk").prefetch_related("dayparting_schedules")
    open_now = [any_window_contains(windows_of(campaign), MARCH_3) for campaign in parted]
    assert len(open_now) == 20
    assert all(open_now[1::2])
    assert not all(open_now[0::2])


@pytest.mark.parametrize("instant", [MARCH_3, datetime.datetime(2026, 1, 30, 20, 0, tzinfo=UTC)])
def test_automatic_brand_budgets_follow_each_brands_kind(instant):
    with time_machine.travel(instant, tick=False):
        seed(brands=6, campaigns=60, seed=6, no_enforce=True)
    daily, monthly = brand_spend_by_the_rule(instant)
    for brand, kind in zip(Brand.objects.order_by("pk"), demo_spend.BRAND_KIND_CYCLE, strict=True):
        if kind is demo_spend.BrandKind.UNBUDGETED:
            assert (brand.daily_budget, brand.monthly_budget) == (None, None)
            continue
        daily_used, monthly_used = daily[brand.pk] / brand.daily_budget, monthly[brand.pk] / brand.monthly_budget
        if kind is demo_spend.BrandKind.DAILY_REACHED:
            assert daily_used >= 1 > monthly_used
        elif kind is demo_spend.BrandKind.MONTHLY_REACHED:
            assert monthly_used >= 1 > daily_used
        elif kind is demo_spend.BrandKind.NEAR:
            assert Decimal("0.8") <= daily_used < 1
            assert monthly_used < 1
        else:
            assert daily_used <= Decimal("0.7") and monthly_used <= Decimal("0.7")
        # Budgets a person would set: whole dollars at least.
        assert brand.daily_budget == brand.daily_budget.to_integral_value()


def test_steady_campaigns_pace_their_spend_under_the_monthly_budget():
    # A month at 75 a day would pass 1500: spend is paced over the month instead.
    with time_machine.travel(datetime.datetime(2026, 1, 31, 12, tzinfo=UTC), tick=False):
        seed(brands=2, campaigns=40, spend_days=31, seed=13, timezones="UTC", no_enforce=True)
    month_to_date = Spend.objects.filter(date=datetime.date(2026, 1, 31)).values_list("monthly_spend", flat=True)
    reached = [value for value in month_to_date if value >= Decimal("1500")]
    # Only the campaigns meant to reach it (one in ten) do.
    assert len(reached) == 4


@time_machine.travel(MARCH_3, tick=False)
def test_names_are_made_up_but_plausible():
    seed(brands=8, campaigns=80, spend_days=0, seed=5, no_enforce=True)
    for brand in Brand.objects.all():
        assert re.fullmatch(r"[A-Z][A-Za-z&. ]+", brand.name), brand.name
        names = list(brand.campaigns.values_list("name", flat=True))
        assert len(set(names)) == len(names)
        market = demo_names.market_of(brand.timezone)
        for name in names:
            assert re.fullmatch(rf"[A-Z][A-Za-z ]+ · [A-Z][A-Za-z ]+ · {market}( \d+)?", name), name


def test_many_brands_still_get_unique_names():
    with time_machine.travel(MARCH_3, tick=False):
        seed(brands=2000, campaigns=0, seed=14)
        seed(brands=2000, campaigns=0, seed=14)
    assert Brand.objects.values("name").distinct().count() == 4000


@time_machine.travel(MARCH_3, tick=False)
def test_no_enforce_leaves_new_campaigns_active():
    out = seed(brands=2, campaigns=12, daily_budget="0", seed=10, no_enforce=True)
    assert set(Campaign.objects.values_list("status", "pause_reason")) == {(S.ACTIVE, "")}
    assert not CampaignStatusChange.objects.exists()
    assert out.strip().endswith("enforcement skipped.")


# --- Repeatable, and only ever adds ----------------------------------------------------


@time_machine.travel(MARCH_3, tick=False)
def test_the_same_seed_gives_the_same_data():
    seed(brands=3, campaigns=9, spend_days=5, seed=42, no_enforce=True)
    first = snapshot(new_brands(set()))
    Brand.objects.all().delete()

    seed(brands=3, campaigns=9, spend_days=5, seed=42, no_enforce=True)
    assert snapshot(new_brands(set())) == first
    Brand.objects.all().delete()

    seed(brands=3, campaigns=9, spend_days=5, seed=43, no_enforce=True)
    assert snapshot(new_brands(set())) != first


@time_machine.travel(MARCH_3, tick=False)
def test_running_again_adds_more_and_leaves_existing_rows_alone():
    seed(brands=2, campaigns=6, spend_days=7, seed=42)
    first_brands = new_brands(set())
    first = snapshot(first_brands)
    first_states = list(Campaign.objects.order_by("pk").values_list("pk", "status", "pause_reason"))
    first_changes = CampaignStatusChange.objects.count()

    seed(brands=2, campaigns=6, spend_days=7, seed=42)

    counts = row_counts()
    assert (counts["Brand"], counts["Campaign"], counts["Spend"], counts["DaypartingSchedule"]) == (4, 12, 84, 12)
    assert snapshot(first_brands) == first
    assert (
        list(
            Campaign.objects.filter(pk__in=[pk for pk, _, _ in first_states])
            .order_by("pk")
            .values_list("pk", "status", "pause_reason")
        )
        == first_states
    )
    assert CampaignStatusChange.objects.count() == 2 * first_changes
    # The same seed draws new names for the second set, and otherwise the same data.
    second_brands = new_brands({brand.pk for brand in first_brands})
    assert len({brand.name for brand in first_brands + second_brands}) == 4
    assert snapshot(second_brands, with_names=False) == snapshot(first_brands, with_names=False)


@time_machine.travel(MARCH_3, tick=False)
def test_brand_names_never_collide_with_existing_ones():
    seed(brands=5, campaigns=0, seed=7)
    names = list(Brand.objects.order_by("pk").values_list("name", flat=True))
    Brand.objects.all().delete()
    BrandFactory(name=names[0])
    BrandFactory(name=names[3])

    seed(brands=5, campaigns=0, seed=7)

    assert Brand.objects.count() == 7
    assert Brand.objects.values("name").distinct().count() == 7


@time_machine.travel(MARCH_3, tick=False)
def test_a_failure_midway_writes_nothing(monkeypatch):
    BrandFactory(name="Existing brand")
    before = row_counts()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_rows, "dayparting_windows", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        seed(brands=2, campaigns=10, seed=1)
    assert row_counts() == before


# --- Bad options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value",
    [
        ("brands", 0),
        ("brands", -2),
        ("brands", "two"),
        ("brands", "1.5"),
        ("campaigns", -1),
        ("campaigns", "ten"),
        ("spend_days", -1),
        ("spend_days", "7d"),
        ("spend_days", demo_data.MAX_SPEND_DAYS + 1),
        ("daily_budget", "-1"),
        ("daily_budget", "75.001"),
        ("daily_budget", "abc"),
        ("daily_budget", "NaN"),
        ("daily_budget", "Infinity"),
        ("daily_budget", "10000000000"),
        ("monthly_budget", "-0.01"),
        ("monthly_budget", "1500.999"),
        ("brand_daily_budget", "-5"),
        ("brand_monthly_budget", "0.001"),
        ("brand_monthly_budget", "automatic"),
        ("history_hours", "-1"),
        ("history_hours", demo_data.MAX_HISTORY_HOURS + 1),
        ("history_hours", "a day"),
        ("timezones", "Mars/Olympus_Mons"),
        ("timezones", "UTC,Europe/Nowhere"),
        ("timezones", " , "),
        ("seed", "-1"),
        ("seed", "lucky"),
    ],
)
def test_a_bad_option_is_refused_naming_it_and_writes_nothing(option, value):
    BrandFactory(name="Existing brand")
    before = row_counts()
    flag = "--" + option.replace("_", "-")

    with pytest.raises(CommandError) as refused:
        seed(**{"brands": 2, "campaigns": 4, option: value})

    message = str(refused.value)
    assert flag in message
    bad_part = str(value).split(",")[-1].strip() or str(value)
    assert bad_part in message
    assert row_counts() == before


def test_bad_options_from_the_command_line_are_refused_too():
    with pytest.raises(CommandError, match=r"--daily-budget .*'1\.234'"):
        seed("--brands=2", "--daily-budget=1.234")
    with pytest.raises(CommandError, match=r"--brands .*'0'"):
        seed("--brands=0")
    assert row_counts()["Brand"] == 0


# --- PostgreSQL: COPY path and query counts ------------------------------------------------


@pytest.mark.postgres
@time_machine.travel(MARCH_3, tick=False)
def test_copy_and_bulk_create_write_the_same_spend(monkeypatch):
    seed(brands=2, campaigns=8, spend_days=35, timezones="America/Los_Angeles,Asia/Tokyo", seed=12, no_enforce=True)
    copied = snapshot(new_brands(set()))
    Brand.objects.all().delete()

    monkeypatch.setattr(demo_rows, "copy_supported", lambda: False)
    seed(brands=2, campaigns=8, spend_days=35, timezones="America/Los_Angeles,Asia/Tokyo", seed=12, no_enforce=True)
    assert snapshot(new_brands(set())) == copied


@pytest.mark.postgres
@pytest.mark.parametrize("campaigns", [9, 600])
def test_query_count_does_not_grow_with_the_number_of_campaigns(campaigns, django_assert_max_num_queries):
    # Brand names, brands, campaigns, spend (COPY), windows, brand budgets, savepoints,
    # then the rule's fixed queries (one UPDATE per new state, so up to six), the user's
    # pause and the status count: 27-28 today, for 9 campaigns or 600. (The history is
    # bounded by HISTORY_MAX_CAMPAIGNS instead, and is off here.)
    with time_machine.travel(MARCH_3, tick=False), django_assert_max_num_queries(30):
        seed(brands=3, campaigns=campaigns, spend_days=7, seed=13, history_hours=0)
    assert Campaign.objects.count() == campaigns
    assert Spend.objects.count() == campaigns * 7
