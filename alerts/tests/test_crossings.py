"""Budget alerts: each threshold crossed once per local period, delivered by email and signed webhook."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from alerts.crossings import budget_alerts_detect
from alerts.models import BudgetAlert, Delivery
from alerts.tests.factories import BrandAlertSettingsFactory
from alerts.tests.helpers import report_spend
from brands.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tasks import check_all_campaign_budgets
from campaigns.tests.factories import CampaignFactory

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)


def alerts_of(**filters) -> list[tuple]:
    return list(
        BudgetAlert.objects.filter(**filters)
        .order_by("period", "threshold_percent")
        .values_list("scope", "period", "threshold_percent", "period_start")
    )


@pytest.mark.django_db(transaction=True)
def test_each_threshold_crossed_sends_one_email_and_one_signed_webhook_and_never_twice(
    eager_tasks, mailoutbox, webhook_server
):
    alert_settings = BrandAlertSettingsFactory(
        email_recipients="ops@example.com, lead@example.com", webhook_url=f"{webhook_server.url}/alerts"
    )
    campaign = CampaignFactory(brand=alert_settings.brand, name="Winter sale", daily_budget=Decimal("200.00"))

    with time_machine.travel(NOW, tick=False):
        for spend, expected_thresholds in ((40, []), (100, [50]), (150, [50]), (170, [50, 80]), (200, [50, 80, 100])):
            report_spend(campaign, TODAY, spend)
            check_all_campaign_budgets()
            check_all_campaign_budgets()  # a second sweep finds nothing new
            assert [t for _, _, t, _ in alerts_of(campaign=campaign)] == expected_thresholds

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED_BY_SYSTEM
    assert [message.subject for message in mailoutbox] == [
        f"Campaign 'Winter sale' ({alert_settings.brand.name}) reached {percent} % of its daily budget"
        for percent in (50, 80, 100)
    ]
    assert all(message.to == ["ops@example.com", "lead@example.com"] for message in mailoutbox)
    assert "Spend: 100.00 USD of 200.00 USD (50.0 %)" in mailoutbox[0].body

    requests = webhook_server.received("/alerts")
    assert [request.json["alert"]["threshold_percent"] for request in requests] == [50, 80, 100]
    assert all(request.signed_with(alert_settings.webhook_secret) for request in requests)
    assert not requests[0].signed_with("another secret")
    first = requests[0].json
    assert first["type"] == "budget_alert"
    assert requests[0].headers["X-Budget-Delivery-Id"] == first["id"]
    assert first["alert"] | {"id": None} == {
        "id": None,
        "scope": "campaign",
        "period": "daily",
        "period_start": "2026-11-24",
        "threshold_percent": 50,
        "spend": "100.00",
        "budget": "200.00",
        "spent_percent": "50.0",
        "timezone": "UTC",
        "crossed_at": "2026-11-24T12:00:00Z",
        "source": "check_all_campaign_budgets",
        "brand": {"id": alert_settings.brand_id, "name": alert_settings.brand.name},
        "campaign": {"id": campaign.pk, "name": "Winter sale"},
    }
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}
    assert Delivery.objects.count() == 6


@pytest.mark.django_db
def test_brand_totals_cross_the_brands_own_budgets_over_all_its_campaigns():
    brand = BrandFactory(daily_budget=Decimal("100.00"), monthly_budget=Decimal("1000.00"))
    paused_by_user = CampaignFactory(brand=brand, status=Campaign.Status.PAUSED_BY_USER)
    active = CampaignFactory(brand=brand)
    report_spend(paused_by_user, TODAY, 30, 300)
    report_spend(active, TODAY, 25, 510)

    with time_machine.travel(NOW, tick=False):
        created = budget_alerts_detect(brand_ids=[brand.pk], now=NOW, source="test")

    assert len(created) == 3
    assert alerts_of(brand=brand) == [
        ("brand", "daily", 50, TODAY),
        ("brand", "monthly", 50, TODAY.replace(day=1)),
        ("brand", "monthly", 80, TODAY.replace(day=1)),
    ]
    alert = BudgetAlert.objects.get(period="monthly", threshold_percent=80)
    assert (alert.spend, alert.budget, alert.campaign_id) == (Decimal("810.00"), Decimal("1000.00"), None)
    # Without alert settings the alerts are recorded but sent nowhere.
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_brand_chooses_its_own_thresholds_and_others_keep_the_defaults():
    custom = BrandAlertSettingsFactory(thresholds=[25, 90]).brand
    default = BrandFactory()
    for brand in (custom, default):
        report_spend(CampaignFactory(brand=brand, monthly_budget=Decimal("100.00")), TODAY, 60, 95)

    budget_alerts_detect(brand_ids=None, now=NOW, source="test")

    assert [t for *_, t, _ in alerts_of(brand=custom)] == [25, 90]
    assert [t for *_, t, _ in alerts_of(brand=default)] == [50, 80]


@pytest.mark.django_db
def test_a_crossing_exactly_at_the_threshold_counts_and_a_cent_below_does_not():
    brand = BrandFactory()
    at = CampaignFactory(brand=brand, daily_budget=Decimal("33.33"))
    below = CampaignFactory(brand=brand, daily_budget=Decimal("33.33"))
    report_spend(at, TODAY, "26.67")  # 80.02 %
    report_spend(below, TODAY, "26.66")  # 79.99 %
    budget_alerts_detect(brand_ids=[brand.pk], now=NOW, source="test")
    assert [t for *_, t, _ in alerts_of(campaign=at)] == [50, 80]
    assert [t for *_, t, _ in alerts_of(campaign=below)] == [50]


@pytest.mark.django_db
def test_no_alert_for_an_empty_or_zero_budget_or_an_unknown_timezone():
    brand = BrandFactory()
    report_spend(CampaignFactory(brand=brand, daily_budget=None), TODAY, 500)
    report_spend(CampaignFactory(brand=brand, daily_budget=Decimal("0.00")), TODAY, 500)
    broken = CampaignFactory(daily_budget=Decimal("10.00"))
    report_spend(broken, TODAY, 500)
    type(broken.brand).objects.filter(pk=broken.brand_id).update(timezone="Mars/Olympus_Mons")
    assert budget_alerts_detect(brand_ids=None, now=NOW, source="test") == []


@pytest.mark.postgres  # SQLite splits bulk inserts into batches of ~76 rows
@pytest.mark.django_db
def test_detection_is_a_fixed_number_of_queries(django_assert_max_num_queries):
    for size in (10, 1000):
        brand = BrandFactory(daily_budget=Decimal("10.00"))
        BrandAlertSettingsFactory(brand=brand, webhook_url="http://127.0.0.1:9/hook")
        campaigns = Campaign.objects.bulk_create(
            Campaign(brand=brand, name=f"c{i}", daily_budget=Decimal("100.00")) for i in range(size)
        )
        for campaign in campaigns:
            report_spend(campaign, TODAY, 85)
        with django_assert_max_num_queries(10):
            created = budget_alerts_detect(brand_ids=[brand.pk], now=NOW, source="test")
        assert len(created) == size * 2 + 3
        assert Delivery.objects.filter(brand=brand).count() == 2 * len(created)
