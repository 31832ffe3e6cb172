"""Deliveries: retried with backoff on failure or a non-2xx answer, each attempt recorded."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from alerts.crossings import budget_alerts_detect
from alerts.delivery import budget_alerts_send_again, deliveries_retry, retry_delay, webhook_signature
from alerts.models import BudgetAlert, Delivery
from alerts.tasks import deliver, retry_due_deliveries
from alerts.tests.factories import BrandAlertSettingsFactory
from alerts.tests.helpers import report_spend
from alerts.tests.webhook_server import WebhookServer
from campaigns.tests.factories import CampaignFactory

T0 = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)


def one_webhook_alert(url: str) -> Delivery:
    alert_settings = BrandAlertSettingsFactory(email_recipients="", webhook_url=url, thresholds=[100])
    campaign = CampaignFactory(brand=alert_settings.brand, daily_budget=Decimal("10.00"))
    report_spend(campaign, TODAY, 10)
    budget_alerts_detect(brand_ids=[campaign.brand_id], now=T0, source="test")
    return Delivery.objects.get()


def attempts(delivery: Delivery) -> list[tuple]:
    return list(delivery.attempt_log.values_list("number", "started_at", "succeeded", "status_code", "error"))


@pytest.mark.django_db
def test_a_failing_webhook_is_retried_with_backoff_and_every_attempt_is_recorded(
    eager_tasks, django_capture_on_commit_callbacks
):
    with WebhookServer(statuses=[500, 503, 200]) as server:
        with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
            delivery = one_webhook_alert(f"{server.url}/hook")
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == "HTTP 500 Internal Server Error"
        assert delivery.next_attempt_at == T0 + datetime.timedelta(seconds=30)

        with time_machine.travel(T0 + datetime.timedelta(seconds=29), tick=False):
            assert deliver(delivery.pk) is None  # not due yet: nothing is sent
            assert retry_due_deliveries() == 0
        second = T0 + datetime.timedelta(seconds=30)
        with time_machine.travel(second, tick=False):
            assert deliver(delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == second + datetime.timedelta(seconds=60)  # doubled
        third = second + datetime.timedelta(seconds=60)
        with time_machine.travel(third, tick=False):
            assert deliver(delivery.pk) == "delivered"
            assert deliver(delivery.pk) is None  # delivered once, never again

        bodies = [request.body for request in server.received("/hook")]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same signed bytes every time
    assert [r.headers["X-Budget-Attempt"] for r in server.received()] == ["1", "2", "3"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.delivered_at, delivery.last_error) == ("delivered", third, "")
    assert attempts(delivery) == [
        (1, T0, False, 500, "HTTP 500 Internal Server Error"),
        (2, second, False, 503, "HTTP 503 Service Unavailable"),
        (3, third, True, 200, ""),
    ]


@pytest.mark.django_db
def test_a_webhook_nobody_answers_gives_up_after_the_last_attempt(settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    with WebhookServer() as server:
        closed_port_url = server.url  # nothing listens there once the server stops
    with time_machine.travel(T0, tick=False) as clock:
        delivery = one_webhook_alert(f"{closed_port_url}/hook")
        for _ in range(3):
            assert deliver(delivery.pk) is not None
            clock.shift(datetime.timedelta(hours=1))
        assert deliver(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert all(status is None and "Connection refused" in error for *_, status, error in attempts(delivery))

    # Ops fixed the receiver: "retry" gives the delivery a fresh set of attempts.
    with WebhookServer() as server, time_machine.travel(T0 + datetime.timedelta(hours=5), tick=False):
        Delivery.objects.filter(pk=delivery.pk).update(target=f"{server.url}/hook")
        assert deliveries_retry(delivery_ids=[delivery.pk]) == 1
        assert deliver(delivery.pk) == "delivered"
        assert len(server.received()) == 1


@pytest.mark.django_db
def test_send_again_makes_new_deliveries_to_the_current_settings(eager_tasks, django_capture_on_commit_callbacks):
    with WebhookServer() as server, time_machine.travel(T0, tick=False):
        delivery = one_webhook_alert(f"{server.url}/old")
        alert = delivery.alert
        type(alert.brand.alert_settings).objects.filter(pk=alert.brand_id).update(
            webhook_url=f"{server.url}/new", email_recipients="new@example.com"
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert budget_alerts_send_again(alert_ids=[alert.pk]) == 2
        assert [r.path for r in server.received()] == ["/new"]
        assert BudgetAlert.objects.get().deliveries.count() == 3


def test_backoff_doubles_up_to_the_cap(settings):
    settings.ALERT_DELIVERY_BACKOFF_SECONDS = 30
    settings.ALERT_DELIVERY_BACKOFF_MAX_SECONDS = 300
    assert [retry_delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    # Known answer, computed independently: printf '{"a":1}' | openssl dgst -sha256 -hmac key
    expected = "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
    assert webhook_signature(body=b'{"a":1}', secret="key") == expected
