"""The console's lists: what they show, and a fixed number of queries at 10 and 1,000 campaigns."""

import csv
import datetime
import io
import random
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import Brand
from brands.tests.factories import BrandFactory
from budget_system.timezones import local_date
from campaigns.enforcement import campaigns_enforce
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend
from dayparting.models import DaypartingSchedule
from dayparting.tests.factories import DaypartingScheduleFactory
from spend.models import Spend

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)  # a Tuesday
ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin", "Asia/Kathmandu"]

CAMPAIGNS = reverse("admin:campaigns_campaign_changelist")
BRANDS = reverse("admin:brands_brand_changelist")
AUDIT = reverse("admin:campaigns_campaignstatuschange_changelist")


def add_campaigns(count: int, *, brands: int = 10, seed: int = 1) -> None:
    """`count` campaigns over `brands` new brands with budgets, spend today, windows and audit rows, in bulk."""
    rng = random.Random(seed)
    new_brands = Brand.objects.bulk_create(
        Brand(
            name=f"Brand {seed}-{i}",
            timezone=ZONES[i % len(ZONES)],
            daily_budget=Decimal("5000"),
            monthly_budget=None if i % 2 else Decimal("90000"),
        )
        for i in range(brands)
    )
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            brand=new_brands[i % brands],
            name=f"Campaign {seed}-{i}",
            daily_budget=Decimal("75"),
            monthly_budget=Decimal("1500"),
            is_dayparting_enabled=i % 3 == 0,
        )
        for i in range(count)
    )
    today_by_zone = {zone: local_date(NOW, zone) for zone in ZONES}
    Spend.objects.bulk_create(
        Spend(
            campaign=campaign,
            date=today_by_zone[campaign.brand.timezone],
            daily_spend=Decimal(rng.randint(10, 90)),
            monthly_spend=Decimal(rng.randint(900, 1600)),
        )
        for campaign in campaigns
    )
    DaypartingSchedule.objects.bulk_create(
        DaypartingSchedule(
            campaign=campaign,
            day_of_week=rng.randrange(7),
            start_time=datetime.time(rng.randrange(24)),
            end_time=datetime.time(rng.randrange(24)),
            timezone=campaign.brand.timezone,
        )
        for campaign in campaigns
        if campaign.is_dayparting_enabled
    )
    campaigns_enforce(campaigns=Campaign.objects.filter(pk__in=[c.pk for c in campaigns]), source="test", now=NOW)


def queries_of(client, url: str, *, warm: bool = True) -> int:
    if warm:
        client.get(url)  # the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


LIST_PAGES = [
    CAMPAIGNS,
    f"{CAMPAIGNS}?status__exact=PAUSED_BY_SYSTEM",
    f"{CAMPAIGNS}?q=campaign&o=-1",
    f"{CAMPAIGNS}?is_dayparting_enabled__exact=1",
    BRANDS,
    f"{BRANDS}?q=brand",
    AUDIT,
    f"{AUDIT}?new_reason__exact=DAILY_BUDGET",
]


@time_machine.travel(NOW, tick=False)
def test_list_pages_cost_the_same_queries_at_10_and_1000_campaigns(staff_client, django_assert_max_num_queries):
    add_campaigns(10, brands=3)
    small = {url: queries_of(staff_client, url) for url in LIST_PAGES}

    add_campaigns(990, brands=120, seed=2)
    large = {}
    for url in LIST_PAGES:
        staff_client.get(url)
        with django_assert_max_num_queries(10):
            large[url] = queries_of(staff_client, url, warm=False)

    assert large == small
    assert Campaign.objects.count() == 1000


@time_machine.travel(NOW, tick=False)
def test_campaign_list_shows_spend_against_budgets_every_reason_and_the_resume_time(staff_client):
    brand = BrandFactory(name="Kiri", timezone="Pacific/Kiritimati", monthly_budget=Decimal("100"))
    campaign = CampaignFactory(brand=brand, name="Lagoon", daily_budget=Decimal("50"), monthly_budget=Decimal("2000"))
    add_spend(campaign, datetime.date(2026, 11, 25), "42", "1700")  # already the 25th at UTC+14
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    page = staff_client.get(CAMPAIGNS).content.decode()

    assert '<div class="usage usage-warn" title="$42.00 of $50.00 (84 %)">' in page
    assert '<div class="usage usage-warn" title="$1,700.00 of $2,000.00 (85 %)">' in page
    assert "<li>Brand monthly budget reached</li>" in page
    # The brand's month ends at local midnight of 1 Dec: 30 Nov 10:00 UTC.
    assert "Tue 1 Dec 00:00 +14" in page
    assert "on the 1st (a new month)" in page


@time_machine.travel(NOW, tick=False)
def test_brand_list_shows_totals_utilization_and_campaigns_by_status(staff_client):
    brand = BrandFactory(name="Acme", daily_budget=Decimal("100"))
    running = CampaignFactory(brand=brand)
    CampaignFactory(brand=brand, status=S.PAUSED_BY_USER)
    add_spend(running, datetime.date(2026, 11, 24), "120", "500")
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    page = staff_client.get(BRANDS).content.decode()

    assert '<div class="usage usage-over" title="$120.00 of $100.00 (120 %)">' in page
    assert f"?brand__id__exact={brand.pk}&amp;status__exact=PAUSED_BY_SYSTEM" in page
    assert "1 paused by system" in page and "1 paused by user" in page


@time_machine.travel(NOW, tick=False)
def test_campaign_page_status_panel_reads_every_reason_figures_and_the_windows(staff_client):
    brand = BrandFactory(timezone="Asia/Tokyo")
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("10"), is_dayparting_enabled=True)
    # 21:00 on Tuesday in Tokyo; the window opens on Wednesday at 09:00.
    DaypartingScheduleFactory(campaign=campaign, day_of_week=2, timezone="Asia/Tokyo")
    add_spend(campaign, datetime.date(2026, 11, 24), "10")
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    response = staff_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    page = response.content.decode()

    assert response.context["explanation"].reasons == (R.DAILY_BUDGET, R.DAYPARTING)
    assert "<li>Daily budget reached</li><li>Outside dayparting windows</li>" in page
    assert "Wed 25 Nov 2026 09:00 JST" in page  # resume and next opening
    assert "when a window opens" in page
    assert "the next opens" in page
    assert 'class="cell-full" data-weekday="2" data-hour="9"' in page
    assert 'class="cell-empty cell-now" data-weekday="1" data-hour="21"' in page


@time_machine.travel(NOW, tick=False)
def test_times_are_24_hour_in_the_window_list_and_forms(staff_client):
    window = DaypartingScheduleFactory(start_time=datetime.time(21, 30), end_time=datetime.time(2, 0), day_of_week=4)
    listing = staff_client.get(reverse("admin:dayparting_daypartingschedule_changelist")).content.decode()
    form = staff_client.get(reverse("admin:dayparting_daypartingschedule_change", args=[window.pk])).content.decode()
    campaign = staff_client.get(reverse("admin:campaigns_campaign_change", args=[window.campaign_id])).content.decode()

    assert "Fri 21:30–02:00 (next day)" in listing
    assert 'value="21:30"' in form and 'value="02:00"' in form
    assert 'value="21:30"' in campaign
    assert "p.m." not in listing + form + campaign


# --- CSV export ------------------------------------------------------------------------------------


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@time_machine.travel(NOW, tick=False)
def test_campaign_export_holds_what_the_list_shows_filtered(staff_client):
    brand = BrandFactory(timezone="Europe/Berlin")
    paused = CampaignFactory(brand=brand, name="Over", daily_budget=Decimal("10"))
    CampaignFactory(brand=brand, name="Fine")
    add_spend(paused, datetime.date(2026, 11, 24), "12.5")
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    rows = csv_rows(staff_client.get(reverse("admin:campaigns_campaign_export") + "?status__exact=PAUSED_BY_SYSTEM"))

    assert [row["campaign"] for row in rows] == ["Over"]
    row = rows[0]
    assert (row["status"], row["reasons that hold now"]) == ("Paused by system", "Daily budget reached")
    assert (row["daily budget"], row["spend today"], row["today % of budget"]) == ("10.00", "12.50", "125")
    assert row["resumes (brand's time)"] == "Wed 25 Nov 2026 00:00 CET"
    assert row["resumes (UTC)"] == "2026-11-24T23:00:00+00:00"


@time_machine.travel(NOW, tick=False)
def test_audit_export_holds_the_filtered_changes_in_local_and_utc_time(staff_client):
    campaign = CampaignFactory(brand=BrandFactory(timezone="Asia/Kathmandu"), daily_budget=Decimal("0"))
    other = CampaignFactory(monthly_budget=Decimal("0"))
    campaigns_enforce(campaigns=Campaign.objects.all(), source="check_all_campaign_budgets")

    url = reverse("admin:campaigns_campaignstatuschange_export") + f"?campaign__id__exact={campaign.pk}"
    rows = csv_rows(staff_client.get(url))

    assert len(rows) == 1 and CampaignStatusChange.objects.exclude(campaign=other).count() == 1
    row = rows[0]
    assert (row["time (UTC)"], row["time (brand's zone)"]) == ("2026-11-24 12:00:00 UTC", "Tue 24 Nov 2026 17:45 +0545")
    assert (row["old status"], row["new status"], row["new reason"]) == (
        "Active",
        "Paused by system",
        "Daily budget reached",
    )
    assert "campaign spend today $0.00 of $0.00" in row["figures"]


@time_machine.travel(NOW, tick=False)
def test_exports_read_the_same_queries_at_10_and_1000_campaigns(staff_client):
    add_campaigns(10, brands=3)
    urls = [reverse("admin:campaigns_campaign_export"), reverse("admin:campaigns_campaignstatuschange_export")]

    def export_queries(url):
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(staff_client.get(url))
        return len(queries), len(rows)

    small = {url: export_queries(url) for url in urls}
    add_campaigns(990, brands=120, seed=2)
    large = {url: export_queries(url) for url in urls}

    assert {url: n for url, (n, _) in large.items()} == {url: n for url, (n, _) in small.items()}
    assert large[urls[0]][1] == 1000


def test_the_list_links_to_the_export_of_its_filters(staff_client):
    page = staff_client.get(f"{CAMPAIGNS}?status__exact=ACTIVE").content.decode()
    assert f'href="{reverse("admin:campaigns_campaign_export")}?status__exact=ACTIVE"' in page
