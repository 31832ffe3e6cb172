"""Daily and monthly pauses end at local midnight in the brand's timezone, on the minute."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tasks import check_all_campaign_budgets, reactivate_daily_campaigns, reactivate_monthly_campaigns
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
ONE_MINUTE = datetime.timedelta(minutes=1)
# Offsets that are not whole hours, and far from UTC on both sides.
ZONES = ["America/Los_Angeles", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Kiritimati"]


def local_midnight_utc(day: datetime.date, tz: str) -> datetime.datetime:
    """The instant a local day starts, in UTC (built from the wall clock, not by adding a day)."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=ZoneInfo(tz)).astimezone(datetime.UTC)


@pytest.mark.parametrize("tz", ZONES)
def test_daily_pause_ends_at_local_midnight(tz):
    spend_day = datetime.date(2026, 11, 24)
    midnight = local_midnight_utc(datetime.date(2026, 11, 25), tz)
    # Beat runs the reactivation at :00 :15 :30 :45 UTC: midnight falls on one of them.
    assert midnight.minute in (0, 15, 30, 45) and midnight.second == 0

    campaign = CampaignFactory(brand=BrandFactory(timezone=tz), daily_budget=money(100))
    add_spend(campaign, spend_day, 100, 700)
    with time_machine.travel(midnight - datetime.timedelta(hours=3), tick=False):
        check_all_campaign_budgets()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)

    with time_machine.travel(midnight - ONE_MINUTE, tick=False):
        reactivate_daily_campaigns()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)

    with time_machine.travel(midnight, tick=False):
        summary = reactivate_daily_campaigns()
    assert state(campaign) == (S.ACTIVE, "")
    assert summary == {"examined": 1, "activated": 1, "paused": 0, "reason_changed": 0}
    change = CampaignStatusChange.objects.filter(campaign=campaign).latest()
    assert change.source == "reactivate_daily_campaigns"
    assert change.details["local_date"] == "2026-11-25"
    assert change.details["timezone"] == tz


@pytest.mark.parametrize("tz", ZONES)
def test_brand_daily_pause_ends_at_local_midnight(tz):
    brand = BrandFactory(timezone=tz, daily_budget=money(100))
    campaign = CampaignFactory(brand=brand)
    sibling = CampaignFactory(brand=brand)
    add_spend(campaign, datetime.date(2026, 11, 24), 60)
    add_spend(sibling, datetime.date(2026, 11, 24), 40)
    midnight = local_midnight_utc(datetime.date(2026, 11, 25), tz)
    with time_machine.travel(midnight - ONE_MINUTE, tick=False):
        check_all_campaign_budgets()
        reactivate_daily_campaigns()
    assert state(campaign) == state(sibling) == (S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)
    with time_machine.travel(midnight, tick=False):
        reactivate_daily_campaigns()
    assert state(campaign) == state(sibling) == (S.ACTIVE, "")


@pytest.mark.parametrize("tz", ZONES)
def test_monthly_pause_ends_at_local_month_start(tz):
    campaign = CampaignFactory(brand=BrandFactory(timezone=tz), monthly_budget=money(1500))
    add_spend(campaign, datetime.date(2026, 11, 30), 80, 1500)
    first_of_month = local_midnight_utc(datetime.date(2026, 12, 1), tz)
    with time_machine.travel(first_of_month - ONE_MINUTE, tick=False):
        check_all_campaign_budgets()
        reactivate_monthly_campaigns()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)
    with time_machine.travel(first_of_month, tick=False):
        reactivate_monthly_campaigns()
    assert state(campaign) == (S.ACTIVE, "")


@pytest.mark.parametrize("tz", ZONES)
def test_daily_rollover_does_not_lift_a_monthly_pause(tz):
    campaign = CampaignFactory(brand=BrandFactory(timezone=tz), daily_budget=money(100), monthly_budget=money(1000))
    add_spend(campaign, datetime.date(2026, 11, 24), 100, 1000)
    midnight = local_midnight_utc(datetime.date(2026, 11, 25), tz)
    with time_machine.travel(midnight - ONE_MINUTE, tick=False):
        check_all_campaign_budgets()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)
    with time_machine.travel(midnight, tick=False):
        reactivate_daily_campaigns()
        reactivate_monthly_campaigns()
        check_all_campaign_budgets()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)


def test_same_instant_is_a_different_day_per_brand_timezone():
    # 2026-11-24 11:00 UTC: already the 25th in Kiritimati (+14), still the 24th in Los Angeles.
    spend_day = datetime.date(2026, 11, 24)
    kiritimati = CampaignFactory(brand=BrandFactory(timezone="Pacific/Kiritimati"), daily_budget=money(10))
    los_angeles = CampaignFactory(brand=BrandFactory(timezone="America/Los_Angeles"), daily_budget=money(10))
    add_spend(kiritimati, spend_day, 50)
    add_spend(los_angeles, spend_day, 50)
    with time_machine.travel(datetime.datetime(2026, 11, 24, 11, 0, tzinfo=datetime.UTC), tick=False):
        check_all_campaign_budgets()
    assert state(kiritimati) == (S.ACTIVE, "")
    assert state(los_angeles) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
