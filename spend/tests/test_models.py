"""Spend invariants: database constraints, and validation messages naming field and value."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from brands.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from spend.models import Spend
from spend.tests.factories import SpendFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DAY = datetime.date(2026, 11, 24)


def refused(constraint: str):
    return pytest.raises(IntegrityError, match=constraint)


def test_one_row_per_campaign_and_date():
    row = SpendFactory(date=DAY)
    with refused("spend_unique_campaign_date"), transaction.atomic():
        Spend.objects.bulk_create([Spend(campaign=row.campaign, date=DAY, daily_spend=1, monthly_spend=1)])


def test_negative_daily_spend_is_refused():
    campaign = CampaignFactory()
    with refused("spend_daily_non_negative"), transaction.atomic():
        Spend.objects.bulk_create([Spend(campaign=campaign, date=DAY, daily_spend=-1, monthly_spend=0)])


def test_month_to_date_below_the_day_is_refused():
    row = SpendFactory(date=DAY, daily_spend=Decimal("10"), monthly_spend=Decimal("10"))
    with refused("spend_monthly_at_least_daily"), transaction.atomic():
        Spend.objects.filter(pk=row.pk).update(monthly_spend=Decimal("9.99"))
    with refused("spend_monthly_at_least_daily"), transaction.atomic():
        Spend.objects.bulk_create(
            [Spend(campaign=row.campaign, date=DAY - datetime.timedelta(days=1), daily_spend=5, monthly_spend=4)]
        )


def test_validation_names_each_bad_field_and_value():
    campaign = CampaignFactory(brand=BrandFactory(timezone="Pacific/Kiritimati"))
    # 2026-11-24 20:00 UTC is already the 25th in Kiritimati (+14) but not the 26th.
    with time_machine.travel(datetime.datetime(2026, 11, 24, 20, 0, tzinfo=datetime.UTC), tick=False):
        Spend(campaign=campaign, date=datetime.date(2026, 11, 25), daily_spend=1, monthly_spend=1).full_clean()
        row = Spend(
            campaign=campaign,
            date=datetime.date(2026, 11, 26),
            daily_spend=Decimal("10.005"),
            monthly_spend=Decimal("5"),
        )
        with pytest.raises(ValidationError) as caught:
            row.full_clean()
    errors = caught.value.message_dict
    assert "2026-11-26" in errors["date"][0] and "Pacific/Kiritimati" in errors["date"][0]
    assert "2 decimal places" in errors["daily_spend"][0]

    row = Spend(campaign=campaign, date=datetime.date(2026, 11, 1), daily_spend=10, monthly_spend=Decimal("9.50"))
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert caught.value.message_dict["monthly_spend"] == ["monthly_spend 9.50 is less than daily_spend 10."]
