import datetime

import factory

from campaigns.tests.factories import CampaignFactory
from dayparting.models import DaypartingSchedule


class DaypartingScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DaypartingSchedule

    campaign = factory.SubFactory(CampaignFactory, is_dayparting_enabled=True)
    day_of_week = 0
    start_time = datetime.time(9, 0)
    end_time = datetime.time(17, 0)
    timezone = "UTC"
