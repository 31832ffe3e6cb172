import factory

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign


class CampaignFactory(factory.django.DjangoModelFactory):
    """A campaign row exactly as given: written without the post_save signal, so the rule
    is not applied on creation (tests set up the state they then enforce)."""

    class Meta:
        model = Campaign

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        campaign = model_class(*args, **kwargs)
        model_class.objects.bulk_create([campaign])
        return campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    daily_budget = None
    monthly_budget = None
    status = Campaign.Status.ACTIVE
    pause_reason = Campaign.PauseReason.NONE
    is_dayparting_enabled = False
