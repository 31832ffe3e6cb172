"""Spend-triggered enforcement coalesces: brands are marked pending, one drain enforces them all."""

import datetime
import random
import re
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from brands.tests.factories import BrandFactory
from budget_system import celery as celery_module
from budget_system.timezones import local_date
from campaigns import enforcement
from campaigns.enforcement import DrainRequested
from campaigns.models import Campaign, DrainRequest, PendingBrand
from campaigns.tasks import drain_pending_brands
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state
from conftest import wait_for

pytestmark = [pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason


@pytest.fixture
def sent_drains(monkeypatch):
    """The drain tasks the marks send (not run)."""
    sent = []
    monkeypatch.setattr(celery_module, "send_quickly", lambda signature, **_: sent.append(signature.task))
    return sent


@pytest.mark.django_db
def test_marking_a_pending_brand_again_keeps_one_row_and_asks_for_no_second_drain(sent_drains):
    brand = BrandFactory()
    assert enforcement.brands_mark_pending(brand_ids=[brand.pk, brand.pk], source="api") == DrainRequested.REQUESTED
    assert enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api") == DrainRequested.ALREADY
    assert list(PendingBrand.objects.values_list("brand_id", "mark_seq")) == [(brand.pk, 2)]
    assert sent_drains == ["campaigns.tasks.drain_pending_brands"]


@pytest.mark.django_db
def test_a_mark_of_a_deleted_brand_is_ignored(sent_drains):
    assert enforcement.brands_mark_pending(brand_ids=[987654], source="api") == DrainRequested.REQUESTED
    assert not PendingBrand.objects.exists()


@pytest.mark.django_db
def test_a_stale_drain_request_is_asked_again(sent_drains):
    brand = BrandFactory()
    enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api")
    DrainRequest.objects.update(requested_at=timezone.now() - datetime.timedelta(minutes=5))  # its worker died
    assert enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api") == DrainRequested.REQUESTED
    assert len(sent_drains) == 2


@pytest.mark.django_db
def test_the_drain_enforces_every_pending_brand_and_clears_the_request(sent_drains):
    today = datetime.datetime.now(datetime.UTC).date()
    campaigns = [CampaignFactory(daily_budget=money(10)) for _ in range(3)]
    for campaign in campaigns:
        add_spend(campaign, today, 15)
    enforcement.brands_mark_pending(brand_ids=[c.brand_id for c in campaigns], source="api")
    summary = drain_pending_brands(source="api")
    assert summary["paused"] == 3
    assert all(state(c) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET) for c in campaigns)
    assert not PendingBrand.objects.exists()
    assert DrainRequest.objects.get().requested_at is None


@pytest.mark.django_db
def test_a_brand_marked_again_during_a_drain_step_stays_pending(monkeypatch, sent_drains):
    brand = BrandFactory()
    enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api")
    real_enforce = enforcement.brands_enforce

    def enforce_while_new_spend_arrives(**kwargs):
        summary = real_enforce(**kwargs)
        enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api")  # spend committed meanwhile
        return summary

    monkeypatch.setattr(enforcement, "brands_enforce", enforce_while_new_spend_arrives)
    brand_ids, _ = enforcement.pending_brands_enforce(source="api")
    assert brand_ids == [brand.pk]
    assert PendingBrand.objects.filter(brand=brand).exists()  # the next step takes it


@pytest.mark.django_db
def test_drain_steps_go_round_the_brands_so_brands_marked_again_do_not_starve_the_rest(monkeypatch, sent_drains):
    monkeypatch.setattr(enforcement, "DRAIN_BRANDS_PER_STEP", 2)
    first, second, third = (BrandFactory().pk for _ in range(3))
    enforcement.brands_mark_pending(brand_ids=[first, second, third], source="api")
    taken, _ = enforcement.pending_brands_enforce(source="api")
    assert taken == [first, second]
    enforcement.brands_mark_pending(brand_ids=[first, second], source="api")  # their spend keeps coming
    taken, _ = enforcement.pending_brands_enforce(source="api", after_brand_id=taken[-1])
    assert taken == [third, first]  # the one left waiting first, then round again
    taken, _ = enforcement.pending_brands_enforce(source="api", after_brand_id=taken[-1])
    assert taken == [second]
    assert not PendingBrand.objects.exists()


@pytest.mark.django_db
def test_a_second_drain_finds_the_lock_held_and_leaves_the_work_to_the_first(sent_drains):
    brand = BrandFactory()
    CampaignFactory(brand=brand)
    enforcement.brands_mark_pending(brand_ids=[brand.pk], source="api")
    from campaigns.tasks import DRAIN_LOCK_KEY

    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [DRAIN_LOCK_KEY])
        assert drain_pending_brands(source="api")["examined"] == 0
        assert PendingBrand.objects.exists()  # left for the drain holding the lock
        with other.cursor() as cursor:
            # Released here: a closed session's locks are freed when its backend exits,
            # which may be just after the next statement of this one.
            cursor.execute("SELECT pg_advisory_unlock(%s)", [DRAIN_LOCK_KEY])
    finally:
        other.close()
    assert drain_pending_brands(source="api")["examined"] == 1
    assert not PendingBrand.objects.exists()


def _poster(user_token: str, posts, errors):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user_token}")
    try:
        for items in posts:
            response = client.post("/api/v1/spend/", items, format="json")
            if response.status_code != 200:
                errors.append((response.status_code, response.content[:200]))
    finally:
        connection.close()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_1000_posts_for_50_brands_costs_a_handful_of_drains(
    celery_worker_process, django_user_model, settings
):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "spend_ingest": "100000/minute"}
    }
    user = django_user_model.objects.create_user("etl")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend"]))
    token = Token.objects.create(user=user).key
    brands = [BrandFactory(daily_budget=Decimal("150.00")) for _ in range(50)]
    campaigns = [CampaignFactory(brand=brand, daily_budget=Decimal("100.00")) for brand in brands for _ in range(2)]
    today = local_date(timezone.now(), "UTC")

    # 10 clients, each reporting rising spend for its own 10 campaigns, 100 posts each.
    rng = random.Random(8)
    last_amount = {}
    threads, errors = [], []
    for client_number in range(10):
        own = campaigns[client_number * 10 : client_number * 10 + 10]
        posts = []
        for post in range(100):
            campaign = rng.choice(own)
            amount = Decimal(post + 1)
            last_amount[campaign.pk] = amount
            posts.append(
                [
                    {
                        "campaign": campaign.pk,
                        "date": str(today),
                        "daily_spend": str(amount),
                        "monthly_spend": str(amount),
                    }
                ]
            )
        threads.append(threading.Thread(target=_poster, args=(token, posts, errors)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []

    def expected(campaign):
        own = last_amount.get(campaign.pk, Decimal(0))
        brand_total = sum(last_amount.get(c.pk, Decimal(0)) for c in campaigns if c.brand_id == campaign.brand_id)
        if brand_total >= Decimal("150.00"):
            return (S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)
        if own >= Decimal("100.00"):
            return (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
        return (S.ACTIVE, "")

    def all_right():
        stored = dict(Campaign.objects.values_list("pk", "status"))
        reasons = dict(Campaign.objects.values_list("pk", "pause_reason"))
        drain_ended = not DrainRequest.objects.filter(requested_at__isnull=False).exists()
        return (
            drain_ended
            and not PendingBrand.objects.exists()
            and all((stored[c.pk], reasons[c.pk]) == expected(c) for c in campaigns)
        )

    assert wait_for(all_right, timeout=60)
    log = celery_worker_process.log_path
    assert wait_for(lambda: "drain_pending_brands brands=" in log.read_text(), timeout=10)
    drains = len(re.findall(r"drain_pending_brands examined=", log.read_text()))
    assert 1 <= drains <= 10, f"{drains} drains for 1,000 posts"
