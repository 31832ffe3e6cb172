"""POST /api/v1/spend/ and GET /api/v1/campaigns/ (SPEC §8, §9)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.models import Spend
from spend.tests.factories import SpendFactory

SPEND_URL = "/api/v1/spend/"
CAMPAIGNS_URL = "/api/v1/campaigns/"
# 02:00 UTC on 24 November: still the 23rd in New York, already the 24th in UTC.
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 24)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "fresh_throttles")]


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def fresh_throttles(settings):
    # Throttle counts live in the cache: a private, empty one per test, so one test's
    # requests never throttle the next and no shared Redis database is flushed.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "spend-api"}}
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def with_permissions(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def etl(django_user_model):
    return client_for(with_permissions(django_user_model.objects.create_user("etl"), "add_spend", "change_spend"))


@pytest.fixture
def reader(django_user_model):
    return client_for(with_permissions(django_user_model.objects.create_user("reader"), "view_campaign"))


def item(campaign, day=TODAY, daily="10.00", monthly="100.00"):
    return {"campaign": campaign, "date": str(day), "daily_spend": daily, "monthly_spend": monthly}


def spend_table():
    return sorted(Spend.objects.values_list("campaign_id", "date", "daily_spend", "monthly_spend", "updated_at"))


# --- Authentication and permissions --------------------------------------------------


def test_no_token_is_401_with_the_token_scheme():
    campaign = CampaignFactory()
    response = APIClient().post(SPEND_URL, [item(campaign.pk)], format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Spend.objects.exists()


def test_an_unknown_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.post(SPEND_URL, [item(CampaignFactory().pk)], format="json")
    assert response.status_code == 401


@pytest.mark.parametrize("codenames", [(), ("add_spend",), ("change_spend",)])
def test_a_token_without_both_spend_permissions_is_403(django_user_model, codenames):
    client = client_for(with_permissions(django_user_model.objects.create_user("weak"), *codenames))
    response = client.post(SPEND_URL, [item(CampaignFactory().pk)], format="json")
    assert response.status_code == 403
    assert "spend.add_spend and spend.change_spend" in response.json()["detail"]
    assert not Spend.objects.exists()


# --- Writing ----------------------------------------------------------------------


def test_spend_is_stored_and_counted(etl):
    first, second = CampaignFactory(), CampaignFactory()
    response = etl.post(
        SPEND_URL,
        [
            item(first.pk),
            item(second.pk, daily="2.5", monthly=" 40 "),
            item(first.pk, day=TODAY - dt.timedelta(days=1)),
        ],
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("received", "created", "updated", "unchanged")} == {
        "received": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert body["brand_ids"] == sorted([first.brand_id, second.brand_id])
    assert Spend.objects.get(campaign=second, date=TODAY).monthly_spend == Decimal("40.00")


def test_json_numbers_are_read_as_exact_decimals(etl):
    campaign = CampaignFactory()
    body = f'[{{"campaign": {campaign.pk}, "date": "2026-11-24", "daily_spend": 0.1, "monthly_spend": 0.3}}]'
    response = etl.post(SPEND_URL, body, content_type="application/json")
    assert response.status_code == 200, response.content
    row = Spend.objects.get()
    assert (row.daily_spend, row.monthly_spend) == (Decimal("0.10"), Decimal("0.30"))


def test_a_second_report_for_a_day_replaces_its_figures(etl):
    campaign = CampaignFactory()
    SpendFactory(campaign=campaign, date=TODAY, daily_spend=Decimal("10.00"), monthly_spend=Decimal("100.00"))
    response = etl.post(SPEND_URL, [item(campaign.pk, daily="25.00", monthly="115.00")], format="json")
    assert response.status_code == 200
    assert response.json()["updated"] == 1
    row = Spend.objects.get()
    assert (row.daily_spend, row.monthly_spend) == (Decimal("25.00"), Decimal("115.00"))


def test_replaying_a_request_changes_nothing(etl, eager_tasks, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(daily_budget=Decimal("50.00"))
    payload = [item(campaign.pk, daily="60.00", monthly="60.00"), item(CampaignFactory().pk)]
    with django_capture_on_commit_callbacks(execute=True):
        assert etl.post(SPEND_URL, payload, format="json").status_code == 200
    table, audit = spend_table(), list(CampaignStatusChange.objects.values_list("pk", flat=True))
    assert len(audit) == 1  # paused once, for its daily budget

    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = etl.post(SPEND_URL, payload, format="json")
    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
    }
    assert spend_table() == table  # not even updated_at moved
    assert list(CampaignStatusChange.objects.values_list("pk", flat=True)) == audit


def test_a_report_that_crosses_the_budget_pauses_the_campaign(etl, eager_tasks, django_capture_on_commit_callbacks):
    brand = BrandFactory()
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("100.00"))
    sibling = CampaignFactory(brand=brand)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = etl.post(SPEND_URL, [item(campaign.pk, daily="100.00", monthly="400.00")], format="json")
    assert response.status_code == 200
    assert len(callbacks) == 1
    campaign.refresh_from_db()
    sibling.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("PAUSED_BY_SYSTEM", "DAILY_BUDGET")
    assert sibling.status == "ACTIVE"
    change = CampaignStatusChange.objects.get()
    assert (change.campaign_id, change.source, change.actor) == (campaign.pk, "api", "system")


def test_a_correction_below_the_budget_resumes_the_campaign(etl, eager_tasks, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(daily_budget=Decimal("100.00"))
    with django_capture_on_commit_callbacks(execute=True):
        etl.post(SPEND_URL, [item(campaign.pk, daily="120.00", monthly="120.00")], format="json")
    campaign.refresh_from_db()
    assert campaign.status == "PAUSED_BY_SYSTEM"

    with django_capture_on_commit_callbacks(execute=True):
        response = etl.post(SPEND_URL, [item(campaign.pk, daily="80.00", monthly="80.00")], format="json")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("ACTIVE", "")


def test_a_brand_budget_reached_by_two_campaigns_pauses_both(etl, eager_tasks, django_capture_on_commit_callbacks):
    brand = BrandFactory(daily_budget=Decimal("100.00"))
    first, second = CampaignFactory(brand=brand), CampaignFactory(brand=brand)
    with django_capture_on_commit_callbacks(execute=True):
        etl.post(SPEND_URL, [item(first.pk, daily="60.00"), item(second.pk, daily="40.00")], format="json")
    assert set(Campaign.objects.values_list("status", "pause_reason")) == {("PAUSED_BY_SYSTEM", "BRAND_DAILY_BUDGET")}


# --- Bad input: 400 naming index, field and value; nothing written -------------------

# Each case: campaign id -> (the request's items, the (index, field, value) it must name).
BAD_ITEMS = {
    "negative money": lambda c: ([item(c, daily="-5.00")], (0, "daily_spend", "-5.00")),
    "over-precise money": lambda c: ([item(c, monthly="100.001")], (0, "monthly_spend", "100.001")),
    "monthly below daily": lambda c: ([item(c, daily="50.00", monthly="40.00")], (0, "monthly_spend", "40.00")),
    "date after the brand's today": lambda c: ([item(c, day=TODAY + dt.timedelta(days=1))], (0, "date", "2026-11-25")),
    "unknown campaign": lambda c: ([item(c + 1000)], (0, "campaign", c + 1000)),
    "missing field": lambda c: ([{"campaign": c, "daily_spend": "1", "monthly_spend": "1"}], (0, "date", None)),
    "campaign not a number": lambda c: ([item("abc")], (0, "campaign", "abc")),
    "date not a date": lambda c: ([item(c) | {"date": 20261124}], (0, "date", 20261124)),
    "date not in the calendar": lambda c: ([item(c, day="2026-02-30")], (0, "date", "2026-02-30")),
    "money a boolean": lambda c: ([item(c, daily=True)], (0, "daily_spend", True)),
    "money in exponent form": lambda c: ([item(c, daily="1e2")], (0, "daily_spend", "1e2")),
    "item not an object": lambda c: ([item(c), 42], (1, "item", 42)),
    "unknown field": lambda c: ([item(c) | {"currency": "EUR"}], (0, "currency", "EUR")),
    "duplicate campaign and date": lambda c: ([item(c), item(c, daily="1.00")], (1, "date", "2026-11-24")),
    "good item then a bad one": lambda c: (
        [item(c, day=TODAY - dt.timedelta(days=1)), item(c, daily="x")],
        (1, "daily_spend", "x"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS), ids=list(BAD_ITEMS))
def test_each_bad_item_is_named_and_nothing_is_written(etl, case):
    campaign = CampaignFactory()
    SpendFactory(campaign=campaign, date=TODAY, daily_spend=Decimal("3.00"), monthly_spend=Decimal("30.00"))
    before = spend_table()
    items, (index, field, value) = BAD_ITEMS[case](campaign.pk)
    response = etl.post(SPEND_URL, items, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert "nothing was stored" in body["detail"]
    assert [(e["index"], e["field"], e["value"]) for e in body["errors"]] == [(index, field, value)]
    assert field in body["errors"][0]["message"]
    assert spend_table() == before


def test_several_problems_in_one_item_are_all_reported(etl):
    response = etl.post(SPEND_URL, [{"campaign": 0, "date": "tomorrow", "daily_spend": "-1"}], format="json")
    assert response.status_code == 400
    assert [(e["field"], e["value"]) for e in response.json()["errors"]] == [
        ("campaign", 0),
        ("date", "tomorrow"),
        ("daily_spend", "-1"),
        ("monthly_spend", None),
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[{"campaign": 1, "date": ', "Malformed JSON"),
        ('[{"campaign": 1}', "Malformed JSON"),
        ('[{"daily_spend": NaN}]', "Malformed JSON: NaN is not a number"),
        ('{"campaign": 1}', "must be a JSON list of spend items, not an object"),
        ('"hello"', "must be a JSON list of spend items, not a string"),
        ("", "The body is empty"),
    ],
)
def test_a_body_that_is_not_a_json_list_is_400(etl, body, says):
    SpendFactory()
    before = spend_table()
    response = etl.post(SPEND_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "body"
    assert spend_table() == before


def test_malformed_json_shows_where(etl):
    response = etl.post(SPEND_URL, '[{"campaign": 1 "date": "2026-11-24"}]', content_type="application/json")
    error = response.json()["errors"][0]
    assert "Expecting ',' delimiter at line 1 column 17" in error["message"]
    assert '"date"' in error["value"]


def test_a_body_that_is_not_json_is_415(etl):
    response = etl.post(SPEND_URL, {"campaign": "1"}, format="multipart")
    assert response.status_code == 415


def test_more_items_than_allowed_is_413(etl, settings):
    settings.SPEND_API_MAX_ITEMS = 3
    campaign = CampaignFactory()
    items = [item(campaign.pk, day=TODAY - dt.timedelta(days=i)) for i in range(4)]
    response = etl.post(SPEND_URL, items, format="json")
    assert response.status_code == 413
    assert "4 items is more than the 3 allowed per request" in response.json()["detail"]
    assert not Spend.objects.exists()
    assert etl.post(SPEND_URL, items[:3], format="json").status_code == 200


def test_a_body_too_large_for_the_item_limit_is_413_unread(etl, settings):
    settings.SPEND_API_MAX_ITEMS = 2
    response = etl.post(SPEND_URL, "[" + " " * 5000 + "]", content_type="application/json")
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_spend_posts_are_throttled_per_user(etl, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "spend_ingest": "2/minute"},
    }
    campaign = CampaignFactory()
    statuses = [etl.post(SPEND_URL, [item(campaign.pk)], format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- GET /api/v1/campaigns/ ---------------------------------------------------------


def test_campaigns_need_a_token_and_the_view_permission(django_user_model):
    CampaignFactory()
    assert APIClient().get(CAMPAIGNS_URL).status_code == 401
    weak = client_for(django_user_model.objects.create_user("weak"))
    assert weak.get(CAMPAIGNS_URL).status_code == 403


def test_campaigns_show_spend_in_each_brands_calendar(reader):
    new_york = CampaignFactory(brand=BrandFactory(timezone="America/New_York"), daily_budget=Decimal("50.00"))
    utc = CampaignFactory(brand=BrandFactory(timezone="UTC"), monthly_budget=Decimal("900.00"))
    idle = CampaignFactory(brand=new_york.brand)
    # New York's today is the 23rd: its row for the 24th is in the future and ignored.
    SpendFactory(
        campaign=new_york, date=dt.date(2026, 11, 23), daily_spend=Decimal("30.00"), monthly_spend=Decimal("300.00")
    )
    SpendFactory(
        campaign=new_york, date=dt.date(2026, 11, 24), daily_spend=Decimal("99.00"), monthly_spend=Decimal("399.00")
    )
    SpendFactory(
        campaign=utc, date=dt.date(2026, 11, 24), daily_spend=Decimal("10.00"), monthly_spend=Decimal("110.00")
    )
    SpendFactory(campaign=utc, date=dt.date(2026, 10, 31), daily_spend=Decimal("5.00"), monthly_spend=Decimal("999.00"))
    response = reader.get(CAMPAIGNS_URL)
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert response.json()["count"] == 3
    assert {k: rows[new_york.pk][k] for k in ("brand_today", "today_spend", "month_to_date_spend", "daily_budget")} == {
        "brand_today": "2026-11-23",
        "today_spend": "30.00",
        "month_to_date_spend": "300.00",
        "daily_budget": "50.00",
    }
    assert {k: rows[utc.pk][k] for k in ("brand_today", "today_spend", "month_to_date_spend")} == {
        "brand_today": "2026-11-24",
        "today_spend": "10.00",
        "month_to_date_spend": "110.00",
    }
    assert (rows[idle.pk]["today_spend"], rows[idle.pk]["month_to_date_spend"]) == ("0.00", "0.00")
    assert set(rows[utc.pk]) == {
        "id", "name", "brand", "status", "pause_reason", "daily_budget", "monthly_budget",
        "is_dayparting_enabled", "brand_today", "today_spend", "month_to_date_spend", "forecast",
    }  # fmt: skip


def test_month_to_date_is_zero_after_the_month_rolls_over(reader):
    campaign = CampaignFactory()
    SpendFactory(
        campaign=campaign, date=dt.date(2026, 11, 30), daily_spend=Decimal("5.00"), monthly_spend=Decimal("500.00")
    )
    with time_machine.travel(dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC), tick=False):
        row = reader.get(CAMPAIGNS_URL).json()["results"][0]
    assert (row["brand_today"], row["today_spend"], row["month_to_date_spend"]) == ("2026-12-01", "0.00", "0.00")


def test_campaigns_filter_by_brand_and_status(reader):
    brand = BrandFactory()
    active = CampaignFactory(brand=brand)
    CampaignFactory(brand=brand, status="PAUSED_BY_USER")
    CampaignFactory()
    ids = [row["id"] for row in reader.get(CAMPAIGNS_URL, {"brand": brand.pk, "status": "ACTIVE"}).json()["results"]]
    assert ids == [active.pk]


@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        ({"brand": "abc"}, "brand", "abc"),
        ({"brand": "-1"}, "brand", "-1"),
        ({"brand": "99999999999999999999"}, "brand", "99999999999999999999"),
        ({"status": "PAUSED"}, "status", "PAUSED"),
    ],
)
def test_an_invalid_filter_is_400_naming_it(reader, params, field, value):
    response = reader.get(CAMPAIGNS_URL, params)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": field, "value": value, "message": response.json()["errors"][0]["message"]}
    ]
    assert f"{field}={value!r}" in response.json()["detail"]


@pytest.mark.parametrize("size", [3, 60])
def test_campaign_list_queries_do_not_grow_with_campaigns(reader, size, django_assert_max_num_queries):
    for zone in ("UTC", "America/New_York", "Asia/Tokyo"):
        for campaign in CampaignFactory.create_batch(size // 3, brand=BrandFactory(timezone=zone)):
            SpendFactory(campaign=campaign, date=dt.date(2026, 11, 23))
    # Two of them are the forecast's brand totals for the page (campaigns/forecast.py).
    with django_assert_max_num_queries(9):
        response = reader.get(CAMPAIGNS_URL)
    assert response.json()["count"] == size
    assert all(row["month_to_date_spend"] == "10.00" for row in response.json()["results"])
