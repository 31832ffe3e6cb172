"""Who changed what, beside the status history (campaigns/history.py, django-simple-history).

"Why did this campaign resume at 14:02?": the edit and the status change it caused, in
the brand's local time, with money as money and labels in words.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from brands.models import Brand
from brands.tests.factories import BrandFactory
from campaigns.enforcement import CampaignFacts, campaigns_enforce, decide_campaign_status
from campaigns.history import campaign_history, details_in_words
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend
from campaigns.tests.test_admin import change_form_data, change_url
from dayparting.models import DaypartingSchedule

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 13, 2, tzinfo=datetime.UTC)  # 14:02 in Berlin
TODAY = datetime.date(2026, 11, 24)


def bulk_campaign(**fields) -> Campaign:
    """A campaign written as demo data and ETLs write them: in bulk, with no history yet."""
    brand = fields.pop("brand", None) or BrandFactory(timezone="Europe/Berlin")
    [campaign] = Campaign.objects.bulk_create([Campaign(brand=brand, name="Winter sale", **fields)])
    return campaign


@time_machine.travel(NOW, tick=False)
@pytest.mark.django_db(transaction=True)
def test_raising_a_budget_in_the_admin_explains_the_resume_that_followed(staff_client):
    campaign = bulk_campaign(daily_budget=Decimal("75.00"))
    add_spend(campaign, TODAY, "80", "400")
    an_hour_ago = NOW - datetime.timedelta(hours=1)
    campaigns_enforce(campaigns=Campaign.objects.all(), source="check_all_campaign_budgets", now=an_hour_ago)
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))
    data["daily_budget"] = "120.00"

    assert staff_client.post(url, data).status_code == 302

    newest, cause = campaign_history(campaign=campaign)[:2]
    assert (newest.kind, newest.who, newest.source) == ("status", "system", "admin")
    assert newest.what == "Paused by system (Daily budget reached) → Active"
    assert "campaign spend today $80.00 of $120.00" in newest.figures
    assert (cause.kind, cause.who, cause.source) == ("edit", "ops", "campaign settings")
    assert cause.what == "raised the daily budget from $75.00 to $120.00"
    page = staff_client.get(url).content.decode()
    assert "raised the daily budget from $75.00 to $120.00" in page
    # 14:02 on the brand's wall clock, the zone named; UTC on hover.
    assert "Tue 24 Nov 2026 14:02 CET" in page
    assert 'title="2026-11-24 13:02:00 UTC · Europe/Berlin"' in page


@time_machine.travel(NOW, tick=False)
def test_brand_timezone_and_budget_edits_show_on_its_campaigns_pages(staff_client):
    brand = BrandFactory(name="Acme", timezone="UTC", daily_budget=None)
    campaign = CampaignFactory(brand=brand)
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    data.update(timezone="Asia/Tokyo", daily_budget="500.00")

    assert staff_client.post(url, data).status_code == 302

    [edit] = [entry for entry in campaign_history(campaign=campaign) if entry.source == "brand settings"][:1]
    assert edit.who == "ops"
    assert edit.what == (
        "set the brand's daily budget to $500.00 (was no limit); changed the brand's timezone from UTC to Asia/Tokyo"
    )
    brand_page = staff_client.get(url).content.decode()
    assert "changed the brand&#x27;s timezone from UTC to Asia/Tokyo" in brand_page


def test_dayparting_flag_and_windows_added_changed_and_removed_are_recorded(staff_client, time_machine):
    time_machine.move_to(NOW, tick=False)
    campaign = CampaignFactory(brand=BrandFactory(timezone="Europe/Berlin"))
    time_machine.shift(60)
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))
    data.update(
        {
            "is_dayparting_enabled": "on",
            "dayparting_schedules-TOTAL_FORMS": "1",
            "dayparting_schedules-0-day_of_week": "4",
            "dayparting_schedules-0-start_time": "22:00",
            "dayparting_schedules-0-end_time": "02:00",
            "dayparting_schedules-0-timezone": "Europe/Berlin",
        }
    )
    assert staff_client.post(url, data).status_code == 302
    time_machine.shift(60)
    data = change_form_data(staff_client.get(url))
    data["dayparting_schedules-0-end_time"] = "03:00"
    assert staff_client.post(url, data).status_code == 302
    time_machine.shift(60)
    data = change_form_data(staff_client.get(url))
    data["dayparting_schedules-0-DELETE"] = "on"
    assert staff_client.post(url, data).status_code == 302

    edits = [entry.what for entry in campaign_history(campaign=campaign) if entry.kind == "edit"]
    assert edits[:2] == [
        "removed the dayparting window Fri 22:00–03:00 (next day) Europe/Berlin",
        "changed a dayparting window from Fri 22:00–02:00 (next day) Europe/Berlin "
        "to Fri 22:00–03:00 (next day) Europe/Berlin",
    ]
    # Saved in one request: the flag and the new window.
    assert set(edits[2:4]) == {
        "added the dayparting window Fri 22:00–02:00 (next day) Europe/Berlin",
        "turned dayparting on",
    }


def test_a_window_deleted_from_the_dayparting_list_is_recorded_with_who(staff_client):
    campaign = CampaignFactory()
    [window] = DaypartingSchedule.objects.bulk_create(
        [DaypartingSchedule(campaign=campaign, day_of_week=0, start_time=datetime.time(9), end_time=datetime.time(17))]
    )
    delete_url = reverse("admin:dayparting_daypartingschedule_delete", args=[window.pk])

    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302

    [removal] = [entry for entry in campaign_history(campaign=campaign) if entry.source == "dayparting windows"]
    assert (removal.who, removal.what) == ("ops", "removed the dayparting window Mon 09:00–17:00 UTC")


def test_the_engines_status_updates_write_no_history_rows():
    campaigns = [CampaignFactory(daily_budget=Decimal("0")) for _ in range(5)]
    before = Campaign.history.count()

    campaigns_enforce(campaigns=Campaign.objects.filter(pk__in=[c.pk for c in campaigns]), source="test")

    assert CampaignStatusChange.objects.count() == 5
    assert Campaign.history.count() == before


def test_an_edit_that_changes_nothing_tracked_adds_no_entry(staff_client):
    # Created the usual way (the factory writes rows without signals, so without history).
    campaign = Campaign.objects.create(brand=BrandFactory(), name="Tracked", daily_budget=Decimal("10"))
    url = change_url(campaign)
    assert staff_client.post(url, change_form_data(staff_client.get(url))).status_code == 302
    assert [entry.what for entry in campaign_history(campaign=campaign)] == [
        "created the campaign (daily budget $10.00, monthly budget no limit, dayparting off)"
    ]


def test_the_history_button_shows_the_one_history(staff_client):
    brand = BrandFactory(timezone="America/New_York")
    campaign = bulk_campaign(brand=brand, monthly_budget=Decimal("0"))
    campaigns_enforce(campaigns=Campaign.objects.all(), source="check_all_campaign_budgets")

    page = staff_client.get(reverse("admin:campaigns_campaign_history", args=[campaign.pk])).content.decode()
    brand_page = staff_client.get(reverse("admin:brands_brand_history", args=[brand.pk])).content.decode()

    for html in (page, brand_page):
        assert "Active → Paused by system (Monthly budget reached)" in html
        assert "America/New_York" in html
        assert "check_all_campaign_budgets" in html


def test_audit_details_hold_two_decimal_places_whatever_the_backend_returned():
    # SQLite hands back sums like Decimal('333.370000000000') and budgets like Decimal('60').
    facts = CampaignFacts(
        brand_timezone="UTC",
        brand_today=TODAY,
        brand_daily_budget=None,
        brand_monthly_budget=Decimal("60"),
        brand_daily_spend=Decimal("0"),
        brand_monthly_spend=Decimal("333.370000000000"),
        campaign_daily_budget=None,
        campaign_monthly_budget=None,
        campaign_daily_spend=Decimal("0"),
        campaign_monthly_spend=Decimal("12.5"),
    )
    details = decide_campaign_status(facts, now=NOW).details
    assert (details["brand_monthly_spend"], details["brand_monthly_budget"]) == ("333.37", "60.00")
    assert details["campaign_monthly_spend"] == "12.50"
    assert details["campaign_daily_budget"] == ""


def test_details_read_as_money_and_words_also_for_rows_stored_before_two_places():
    details = {
        "now": "2026-11-24T13:02:00+00:00",
        "timezone": "Europe/Berlin",
        "local_date": "2026-11-24",
        "brand_monthly_spend": "333.370000000000",
        "brand_monthly_budget": "60",
        "campaign_daily_spend": "12.5",
        "campaign_daily_budget": "",
        "dayparting_windows": "2",
        "in_dayparting_window": "false",
    }
    assert details_in_words(details) == (
        "local date Tue 24 Nov 2026 (Europe/Berlin)",
        "brand month-to-date $333.37 of $60.00",
        "dayparting: outside its 2 window(s)",
    )


def test_a_brand_deleted_keeps_nothing_dangling_in_its_history(staff_client):
    brand = BrandFactory()
    Brand.objects.filter(pk=brand.pk).delete()
    assert Brand.history.filter(id=brand.pk, history_type="-").exists()
