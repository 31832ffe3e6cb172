"""Through a real Celery worker: a sweep finds a crossing and the worker delivers its webhook."""

from decimal import Decimal

import pytest
from django.utils import timezone

from alerts.models import Delivery
from alerts.tests.factories import BrandAlertSettingsFactory
from alerts.tests.helpers import report_spend
from alerts.tests.webhook_server import WebhookServer
from budget_system.celery import app
from campaigns.tests.factories import CampaignFactory
from conftest import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker]


@pytest.fixture
def worker_with_quick_retries(monkeypatch, request):
    # Read by the worker's settings at its start: a retry one second after a failure.
    monkeypatch.setenv("ALERT_DELIVERY_BACKOFF_SECONDS", "1")
    return request.getfixturevalue("celery_worker_process")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_detects_the_crossing_and_delivers_the_signed_webhook_after_a_retry(worker_with_quick_retries):
    worker = worker_with_quick_retries
    with WebhookServer(statuses=[500, 200]) as server:
        alert_settings = BrandAlertSettingsFactory(
            email_recipients="ops@example.com", webhook_url=f"{server.url}/alerts", thresholds=[100]
        )
        campaign = CampaignFactory(brand=alert_settings.brand, daily_budget=Decimal("10.00"))
        report_spend(campaign, timezone.now().date(), 12)

        app.send_task("campaigns.tasks.check_all_campaign_budgets")
        delivered = wait_for(lambda: Delivery.objects.filter(channel="webhook", state="delivered").exists(), timeout=60)
        assert delivered, worker.log_path.read_text()[-3000:]
        requests = server.received("/alerts")

    assert len(requests) == 2  # the first answer was a 500
    assert all(request.signed_with(alert_settings.webhook_secret) for request in requests)
    assert requests[1].json["alert"]["campaign"]["id"] == campaign.pk
    webhook = Delivery.objects.get(channel="webhook")
    assert list(webhook.attempt_log.values_list("number", "status_code", "succeeded")) == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert wait_for(lambda: Delivery.objects.filter(channel="email", state="delivered").exists())
    assert "reached 100 % of its daily budget" in worker.log_path.read_text()  # the console email backend
