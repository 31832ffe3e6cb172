"""The dayparting task pauses outside the windows and resumes inside them."""

import datetime

import pytest
import time_machine

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import state
from dayparting.tests.factories import DaypartingScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
FRI, SUN = 4, 6
UTC = datetime.UTC


def sweep_at(instant: datetime.datetime) -> dict:
    with time_machine.travel(instant, tick=False):
        return enforce_dayparting_for_all_campaigns()


def window(campaign, day, start, end, tz="UTC"):
    return DaypartingScheduleFactory(
        campaign=campaign, day_of_week=day, start_time=datetime.time(*start), end_time=datetime.time(*end), timezone=tz
    )


def test_overnight_window_across_the_weekday_change():
    campaign = CampaignFactory(is_dayparting_enabled=True)
    window(campaign, FRI, (22, 0), (2, 0))
    sweep_at(datetime.datetime(2026, 11, 27, 21, 59, tzinfo=UTC))  # Friday 21:59
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    sweep_at(datetime.datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    assert state(campaign) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 11, 28, 1, 59, tzinfo=UTC))  # Saturday 01:59
    assert state(campaign) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)


def test_whole_day_window_and_several_windows_a_day():
    whole_day = CampaignFactory(is_dayparting_enabled=True)
    window(whole_day, 1, (0, 0), (0, 0))  # all of Tuesday
    split = CampaignFactory(is_dayparting_enabled=True)
    window(split, 1, (8, 0), (10, 0))
    window(split, 1, (9, 30), (12, 0))
    window(split, 1, (18, 0), (20, 0))
    sweep_at(datetime.datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    assert state(whole_day) == (S.ACTIVE, "")
    assert state(split) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    sweep_at(datetime.datetime(2026, 11, 24, 11, 0, tzinfo=UTC))
    assert state(split) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    assert state(split) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    sweep_at(datetime.datetime(2026, 11, 24, 23, 59, tzinfo=UTC))
    assert state(whole_day) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 11, 25, 0, 0, tzinfo=UTC))  # Wednesday
    assert state(whole_day) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)


def test_window_timezone_differs_from_the_brands():
    campaign = CampaignFactory(brand=BrandFactory(timezone="America/Los_Angeles"), is_dayparting_enabled=True)
    window(campaign, 1, (9, 0), (17, 0), tz="Asia/Tokyo")  # Tuesday 09:00-17:00 in Tokyo
    # Tuesday 00:30 UTC = Tuesday 09:30 Tokyo (and still Monday in Los Angeles).
    sweep_at(datetime.datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    assert state(campaign) == (S.ACTIVE, "")
    # Tuesday 09:30 UTC = 18:30 Tokyo (and Tuesday 01:30 in Los Angeles).
    sweep_at(datetime.datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)


def test_new_york_spring_forward_sunday():
    campaign = CampaignFactory(is_dayparting_enabled=True)
    window(campaign, SUN, (3, 0), (5, 0), tz="America/New_York")
    sweep_at(datetime.datetime(2026, 3, 8, 6, 59, tzinfo=UTC))  # 01:59 EST
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    sweep_at(datetime.datetime(2026, 3, 8, 7, 0, tzinfo=UTC))  # 03:00 EDT, the minute after
    assert state(campaign) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 3, 8, 9, 0, tzinfo=UTC))  # 05:00 EDT
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)


def test_new_york_fall_back_sunday():
    campaign = CampaignFactory(is_dayparting_enabled=True)
    window(campaign, SUN, (1, 0), (2, 0), tz="America/New_York")
    sweep_at(datetime.datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT
    assert state(campaign) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 EST, the hour again
    assert state(campaign) == (S.ACTIVE, "")
    sweep_at(datetime.datetime(2026, 11, 1, 7, 0, tzinfo=UTC))  # 02:00 EST
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)


def test_enabled_with_no_windows_pauses_and_turning_it_off_resumes():
    campaign = CampaignFactory(is_dayparting_enabled=True)
    instant = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    sweep_at(instant)
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    Campaign.objects.filter(pk=campaign.pk).update(is_dayparting_enabled=False)
    summary = sweep_at(instant)
    assert state(campaign) == (S.ACTIVE, "")
    assert summary["activated"] == 1


def test_dayparting_windows_do_not_matter_when_disabled():
    campaign = CampaignFactory(is_dayparting_enabled=False)
    window(campaign, 0, (9, 0), (10, 0))
    with time_machine.travel(datetime.datetime(2026, 11, 24, 12, 0, tzinfo=UTC), tick=False):
        check_all_campaign_budgets()
        enforce_dayparting_for_all_campaigns()
    assert state(campaign) == (S.ACTIVE, "")
