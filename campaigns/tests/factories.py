import factory

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    daily_budget = None
    monthly_budget = None
    status = Campaign.Status.ACTIVE
    pause_reason = Campaign.PauseReason.NONE
    is_dayparting_enabled = False
