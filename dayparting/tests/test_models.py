"""Dayparting schedule invariants."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from campaigns.tests.factories import CampaignFactory
from dayparting.models import DaypartingSchedule
from dayparting.tests.factories import DaypartingScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.mark.parametrize("day", [-1, 7, 12])
def test_day_of_week_outside_0_to_6_is_refused_by_the_database(day):
    campaign = CampaignFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DaypartingSchedule.objects.bulk_create(
            [DaypartingSchedule(campaign=campaign, day_of_week=day, start_time="09:00", end_time="17:00")]
        )
    window = DaypartingScheduleFactory(campaign=campaign)
    with pytest.raises(IntegrityError), transaction.atomic():
        DaypartingSchedule.objects.filter(pk=window.pk).update(day_of_week=day)


def test_bad_day_and_timezone_get_messages_naming_the_value():
    window = DaypartingSchedule(
        campaign=CampaignFactory(),
        day_of_week=7,
        start_time=datetime.time(22),
        end_time=datetime.time(2),
        timezone="Europe/Atlantis",
    )
    with pytest.raises(ValidationError) as caught:
        window.full_clean()
    errors = caught.value.message_dict
    assert "'Europe/Atlantis'" in errors["timezone"][0]
    assert "7" in errors["day_of_week"][0]


def test_overnight_and_whole_day_windows_are_valid():
    campaign = CampaignFactory()
    for start, end in [(22, 2), (0, 0), (9, 17)]:
        DaypartingSchedule(
            campaign=campaign, day_of_week=4, start_time=datetime.time(start), end_time=datetime.time(end)
        ).full_clean()
    assert campaign.dayparting_schedules.count() == 0
