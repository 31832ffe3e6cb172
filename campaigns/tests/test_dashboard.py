"""The dashboard's figures (campaigns/dashboard.py): each brand's own today, as the rule reads spend."""

import datetime
import random
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache

from brands.tests.factories import BrandFactory
from campaigns import dashboard as dashboard_module
from campaigns.dashboard import dashboard_figures
from campaigns.figures import campaigns_with_spend
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.models import Spend
from spend.tests.factories import SpendFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
S = Campaign.Status
R = Campaign.PauseReason
D = Decimal
# 08:00 UTC on 1 March 2026: 21:00 on 28 February in Pago Pago (UTC-11), 22:00 on
# 1 March in Kiritimati (UTC+14), 08:00 on 1 March in UTC. Three brands, two months.
MARCH_1 = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
FEB_28, MAR_1 = datetime.date(2026, 2, 28), datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def empty_cache():
    # The settled days of the spend chart are cached; each test starts without them.
    cache.clear()
    yield
    cache.clear()


def spend(campaign, day, daily, monthly):
    return SpendFactory(campaign=campaign, date=day, daily_spend=D(daily), monthly_spend=D(monthly))


def figures(now=MARCH_1, **kwargs):
    with time_machine.travel(now, tick=False):
        return dashboard_figures(now=now, **kwargs)


def brand_use(dashboard, brand, which="daily"):
    uses = dashboard.nearest_daily if which == "daily" else dashboard.nearest_monthly
    return next(use for use in uses if use.brand_id == brand.pk)


# --- Each brand's own today -------------------------------------------------------------


def test_today_and_this_month_are_each_brands_own_in_zones_far_from_utc():
    behind = BrandFactory(name="Behind", timezone="Pacific/Pago_Pago", daily_budget=D("100"), monthly_budget=D("3000"))
    ahead = BrandFactory(name="Ahead", timezone="Pacific/Kiritimati", daily_budget=D("100"), monthly_budget=D("3000"))
    behind_campaign = CampaignFactory(brand=behind)
    ahead_campaign = CampaignFactory(brand=ahead)
    # Pago Pago is still on 28 February: its today is that row, its month February.
    spend(behind_campaign, datetime.date(2026, 2, 27), "30.00", "2000.00")
    spend(behind_campaign, FEB_28, "40.00", "2040.00")
    # Kiritimati is on 1 March: 28 February is yesterday and last month.
    spend(ahead_campaign, FEB_28, "70.00", "2500.00")
    spend(ahead_campaign, MAR_1, "90.00", "90.00")

    dashboard = figures()

    behind_use, ahead_use = brand_use(dashboard, behind), brand_use(dashboard, ahead)
    assert (behind_use.today, ahead_use.today) == (FEB_28, MAR_1)
    assert (behind_use.daily.spend, behind_use.monthly.spend) == (D("40.00"), D("2040.00"))
    assert (ahead_use.daily.spend, ahead_use.monthly.spend) == (D("90.00"), D("90.00"))
    assert dashboard.today.spend == D("130.00")
    assert dashboard.month.spend == D("2130.00")
    assert dashboard.brand_todays == [(FEB_28, ["Pacific/Pago_Pago"]), (MAR_1, ["Pacific/Kiritimati"])]


def test_a_brands_today_moves_at_its_own_midnight():
    brand = BrandFactory(timezone="Pacific/Kiritimati", daily_budget=D("100"))
    campaign = CampaignFactory(brand=brand)
    spend(campaign, MAR_1, "60.00", "60.00")
    spend(campaign, datetime.date(2026, 3, 2), "5.00", "65.00")
    # 09:59 UTC is 23:59 on 1 March in Kiritimati; 10:00 UTC is its midnight.
    before = figures(datetime.datetime(2026, 3, 1, 9, 59, tzinfo=UTC))
    after = figures(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    assert brand_use(before, brand).daily.spend == D("60.00")
    assert brand_use(after, brand).daily.spend == D("5.00")
    assert brand_use(after, brand).monthly.spend == D("65.00")


def test_month_to_date_without_a_row_today_is_the_latest_row_of_the_month():
    brand = BrandFactory(timezone="UTC", monthly_budget=D("1000"))
    no_row_today = CampaignFactory(brand=brand)
    spend(no_row_today, datetime.date(2026, 3, 1), "10.00", "10.00")
    spend(no_row_today, datetime.date(2026, 3, 2), "20.00", "30.00")
    last_month_only = CampaignFactory(brand=brand)
    spend(last_month_only, datetime.date(2026, 2, 28), "50.00", "900.00")
    with_a_row_after_today = CampaignFactory(brand=brand)
    spend(with_a_row_after_today, datetime.date(2026, 3, 3), "7.00", "7.00")
    # After the brand's today (a brand moved west, or an ETL wrote to the table): ignored.
    spend(with_a_row_after_today, datetime.date(2026, 3, 4), "99.00", "106.00")

    dashboard = figures(datetime.datetime(2026, 3, 3, 12, tzinfo=UTC))

    use = brand_use(dashboard, brand, "monthly")
    # 30 (no row today: its latest this month) + 0 (last month) + 7 (the row after today ignored).
    assert use.monthly.spend == D("37.00")
    assert use.daily.spend == D("7.00")


@pytest.mark.parametrize("seed", range(4))
def test_brand_figures_equal_the_rules_reading_of_each_campaign(seed):
    rng = random.Random(seed)
    zones = ["Pacific/Pago_Pago", "America/Los_Angeles", "UTC", "Asia/Kathmandu", "Pacific/Kiritimati"]
    brands = [BrandFactory(timezone=zone, daily_budget=D("100"), monthly_budget=D("2000")) for zone in zones]
    days = [MAR_1 - datetime.timedelta(days=n) for n in range(-1, 5)]
    for _ in range(40):
        campaign = CampaignFactory(brand=rng.choice(brands))
        for day in sorted(rng.sample(days, rng.randint(0, len(days)))):
            amount = D(rng.randint(0, 9000)) / 100
            spend(campaign, day, amount, amount + D(rng.randint(0, 90000)) / 100)

    dashboard = figures()

    expected_daily, expected_monthly = Counter(), Counter()
    with time_machine.travel(MARCH_1, tick=False):
        for campaign in campaigns_with_spend(Campaign.objects.all(), now=MARCH_1):
            expected_daily[campaign.brand_id] += campaign.today_spend
            expected_monthly[campaign.brand_id] += campaign.month_to_date_spend
    for brand in brands:
        use = brand_use(dashboard, brand)
        assert (use.daily.spend, use.monthly.spend) == (expected_daily[brand.pk], expected_monthly[brand.pk])


def test_a_brand_with_an_unknown_timezone_counts_no_spend_and_breaks_nothing():
    good = BrandFactory(timezone="UTC", daily_budget=D("100"))
    spend(CampaignFactory(brand=good), MAR_1, "10.00", "10.00")
    broken = BrandFactory(daily_budget=D("100"))
    spend(CampaignFactory(brand=broken), MAR_1, "20.00", "20.00")
    spend(CampaignFactory(brand=broken), datetime.date(2026, 2, 20), "20.00", "20.00")
    # Written straight to the table: the model refuses the name.
    type(broken).objects.filter(pk=broken.pk).update(timezone="Mars/Olympus_Mons")

    dashboard = figures()

    assert brand_use(dashboard, broken).today is None
    assert brand_use(dashboard, broken).daily.spend == D("0")
    assert dashboard.today.spend == D("10.00")
    assert sum(day.spend for day in dashboard.spend_by_day) == D("10.00")


# --- Campaigns by status and reason ----------------------------------------------------------


def test_campaigns_by_status_and_by_reason_in_the_rules_order():
    for _ in range(3):
        CampaignFactory()
    CampaignFactory(status=S.PAUSED_BY_USER)
    for reason, count in ((R.DAILY_BUDGET, 2), (R.BRAND_MONTHLY_BUDGET, 1), (R.DAYPARTING, 4)):
        for _ in range(count):
            CampaignFactory(status=S.PAUSED_BY_SYSTEM, pause_reason=reason)

    dashboard = figures()

    assert dashboard.campaigns == 11
    assert [(item.key, item.count) for item in dashboard.by_status] == [
        ("ACTIVE", 3),
        ("PAUSED_BY_SYSTEM", 7),
        ("PAUSED_BY_USER", 1),
    ]
    assert [(item.key, item.count) for item in dashboard.by_reason] == [
        ("BRAND_MONTHLY_BUDGET", 1),
        ("MONTHLY_BUDGET", 0),
        ("BRAND_DAILY_BUDGET", 0),
        ("DAILY_BUDGET", 2),
        ("DAYPARTING", 4),
    ]


# --- Brands nearest their budgets, and the totals -------------------------------------------


def test_brands_nearest_their_budgets_reached_first_then_by_utilization():
    def brand_spending(name, today, daily_budget, monthly=None, monthly_budget=None):
        brand = BrandFactory(name=name, daily_budget=daily_budget, monthly_budget=monthly_budget)
        spend(CampaignFactory(brand=brand), MAR_1, today, monthly or today)
        return brand

    brand_spending("Half", "50.00", D("100"))
    brand_spending("Over", "120.00", D("100"))
    brand_spending("Zero budget", "0.00", D("0"))
    brand_spending("Near", "85.00", D("100"), monthly="85.00", monthly_budget=D("1000"))
    brand_spending("No budget", "500.00", None)

    dashboard = figures(nearest=3)

    assert [use.name for use in dashboard.nearest_daily] == ["Zero budget", "Over", "Near"]
    assert [use.daily.level for use in dashboard.nearest_daily] == ["reached", "reached", "near"]
    assert [use.name for use in dashboard.nearest_monthly] == ["Near"]
    assert dashboard.nearest_monthly[0].monthly.level == "ok"
    assert (dashboard.daily_reached, dashboard.monthly_reached) == (2, 0)
    # Every brand's spend, and against budget only the brands with a budget.
    assert dashboard.today.spend == D("755.00")
    assert (dashboard.today.budgeted.spend, dashboard.today.budgeted.budget) == (D("255.00"), D("300"))
    assert dashboard.today.unbudgeted_brands == 1
    assert dashboard.month.budgeted.fraction == D("0.085")
    assert dashboard.month.unbudgeted_brands == 4


def test_no_brands_no_spend_still_gives_every_figure():
    dashboard = figures()
    assert dashboard.campaigns == dashboard.brands == 0
    assert dashboard.today.spend == D("0")
    assert dashboard.today.budgeted.budget is None
    assert len(dashboard.spend_by_day) == 30
    assert dashboard.spend_by_day[-1].day == MAR_1
    assert len(dashboard.changes_by_hour) == 24


# --- Spend per day ---------------------------------------------------------------------------


def test_spend_per_day_counts_each_row_on_its_brands_date_and_not_after_its_today():
    behind = BrandFactory(timezone="Pacific/Pago_Pago")
    ahead = BrandFactory(timezone="Pacific/Kiritimati")
    behind_campaign, ahead_campaign = CampaignFactory(brand=behind), CampaignFactory(brand=ahead)
    spend(ahead_campaign, MAR_1, "11.00", "11.00")
    spend(ahead_campaign, FEB_28, "5.00", "500.00")
    spend(behind_campaign, FEB_28, "7.00", "700.00")
    # Dated 1 March, but Pago Pago is still on 28 February: ignored, as the rule does.
    spend(behind_campaign, MAR_1, "1000.00", "1000.00")
    # 30 days end on the latest brand's today (1 March) and start on 31 January.
    spend(behind_campaign, datetime.date(2026, 1, 31), "3.00", "3.00")
    spend(behind_campaign, datetime.date(2026, 1, 30), "2.00", "2.00")

    by_day = {day.day: day.spend for day in figures().spend_by_day}

    assert min(by_day) == datetime.date(2026, 1, 31) and max(by_day) == MAR_1
    assert by_day[MAR_1] == D("11.00")
    assert by_day[FEB_28] == D("12.00")
    assert by_day[datetime.date(2026, 1, 31)] == D("3.00")
    assert sum(by_day.values()) == D("26.00")


def test_days_before_every_brands_today_are_cached_and_later_days_read_fresh():
    brand = BrandFactory(timezone="UTC")
    campaign = CampaignFactory(brand=brand)
    older = spend(campaign, datetime.date(2026, 2, 20), "5.00", "5.00")
    yesterday = spend(campaign, FEB_28, "10.00", "10.00")
    today = spend(campaign, MAR_1, "20.00", "20.00")
    figures()

    Spend.objects.filter(pk=older.pk).update(daily_spend=D("6.00"), monthly_spend=D("6.00"))
    Spend.objects.filter(pk=yesterday.pk).update(daily_spend=D("15.00"), monthly_spend=D("15.00"))
    Spend.objects.filter(pk=today.pk).update(daily_spend=D("25.00"), monthly_spend=D("40.00"))
    by_day = {day.day: day.spend for day in figures().spend_by_day}
    assert (by_day[datetime.date(2026, 2, 20)], by_day[FEB_28], by_day[MAR_1]) == (D("5.00"), D("10.00"), D("25.00"))

    # A correction to the day before shows within 5 minutes, to an older day within an hour.
    later = MARCH_1 + datetime.timedelta(seconds=dashboard_module.SETTLED_SPEND_CACHE_SECONDS + 1)
    by_day = {day.day: day.spend for day in figures(later).spend_by_day}
    assert (by_day[datetime.date(2026, 2, 20)], by_day[FEB_28]) == (D("5.00"), D("15.00"))
    much_later = MARCH_1 + datetime.timedelta(seconds=dashboard_module.OLDER_SPEND_CACHE_SECONDS + 1)
    by_day = {day.day: day.spend for day in figures(much_later).spend_by_day}
    assert by_day[datetime.date(2026, 2, 20)] == D("6.00")


# --- Pauses and resumes per hour ---------------------------------------------------------------


def change(campaign, at, old, new, old_reason="", new_reason=""):
    return CampaignStatusChange.objects.create(
        campaign=campaign,
        created_at=at,
        old_status=old,
        new_status=new,
        old_reason=old_reason,
        new_reason=new_reason,
        actor="system",
        source="check_all_campaign_budgets",
    )


def test_pauses_and_resumes_per_utc_hour_over_the_last_day():
    campaign = CampaignFactory()
    now = datetime.datetime(2026, 3, 1, 8, 40, tzinfo=UTC)
    at = lambda hour, minute=0: datetime.datetime(2026, 3, 1, hour, minute, tzinfo=UTC)  # noqa: E731
    change(campaign, at(8, 5), S.ACTIVE, S.PAUSED_BY_SYSTEM, new_reason=R.DAILY_BUDGET)
    change(campaign, at(8, 30), S.ACTIVE, S.PAUSED_BY_USER)
    change(campaign, at(7, 59), S.PAUSED_BY_SYSTEM, S.ACTIVE, old_reason=R.DAYPARTING)
    change(campaign, at(7, 0), S.PAUSED_BY_USER, S.ACTIVE)
    # A reason that changes is neither a pause nor a resume.
    change(campaign, at(6, 10), S.PAUSED_BY_SYSTEM, S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET, R.BRAND_DAILY_BUDGET)
    # 09:00 yesterday is the first hour shown; 08:59 yesterday and anything after now are not.
    change(campaign, datetime.datetime(2026, 2, 28, 9, 0, tzinfo=UTC), S.ACTIVE, S.PAUSED_BY_USER)
    change(campaign, datetime.datetime(2026, 2, 28, 8, 59, tzinfo=UTC), S.ACTIVE, S.PAUSED_BY_USER)
    change(campaign, at(8, 41), S.ACTIVE, S.PAUSED_BY_USER)

    hours = figures(now).changes_by_hour

    assert len(hours) == 24
    assert hours[0].start == datetime.datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert hours[-1].start == at(8)
    by_hour = {hour.start: (hour.pauses, hour.resumes) for hour in hours}
    assert by_hour[at(8)] == (2, 0)
    assert by_hour[at(7)] == (0, 2)
    assert by_hour[at(6)] == (0, 0)
    assert by_hour[hours[0].start] == (1, 0)
    assert sum(pauses for pauses, _ in by_hour.values()) == 3
