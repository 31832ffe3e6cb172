"""The alerts admin: settings with thresholds, alerts filtered by delivery state, send again."""

import datetime
from decimal import Decimal

import pytest

from alerts.crossings import budget_alerts_detect
from alerts.models import AlertThreshold, BrandAlertSettings, BudgetAlert, Delivery
from alerts.tests.factories import BrandAlertSettingsFactory
from alerts.tests.helpers import report_spend
from brands.tests.factories import BrandFactory
from campaigns.models import Campaign

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)
ALERTS_URL = "/admin/alerts/budgetalert/"

pytestmark = pytest.mark.django_db


def alerts_for(brand, count: int) -> None:
    campaigns = Campaign.objects.bulk_create(
        Campaign(brand=brand, name=f"c{i}", daily_budget=Decimal("10.00")) for i in range(count)
    )
    for campaign in campaigns:
        report_spend(campaign, TODAY, 6)
    budget_alerts_detect(brand_ids=[brand.pk], now=NOW, source="check_all_campaign_budgets")


def test_the_alert_list_shows_delivery_state_and_filters_by_it(staff_client):
    sent = BrandAlertSettingsFactory(webhook_url="http://127.0.0.1:9/hook", email_recipients="").brand
    alerts_for(sent, 1)
    Delivery.objects.update(state=Delivery.State.FAILED)
    alerts_for(BrandFactory(name="Quiet brand"), 1)

    page = staff_client.get(ALERTS_URL).content.decode()
    assert "failed" in page and "not sent (no channel)" in page
    failed = staff_client.get(ALERTS_URL, {"delivery": "failed"}).context["cl"].result_list
    assert [alert.brand_id for alert in failed] == [sent.pk]
    unsent = staff_client.get(ALERTS_URL, {"delivery": "none"}).context["cl"].result_list
    assert [alert.brand.name for alert in unsent] == ["Quiet brand"]


def test_the_alert_list_costs_the_same_queries_at_10_and_300_alerts(staff_client, django_assert_max_num_queries):
    brand = BrandAlertSettingsFactory(webhook_url="http://127.0.0.1:9/hook").brand
    for count in (10, 300):
        alerts_for(brand, count)
        with django_assert_max_num_queries(8):
            assert staff_client.get(ALERTS_URL).status_code == 200


def test_send_again_queues_new_deliveries(staff_client, eager_tasks, django_capture_on_commit_callbacks, mailoutbox):
    brand = BrandAlertSettingsFactory(email_recipients="ops@example.com").brand
    alerts_for(brand, 1)
    alert = BudgetAlert.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ALERTS_URL, {"action": "send_again", "_selected_action": [alert.pk]}, follow=True)
    assert "1 deliveries queued." in response.content.decode()
    assert len(mailoutbox) == 1
    assert alert.deliveries.count() == 2


def test_new_settings_start_with_50_80_100_and_refuse_a_bad_recipient_or_percent(staff_client):
    brand = BrandFactory()
    form = staff_client.get("/admin/alerts/brandalertsettings/add/").content.decode()
    for percent in (50, 80, 100):
        assert f'value="{percent}"' in form

    def post(recipients: str, percents: list[str]):
        data = {
            "brand": brand.pk,
            "email_recipients": recipients,
            "webhook_url": "",
            "status_change_webhook_url": "",
            "webhook_secret": "s3cret",
            "thresholds-TOTAL_FORMS": len(percents),
            "thresholds-INITIAL_FORMS": 0,
        }
        data |= {f"thresholds-{i}-percent": percent for i, percent in enumerate(percents)}
        return staff_client.post("/admin/alerts/brandalertsettings/add/", data)

    bad = post("ops@example.com, not-an-address", ["50"]).content.decode()
    assert "&#x27;not-an-address&#x27; is not an email address." in bad
    assert "Ensure this value is greater than or equal to 1." in post("ops@example.com", ["0"]).content.decode()
    assert not BrandAlertSettings.objects.exists()
    assert post("ops@example.com\nlead@example.com", ["25", "90"]).status_code == 302
    saved = BrandAlertSettings.objects.get()
    assert saved.recipient_list == ["ops@example.com", "lead@example.com"]
    assert sorted(AlertThreshold.objects.values_list("percent", flat=True)) == [25, 90]


def test_a_delivery_page_lists_its_attempts(staff_client):
    brand = BrandAlertSettingsFactory(webhook_url="http://127.0.0.1:9/hook", email_recipients="").brand
    alerts_for(brand, 1)
    delivery = Delivery.objects.get()
    delivery.attempt_log.create(
        number=1, started_at=NOW, duration_ms=3, succeeded=False, status_code=None, error="Connection refused"
    )
    page = staff_client.get(f"/admin/alerts/delivery/{delivery.pk}/change/").content.decode()
    assert "Connection refused" in page and str(delivery.delivery_id) in page
