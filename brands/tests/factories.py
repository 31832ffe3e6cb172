from decimal import Decimal

import factory

from brands.models import Brand


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    daily_budget = None
    monthly_budget = None
    timezone = "UTC"

    class Params:
        with_budgets = factory.Trait(daily_budget=Decimal("1000.00"), monthly_budget=Decimal("20000.00"))
