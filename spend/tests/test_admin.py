"""The spend admin: list at a fixed query cost, Spend.clean's messages in the form, and
the brand's campaigns re-decided after a spend edit or deletion."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.test_admin import AdminWorld, assert_queries_independent_of_size, change_form_data, change_url
from spend.models import Spend
from spend.tests.factories import SpendFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)


def spend_form(staff_client, **values) -> dict:
    data = change_form_data(staff_client.get(reverse("admin:spend_spend_add")))
    data.update({name: str(value) for name, value in values.items()})
    return data


def test_spend_pages_cost_the_same_queries_at_3_and_60_rows(staff_client, staff_user, django_assert_max_num_queries):
    world = AdminWorld(staff_user)
    world.grow(3)
    changelist = reverse("admin:spend_spend_changelist")
    urls = [
        changelist,
        f"{changelist}?campaign__brand__id__exact={world.brand.pk}",
        f"{changelist}?campaign__id__exact={world.campaign.pk}&date__gte=2026-11-01",
        f"{changelist}?date__year=2026&date__month=11",
        f"{changelist}?q=focus",
        reverse("admin:spend_spend_add"),
        change_url(world.first(Spend)),
    ]
    assert_queries_independent_of_size(
        staff_client, urls, lambda: world.grow(57), most=10, django_assert_max_num_queries=django_assert_max_num_queries
    )


def test_spend_list_filters_by_brand(staff_client):
    mine = SpendFactory(campaign=CampaignFactory(brand=BrandFactory(name="Acme")))
    SpendFactory(campaign=CampaignFactory(brand=BrandFactory(name="Other")))

    response = staff_client.get(
        reverse("admin:spend_spend_changelist") + f"?campaign__brand__id__exact={mine.campaign.brand_id}"
    )

    assert list(response.context["cl"].result_list) == [mine]
    assert f'<option value="{mine.campaign.brand_id}" selected>Acme</option>' in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_monthly_spend_below_daily_spend_is_refused_with_both_values(staff_client):
    campaign = CampaignFactory()
    data = spend_form(staff_client, campaign=campaign.pk, date=TODAY, daily_spend="50.00", monthly_spend="40.00")

    response = staff_client.post(reverse("admin:spend_spend_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["monthly_spend"] == [
        "monthly_spend 40.00 is less than daily_spend 50.00."
    ]
    assert not Spend.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_date_after_the_brands_today_is_refused_with_the_date(staff_client):
    # At 12:00 UTC it is already the 25th in Kiritimati (UTC+14), but not in Los Angeles.
    ahead = CampaignFactory(brand=BrandFactory(timezone="Pacific/Kiritimati"))
    behind = CampaignFactory(brand=BrandFactory(timezone="America/Los_Angeles"))
    tomorrow = datetime.date(2026, 11, 25)

    response = staff_client.post(
        reverse("admin:spend_spend_add"),
        spend_form(staff_client, campaign=behind.pk, date=tomorrow, daily_spend=1, monthly_spend=1),
    )
    assert response.context["adminform"].form.errors["date"] == [
        "date 2026-11-25 is after today (2026-11-24) in the brand's timezone America/Los_Angeles."
    ]
    assert not Spend.objects.exists()

    response = staff_client.post(
        reverse("admin:spend_spend_add"),
        spend_form(staff_client, campaign=ahead.pk, date=tomorrow, daily_spend=1, monthly_spend=1),
    )
    assert response.status_code == 302
    assert Spend.objects.get().campaign == ahead


@time_machine.travel(NOW, tick=False)
def test_negative_spend_is_refused(staff_client):
    data = spend_form(staff_client, campaign=CampaignFactory().pk, date=TODAY, daily_spend="-1.00", monthly_spend="0")
    response = staff_client.post(reverse("admin:spend_spend_add"), data)
    assert response.status_code == 200
    assert "daily_spend" in response.context["adminform"].form.errors
    assert not Spend.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_spend_added_in_the_admin_pauses_the_whole_brand_after_commit(staff_client, django_capture_on_commit_callbacks):
    brand = BrandFactory(daily_budget=Decimal("100"))
    spender, sibling = CampaignFactory(brand=brand), CampaignFactory(brand=brand)
    data = spend_form(staff_client, campaign=spender.pk, date=TODAY, daily_spend="100.00", monthly_spend="100.00")

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(reverse("admin:spend_spend_add"), data).status_code == 302

    for campaign in (spender, sibling):
        campaign.refresh_from_db()
        assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)
    assert set(CampaignStatusChange.objects.values_list("source", flat=True)) == {"admin"}


@time_machine.travel(NOW, tick=False)
def test_correcting_spend_in_the_admin_resumes_the_campaign(staff_client, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(daily_budget=Decimal("100"), status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    spend = SpendFactory(campaign=campaign, date=TODAY, daily_spend=Decimal("100"))
    data = change_form_data(staff_client.get(change_url(spend)))
    data.update(daily_spend="10.00", monthly_spend="10.00")

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(change_url(spend), data).status_code == 302

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.ACTIVE, "")


@time_machine.travel(NOW, tick=False)
def test_deleting_spend_in_the_admin_resumes_the_campaign(staff_client, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(daily_budget=Decimal("100"), status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    spend = SpendFactory(campaign=campaign, date=TODAY, daily_spend=Decimal("100"))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:spend_spend_changelist"),
            {"action": "delete_selected", "_selected_action": [spend.pk], "post": "yes"},
        )

    assert response.status_code == 302
    assert not Spend.objects.exists()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.ACTIVE, "")
