import datetime
from decimal import Decimal

import factory

from campaigns.tests.factories import CampaignFactory
from spend.models import Spend


class SpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Spend

    campaign = factory.SubFactory(CampaignFactory)
    date = factory.LazyFunction(lambda: datetime.date(2026, 11, 24))
    daily_spend = Decimal("10.00")
    monthly_spend = factory.LazyAttribute(lambda o: o.daily_spend)
