"""The status-change feed: each change once, in commit order, with a cursor to keep."""

import random
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from conftest import wait_for

S = Campaign.Status


def change(campaign, new_status=S.PAUSED_BY_USER) -> CampaignStatusChange:
    return CampaignStatusChange.objects.create(
        campaign=campaign,
        campaign_name=campaign.name,
        brand_id=campaign.brand_id,
        brand_name=campaign.brand.name,
        old_status=S.ACTIVE,
        new_status=new_status,
        actor="user",
        source="test",
    )


@pytest.fixture
def reader(django_user_model, monkeypatch) -> APIClient:
    # A client polling in a loop would hit the per-user rate; the rate is not under test.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1000000/minute"})
    user = django_user_model.objects.create_user("integration")
    user.user_permissions.add(Permission.objects.get(codename="view_campaignstatuschange"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def page(client: APIClient, after: str = "", limit: int = 100) -> dict:
    response = client.get("/api/v1/status-changes/", {"after": after, "limit": limit})
    assert response.status_code == 200, response.content
    return response.json()


def read_until(client: APIClient, cursor: str, count: int, *, limit: int = 100) -> tuple[list[dict], str]:
    """Poll as a client would until `count` changes came (other sessions' open transactions may hold them back)."""
    received: list[dict] = []

    def poll():
        nonlocal cursor
        body = page(client, cursor, limit)
        received.extend(body["results"])
        cursor = body["next_cursor"]
        return len(received) >= count

    assert wait_for(poll, timeout=60), f"got {len(received)} of {count} changes"
    return received, cursor


@pytest.mark.django_db(transaction=True)
def test_pages_give_each_change_once_in_order_and_the_last_cursor_brings_only_what_came_after(reader):
    campaign = CampaignFactory()
    first = [change(campaign, S.PAUSED_BY_USER if i % 2 else S.PAUSED_BY_SYSTEM).pk for i in range(5)]

    received, cursor = read_until(reader, "", 5, limit=2)
    assert [item["id"] for item in received] == first
    assert received[0] | {"created_at": None, "cursor": None} == {
        "id": first[0],
        "cursor": None,
        "campaign": campaign.pk,
        "campaign_name": campaign.name,
        "brand": campaign.brand_id,
        "brand_name": campaign.brand.name,
        "created_at": None,
        "old_status": "ACTIVE",
        "old_reason": "",
        "new_status": "PAUSED_BY_SYSTEM",
        "new_reason": "",
        "actor": "user",
        "user": None,
        "source": "test",
        "details": {},
    }
    last = page(reader, cursor)
    assert last["results"] == [] and last["next_cursor"] == cursor and last["has_more"] is False

    later = [change(campaign).pk for _ in range(2)]
    received, _ = read_until(reader, cursor, 2)
    assert [item["id"] for item in received] == later


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_that_took_its_id_earlier_but_committed_later_still_comes_after_the_cursor(reader):
    campaign = CampaignFactory()
    _, cursor = read_until(reader, "", 0)
    inserted, commit = threading.Event(), threading.Event()
    slow = {}

    def slow_writer():
        try:
            with transaction.atomic():
                slow["id"] = change(campaign).pk
                inserted.set()
                commit.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(timeout=30)
    quick = change(campaign).pk  # a larger id, committed first
    assert quick > slow["id"]

    body = page(reader, cursor)
    # The quick change is committed, but an older transaction is still open: it is held
    # back, so the slow change cannot land behind the cursor the client now keeps.
    assert quick not in [item["id"] for item in body["results"]]
    cursor = body["next_cursor"]
    commit.set()
    writer.join()

    received, _ = read_until(reader, cursor, 2)
    assert [item["id"] for item in received] == [slow["id"], quick]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_changes_committed_while_a_client_pages_through_arrive_once_in_cursor_order(reader):
    campaigns = [CampaignFactory() for _ in range(4)]
    written: list[int] = []
    lock = threading.Lock()

    def writer(seed: int):
        rng = random.Random(seed)
        try:
            for _ in range(15):
                with transaction.atomic():
                    ids = [change(rng.choice(campaigns)).pk for _ in range(rng.randint(1, 3))]
                    # Hold some transactions open so commits interleave out of id order.
                    threading.Event().wait(rng.random() * 0.02)
                with lock:
                    written.extend(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    received: list[dict] = []
    cursor = ""
    while any(thread.is_alive() for thread in threads):
        body = page(reader, cursor, limit=7)
        received += body["results"]
        cursor = body["next_cursor"]
    for thread in threads:
        thread.join()
    rest, _ = read_until(reader, cursor, len(written) - len(received), limit=7)
    received += rest

    ids = [item["id"] for item in received]
    assert len(ids) == len(set(ids)) == len(written)
    assert set(ids) == set(written)
    positions = [tuple(map(int, item["cursor"].split("-"))) for item in received]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_the_feed_needs_a_token_and_the_permission(django_user_model):
    assert APIClient().get("/api/v1/status-changes/").status_code == 401
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=django_user_model.objects.create_user('x')).key}"
    )
    response = client.get("/api/v1/status-changes/")
    assert response.status_code == 403
    assert "campaigns.view_campaignstatuschange" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        ({"after": "12"}, "after", "12"),
        ({"after": "1-x"}, "after", "1-x"),
        ({"after": "-1-5"}, "after", "-1-5"),
        ({"after": "99999999999999999999-1"}, "after", "99999999999999999999-1"),
        ({"limit": "0"}, "limit", "0"),
        ({"limit": "1001"}, "limit", "1001"),
        ({"limit": "ten"}, "limit", "ten"),
    ],
)
def test_a_bad_cursor_or_limit_is_a_400_naming_it(reader, params, field, value):
    response = reader.get("/api/v1/status-changes/", params)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": field, "value": value, "message": response.json()["errors"][0]["message"]}
    ]
    assert repr(value) in response.json()["detail"]


@pytest.mark.django_db
def test_the_feed_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/status-changes/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"after", "limit"}
    assert set(operation["responses"]) == {"200", "400", "401", "403", "429"}
