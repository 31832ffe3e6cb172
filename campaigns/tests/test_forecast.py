"""Pacing forecast: linear pace over the local day and month, in zones far from UTC."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from brands.tests.factories import BrandFactory
from campaigns.figures import campaigns_with_spend
from campaigns.forecast import (
    brands_forecast,
    campaign_forecast,
    campaigns_forecast,
    local_day_bounds,
    spend_forecast,
)
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14
PAGO_PAGO = "Pacific/Pago_Pago"  # UTC-11


def local(zone: str, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def forecast(now, *, today="0", month="0", daily=None, monthly=None, zone=KIRITIMATI):
    money = lambda v: None if v is None else Decimal(v)  # noqa: E731
    return spend_forecast(
        today_spend=Decimal(today),
        month_to_date_spend=Decimal(month),
        daily_budget=money(daily),
        monthly_budget=money(monthly),
        zone_name=zone,
        now=now.astimezone(dt.UTC),
    )


def test_at_a_quarter_of_the_local_day_the_projection_is_four_times_the_spend():
    result = forecast(local(KIRITIMATI, 2026, 11, 24, 6, 0), today="25.00", daily="150.00").daily
    assert result.projected_spend == Decimal("100.00")
    assert (result.budget_reached, result.budget_reached_at) == (False, None)  # 100 < 150: not today
    assert result.ends_at == local(KIRITIMATI, 2026, 11, 25, 0, 0)


def test_the_budget_is_reached_at_the_local_time_the_pace_gets_there():
    result = forecast(local(KIRITIMATI, 2026, 11, 24, 6, 0), today="25.00", daily="50.00").daily
    assert result.budget_reached_at == local(KIRITIMATI, 2026, 11, 24, 12, 0)
    assert result.budget_reached_at.utcoffset() == dt.timedelta(hours=14)


def test_in_the_first_minutes_of_a_local_day_a_little_spend_projects_a_lot():
    # 00:05 in Kiritimati is 10:05 UTC the day before.
    now = local(KIRITIMATI, 2026, 11, 24, 0, 5)
    assert now.astimezone(dt.UTC).date() == dt.date(2026, 11, 23)
    result = forecast(now, today="1.00", daily="100.00").daily
    assert result.projected_spend == Decimal("288.00")  # 1.00 in 5 minutes, 288 x 5 minutes a day
    assert result.budget_reached_at == local(KIRITIMATI, 2026, 11, 24, 8, 20)


def test_at_the_instant_a_day_begins_there_is_no_pace_yet():
    now = local(PAGO_PAGO, 2026, 11, 24, 0, 0)
    assert forecast(now, today="0", zone=PAGO_PAGO).daily.projected_spend == Decimal("0")
    assert forecast(now, today="3.00", zone=PAGO_PAGO).daily.projected_spend is None


def test_in_the_last_minute_of_a_local_month_the_projection_is_the_spend_so_far():
    # 23:59 on 30 November in Pago Pago is already 1 December in UTC.
    now = local(PAGO_PAGO, 2026, 11, 30, 23, 59)
    assert now.astimezone(dt.UTC).date() == dt.date(2026, 12, 1)
    result = forecast(now, month="43199.00", monthly="50000.00", zone=PAGO_PAGO).monthly
    assert result.projected_spend == Decimal("43200.00")  # 1.00 a minute, 43,199 of 43,200 minutes gone
    assert (result.budget_reached, result.budget_reached_at) == (False, None)
    assert result.ends_at == local(PAGO_PAGO, 2026, 12, 1, 0, 0)
    nearly = forecast(now, month="43199.00", monthly="43199.50", zone=PAGO_PAGO).monthly
    assert nearly.budget_reached_at == local(PAGO_PAGO, 2026, 11, 30, 23, 59, 30)


def test_a_reached_budget_says_so_and_no_budget_means_no_time():
    result = forecast(local(KIRITIMATI, 2026, 11, 24, 12, 0), today="80.00", daily="80.00", month="80.00")
    assert (result.daily.budget_reached, result.daily.budget_reached_at) == (True, None)
    assert (result.monthly.budget_reached, result.monthly.budget_reached_at) == (False, None)
    assert result.daily.projected_spend == Decimal("160.00")


def test_a_daylight_saving_day_is_paced_over_its_real_length():
    # 8 March 2026 in New York has 23 hours: at 12:00 EDT, 11 of them have passed.
    start, end = local_day_bounds(dt.date(2026, 3, 8), "America/New_York")
    assert end - start == dt.timedelta(hours=23)
    result = forecast(local("America/New_York", 2026, 3, 8, 12, 0), today="11.00", zone="America/New_York").daily
    assert result.projected_spend == Decimal("23.00")


@pytest.mark.django_db
def test_a_page_of_campaigns_gets_campaign_and_brand_forecasts_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    now = local(KIRITIMATI, 2026, 11, 24, 12, 0).astimezone(dt.UTC)
    for size in (10, 1000):
        brand = BrandFactory(timezone=KIRITIMATI, daily_budget=Decimal(size * 9))
        campaigns = Campaign.objects.bulk_create(
            Campaign(brand=brand, name=f"c{i}", daily_budget=Decimal("20.00")) for i in range(size)
        )
        for campaign in campaigns:
            add_spend(campaign, dt.date(2026, 11, 24), 5, 50)
        page = list(campaigns_with_spend(Campaign.objects.filter(brand=brand).select_related("brand"), now=now))
        with django_assert_max_num_queries(2):
            forecasts = campaigns_forecast(campaigns=page, now=now)
        assert len(forecasts) == size
        one = forecasts[campaigns[0].pk]
        assert one.campaign.daily.projected_spend == Decimal("10.00")
        assert one.campaign.daily.budget_reached_at is None
        assert one.brand.daily.spend == Decimal(size * 5)
        assert one.brand.daily.projected_spend == Decimal(size * 10)
        # Half the day gone, 5/9 of the budget spent: 9/5 x 12 h = 21:36.
        assert one.brand.daily.budget_reached_at == local(KIRITIMATI, 2026, 11, 24, 21, 36)

    brands = list(type(brand).objects.all())
    with django_assert_max_num_queries(2):
        assert len(brands_forecast(brands=brands, now=now)) == 2
    with django_assert_max_num_queries(4):
        single = campaign_forecast(campaign_id=campaigns[0].pk, now=now)
    assert single == one


@pytest.mark.django_db
def test_the_campaigns_api_returns_the_forecast_in_the_brands_timezone():
    brand = BrandFactory(timezone=KIRITIMATI, monthly_budget=Decimal("3000.00"))
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("50.00"))
    add_spend(campaign, dt.date(2026, 11, 24), 25, 1000)
    user = type(brand)._meta.apps.get_model("auth", "User").objects.create_user("reader")
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    with time_machine.travel(local(KIRITIMATI, 2026, 11, 24, 6, 0), tick=False):
        assert timezone.now().hour == 16  # 16:00 UTC on the 23rd
        row = client.get("/api/v1/campaigns/").json()["results"][0]

    assert row["forecast"]["daily"] == {
        "spend": "25.00",
        "budget": "50.00",
        "projected_spend": "100.00",
        "budget_reached": False,
        "budget_reached_at": "2026-11-24T12:00:00+14:00",
        "ends_at": "2026-11-25T00:00:00+14:00",
    }
    # 1000 in 23.25 of 30 days: 1290.32 by the end of the month, under the brand's 3000.
    assert row["forecast"]["brand_monthly"] | {"ends_at": None} == {
        "spend": "1000.00",
        "budget": "3000.00",
        "projected_spend": "1290.32",
        "budget_reached": False,
        "budget_reached_at": None,
        "ends_at": None,
    }
    assert row["forecast"]["monthly"]["budget"] is None
    assert row["forecast"]["brand_daily"]["budget"] is None


@pytest.mark.django_db
def test_the_campaign_and_brand_lists_show_the_pace_and_when_the_budget_is_reached(staff_client):
    from django.urls import reverse

    from campaigns.tests.factories import CampaignFactory
    from campaigns.tests.helpers import add_spend

    brand = BrandFactory(timezone="Asia/Tokyo", daily_budget=Decimal("400.00"))
    campaign = CampaignFactory(brand=brand, name="Paced", daily_budget=Decimal("150.00"))
    # 12:00 in Tokyo: 60.00 spent in half a day is 120.00 by midnight; the brand's 300.00
    # pace crosses its 400.00 budget never, the campaign's own 150.00 never either.
    with time_machine.travel(dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC), tick=False):
        add_spend(campaign, dt.date(2026, 11, 24), "60.00")
        listing = staff_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
        brands = staff_client.get(reverse("admin:brands_brand_changelist")).content.decode()
        page = staff_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "≈ $120.00 by midnight" in listing
    assert "≈ $120.00 by midnight" in brands
    assert "campaign: ≈ $120.00 by midnight" in page

    with time_machine.travel(dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC), tick=False):
        add_spend(CampaignFactory(brand=brand), dt.date(2026, 11, 24), "120.00")
        brands = staff_client.get(reverse("admin:brands_brand_changelist")).content.decode()
    # 180.00 by noon: 360.00 by midnight, still under the brand's 400.00.
    assert "≈ $360.00 by midnight" in brands
