"""The brand admin: list with campaign counts, timezone checked by name, campaigns inline,
and the rule re-applied to the brand's campaigns after a budget or timezone change."""

import datetime
from decimal import Decimal

import factory
import pytest
import time_machine
from django.urls import reverse

from brands.admin import BrandAdmin
from brands.models import Brand
from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.test_admin import AdminWorld, assert_queries_independent_of_size, change_form_data, change_url
from spend.tests.factories import SpendFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
# 23:30 UTC on the 24th is already the 25th in Tokyo.
LATE_EVENING_UTC = datetime.datetime(2026, 11, 24, 23, 30, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)


def test_brand_pages_cost_the_same_queries_at_3_and_60_rows(staff_client, staff_user, django_assert_max_num_queries):
    world = AdminWorld(staff_user)
    world.grow(3)
    changelist = reverse("admin:brands_brand_changelist")
    urls = [changelist, f"{changelist}?q=brand&o=-5", reverse("admin:brands_brand_add"), change_url(world.brand)]
    assert_queries_independent_of_size(
        staff_client, urls, lambda: world.grow(57), most=12, django_assert_max_num_queries=django_assert_max_num_queries
    )


def test_brand_list_counts_campaigns_and_links_to_them(staff_client):
    busy = BrandFactory(name="Busy")
    CampaignFactory.create_batch(3, brand=busy)
    BrandFactory(name="Quiet")

    response = staff_client.get(reverse("admin:brands_brand_changelist"))

    assert {b.name: b.campaign_count for b in response.context["cl"].result_list} == {"Busy": 3, "Quiet": 0}
    campaigns_of_busy = f"{reverse('admin:campaigns_campaign_changelist')}?brand__id__exact={busy.pk}"
    assert f'<a href="{campaigns_of_busy}">3 campaigns</a>' in response.content.decode()


def test_an_unknown_timezone_is_refused_with_its_name(staff_client):
    add_url = reverse("admin:brands_brand_add")
    data = change_form_data(staff_client.get(add_url))
    data.update(name="Acme", timezone="Mars/Olympus_Mons")

    response = staff_client.post(add_url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["timezone"] == [
        "'Mars/Olympus_Mons' is not a known IANA timezone name (for example 'UTC' or 'Europe/Paris')."
    ]
    assert not Brand.objects.exists()


def test_the_timezone_box_suggests_iana_names(staff_client):
    page = staff_client.get(reverse("admin:brands_brand_add")).content.decode()
    assert 'list="iana-timezone-names"' in page
    assert '<option value="America/New_York">' in page and '<option value="Asia/Kathmandu">' in page


def test_brand_page_shows_the_first_50_campaigns_with_status_read_only(staff_client):
    brand = BrandFactory()
    CampaignFactory.create_batch(55, brand=brand)
    response = staff_client.get(change_url(brand))

    (inline,) = response.context["inline_admin_formsets"]
    assert len(inline.formset.forms) == 50
    assert "status" not in inline.formset.forms[0].fields and "pause_reason" not in inline.formset.forms[0].fields
    assert "All 55 campaigns of this brand" in response.content.decode()


def test_an_edit_to_the_last_campaign_shown_is_saved_when_a_new_one_sorts_in_before_it(staff_client):
    brand = BrandFactory()
    CampaignFactory.create_batch(50, brand=brand, name=factory.Sequence(lambda n: f"c{n:03}"))
    last_shown = Campaign.objects.filter(brand=brand).order_by("name").last()
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    assert data["campaigns-49-id"] == last_shown.pk
    CampaignFactory(brand=brand, name="a new campaign, first by name")
    data["campaigns-49-daily_budget"] = "42.00"

    assert staff_client.post(url, data).status_code == 302

    last_shown.refresh_from_db()
    assert last_shown.daily_budget == Decimal("42.00")


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_editing_a_campaign_budget_on_the_brand_page_keeps_the_status_the_system_set(
    staff_client, django_capture_on_commit_callbacks
):
    brand = BrandFactory()
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("100"))
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    # The system pauses it while the page is open; ops then raise its budget.
    Campaign.objects.filter(pk=campaign.pk).update(status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    data["campaigns-0-daily_budget"] = "150.00"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(url, data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.daily_budget, campaign.status, campaign.pause_reason) == (
        Decimal("150.00"),
        S.PAUSED_BY_SYSTEM,
        R.DAILY_BUDGET,
    )
    assert len(callbacks) == 1  # and the rule is applied to the brand once this commits


def test_a_pause_written_while_the_brand_page_saves_is_kept(staff_client, monkeypatch):
    brand = BrandFactory()
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("100"))
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    data["campaigns-0-daily_budget"] = "150.00"
    save_model = BrandAdmin.save_model

    def system_pauses_meanwhile(self, request, obj, form, change):
        # After the inline rows were read and validated for this request, before they are saved.
        Campaign.objects.filter(pk=campaign.pk).update(status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
        return save_model(self, request, obj, form, change)

    monkeypatch.setattr(BrandAdmin, "save_model", system_pauses_meanwhile)
    assert staff_client.post(url, data).status_code == 302

    campaign.refresh_from_db()
    assert (campaign.daily_budget, campaign.status, campaign.pause_reason) == (
        Decimal("150.00"),
        S.PAUSED_BY_SYSTEM,
        R.DAILY_BUDGET,
    )


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_changing_the_brand_timezone_re_decides_its_campaigns_after_commit(
    staff_client, django_capture_on_commit_callbacks
):
    brand = BrandFactory(timezone="UTC")
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("100"))
    # Reported for the 25th: not yet today in UTC, already today in Tokyo.
    SpendFactory(campaign=campaign, date=datetime.date(2026, 11, 25), daily_spend=Decimal("100"))
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    data["timezone"] = "Asia/Tokyo"

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, data).status_code == 302

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.source, change.details["timezone"], change.details["local_date"]) == (
        "admin",
        "Asia/Tokyo",
        "2026-11-25",
    )


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_raising_a_brand_budget_resumes_its_campaigns_and_spares_user_pauses(
    staff_client, django_capture_on_commit_callbacks
):
    brand = BrandFactory(daily_budget=Decimal("100"))
    paused = [
        CampaignFactory(brand=brand, status=S.PAUSED_BY_SYSTEM, pause_reason=R.BRAND_DAILY_BUDGET) for _ in range(2)
    ]
    by_user = CampaignFactory(brand=brand, status=S.PAUSED_BY_USER)
    SpendFactory(campaign=paused[0], date=TODAY, daily_spend=Decimal("100"))
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    data["daily_budget"] = "1000.00"

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, data).status_code == 302

    assert set(Campaign.objects.filter(pk__in=[c.pk for c in paused]).values_list("status", "pause_reason")) == {
        (S.ACTIVE, "")
    }
    by_user.refresh_from_db()
    assert by_user.status == S.PAUSED_BY_USER


def test_renaming_a_brand_does_not_re_decide_its_campaigns(staff_client, django_capture_on_commit_callbacks):
    brand = BrandFactory(name="Old name")
    CampaignFactory(brand=brand)
    url = change_url(brand)
    data = change_form_data(staff_client.get(url))
    data["name"] = "New name"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert staff_client.post(url, data).status_code == 302

    assert callbacks == []
    brand.refresh_from_db()
    assert brand.name == "New name"
