"""Alerts stay once per threshold and period under racing runs, and re-arm at local midnight."""

import datetime
import threading
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alerts.models import BudgetAlert, Delivery
from alerts.tests.factories import BrandAlertSettingsFactory
from alerts.tests.helpers import report_spend
from brands.tests.factories import BrandFactory
from campaigns.tasks import check_all_campaign_budgets
from campaigns.tests.factories import CampaignFactory


@pytest.fixture
def etl_client(django_user_model):
    user = django_user_model.objects.create_user("etl")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend"]))
    return Token.objects.create(user=user).key


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_and_spend_posts_alert_each_threshold_once(
    eager_tasks, mailoutbox, webhook_server, etl_client, settings
):
    settings.API_THROTTLE_SPEND_RATE = "100000/minute"
    brand = BrandFactory(daily_budget=Decimal("400.00"))
    alert_settings = BrandAlertSettingsFactory(brand=brand, webhook_url=f"{webhook_server.url}/alerts")
    campaigns = [CampaignFactory(brand=brand, daily_budget=Decimal("100.00")) for _ in range(5)]
    today = timezone.now().date()  # the brand is on UTC; threads share no frozen clock
    start = threading.Barrier(len(campaigns) + 2)
    errors = []

    def post_spend(campaign):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {etl_client}")
        try:
            start.wait()
            for spend in ("30.00", "55.00", "85.00", "100.00"):
                item = {"campaign": campaign.pk, "date": str(today), "daily_spend": spend, "monthly_spend": spend}
                response = client.post("/api/v1/spend/", [item], format="json")
                if response.status_code != 200:
                    errors.append(response.content)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def sweep():
        try:
            start.wait()
            for _ in range(4):
                check_all_campaign_budgets()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post_spend, args=(c,)) for c in campaigns]
    threads += [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    check_all_campaign_budgets()  # whatever the interleaving, a final sweep sees the final spend

    per_campaign = Counter(BudgetAlert.objects.filter(scope="campaign").values_list("campaign_id", "threshold_percent"))
    assert per_campaign == Counter({(c.pk, t): 1 for c in campaigns for t in (50, 80, 100)})
    brand_thresholds = BudgetAlert.objects.filter(scope="brand").values_list("threshold_percent", flat=True)
    assert sorted(brand_thresholds) == [50, 80, 100]
    alert_count = BudgetAlert.objects.count()
    assert alert_count == 18
    assert len(mailoutbox) == alert_count
    received = [request.json["alert"]["id"] for request in webhook_server.received("/alerts")]
    assert sorted(received) == sorted(BudgetAlert.objects.values_list("id", flat=True))
    assert all(request.signed_with(alert_settings.webhook_secret) for request in webhook_server.received())
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "last_minute_of_november", "first_minute_of_december"),
    [
        # UTC+14: the local month turns while it is still the 30th at 10:00 in UTC.
        ("Pacific/Kiritimati", datetime.datetime(2026, 11, 30, 9, 59), datetime.datetime(2026, 11, 30, 10, 0)),
        # UTC-11: it turns when UTC already reads 11:00 on the 1st.
        ("Pacific/Pago_Pago", datetime.datetime(2026, 12, 1, 10, 59), datetime.datetime(2026, 12, 1, 11, 0)),
    ],
)
def test_a_new_local_day_and_month_re_arm_the_thresholds(
    eager_tasks, zone, last_minute_of_november, first_minute_of_december
):
    brand = BrandFactory(timezone=zone, daily_budget=Decimal("100.00"), monthly_budget=Decimal("1000.00"))
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("10.00"), monthly_budget=Decimal("100.00"))
    november_30, december_1 = datetime.date(2026, 11, 30), datetime.date(2026, 12, 1)
    before = last_minute_of_november.replace(tzinfo=datetime.UTC)
    after = first_minute_of_december.replace(tzinfo=datetime.UTC)

    with time_machine.travel(before, tick=False):
        report_spend(campaign, november_30, 6, 60)
        check_all_campaign_budgets()
        check_all_campaign_budgets()
    with time_machine.travel(after, tick=False):
        check_all_campaign_budgets()  # November's spend no longer counts: nothing new
        assert BudgetAlert.objects.filter(period_start=december_1).count() == 0
        report_spend(campaign, december_1, 6, 6)
        check_all_campaign_budgets()
        report_spend(campaign, december_1, 9, 55)
        check_all_campaign_budgets()

    rows = Counter(BudgetAlert.objects.values_list("scope", "period", "period_start", "threshold_percent"))
    assert rows == Counter(
        {
            ("campaign", "daily", november_30, 50): 1,
            ("campaign", "monthly", datetime.date(2026, 11, 1), 50): 1,
            ("campaign", "daily", december_1, 50): 1,
            ("campaign", "daily", december_1, 80): 1,
            ("campaign", "monthly", december_1, 50): 1,
        }
    )
    assert set(BudgetAlert.objects.values_list("timezone", flat=True)) == {zone}
