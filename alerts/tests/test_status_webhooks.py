"""The status-change webhook: a brand's changes pushed signed, retried, at least once."""

import datetime

import pytest
import time_machine

from alerts.models import Delivery
from alerts.status_webhooks import status_change_webhooks_drain
from alerts.tasks import deliver
from alerts.tests.factories import BrandAlertSettingsFactory
from alerts.tests.webhook_server import WebhookServer
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from conftest import wait_for

S = Campaign.Status
T0 = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)


def change(campaign) -> int:
    return CampaignStatusChange.objects.create(
        campaign=campaign,
        campaign_name=campaign.name,
        brand_id=campaign.brand_id,
        brand_name=campaign.brand.name,
        old_status=S.ACTIVE,
        new_status=S.PAUSED_BY_USER,
        actor="user",
        source="admin",
    ).pk


def drain_until_created(count: int) -> int:
    """Other sessions' open transactions can hold the newest changes back briefly."""
    created = 0

    def drained():
        nonlocal created
        created += status_change_webhooks_drain()
        return created >= count

    assert wait_for(drained, timeout=60), f"{created} of {count} deliveries"
    return created


@pytest.mark.django_db(transaction=True)
def test_status_changes_are_pushed_signed_to_the_brands_webhook_and_only_once(eager_tasks):
    with WebhookServer() as server:
        pushed = BrandAlertSettingsFactory(status_change_webhook_url=f"{server.url}/status")
        silent = BrandAlertSettingsFactory()  # no status-change URL
        campaign = CampaignFactory(brand=pushed.brand)
        first = [change(campaign), change(CampaignFactory(brand=silent.brand)), change(campaign)]

        assert drain_until_created(1) == 1
        assert status_change_webhooks_drain() == 0  # nothing new: nothing sent again
        later = change(campaign)
        assert drain_until_created(1) == 1

        requests = server.received("/status")
    assert [[c["id"] for c in request.json["changes"]] for request in requests] == [[first[0], first[2]], [later]]
    assert all(request.signed_with(pushed.webhook_secret) for request in requests)
    body = requests[0].json
    assert (body["type"], body["brand"]) == ("status_changes", pushed.brand_id)
    assert requests[0].headers["X-Budget-Delivery-Id"] == body["id"]
    assert requests[0].headers["X-Budget-Event"] == "status_changes"
    assert body["changes"][0]["new_status"] == "PAUSED_BY_USER"
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.django_db(transaction=True)
def test_a_failing_status_change_webhook_is_retried_with_the_same_changes(eager_tasks):
    with WebhookServer(statuses=[502, 200]) as server:
        pushed = BrandAlertSettingsFactory(status_change_webhook_url=f"{server.url}/status")
        change_id = change(CampaignFactory(brand=pushed.brand))
        with time_machine.travel(T0, tick=False):
            drain_until_created(1)
        delivery = Delivery.objects.get()
        assert (delivery.state, delivery.last_error) == ("pending", "HTTP 502 Bad Gateway")
        with time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False):
            assert deliver(delivery.pk) == "delivered"
        requests = server.received("/status")
    assert len(requests) == 2 and requests[0].body == requests[1].body
    assert [c["id"] for c in requests[1].json["changes"]] == [change_id]
    assert list(delivery.attempt_log.values_list("status_code", "succeeded")) == [(502, False), (200, True)]
