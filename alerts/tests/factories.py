import factory

from alerts.models import AlertThreshold, BrandAlertSettings
from brands.tests.factories import BrandFactory


class BrandAlertSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrandAlertSettings
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    email_recipients = "ops@example.com"
    webhook_url = ""
    status_change_webhook_url = ""
    webhook_secret = factory.Sequence(lambda n: f"test-secret-{n}")

    @factory.post_generation
    def thresholds(self, create, percents, **kwargs):
        """BrandAlertSettingsFactory(thresholds=[25, 90]); the defaults 50/80/100 otherwise."""
        if create:
            for percent in percents if percents is not None else (50, 80, 100):
                AlertThreshold.objects.create(settings=self, percent=percent)
