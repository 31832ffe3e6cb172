"""Deleting keeps history: ops delete campaigns and brands from the admin, the audit rows
stay readable with the names as they were, and the rule re-decides the brand's others."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from brands.tests.factories import BrandFactory
from campaigns.enforcement import campaigns_enforce, campaigns_pause
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state
from campaigns.tests.test_admin import change_form_data, change_url

# transaction=True: the admin applies the rule after its edit commits.
pytestmark = [pytest.mark.django_db(transaction=True)]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def brand_over_its_budget():
    """Two campaigns whose spend together reaches the brand's daily budget: both paused."""
    brand = BrandFactory(name="Northwind", daily_budget=money(100))
    doomed = CampaignFactory(brand=brand, name="Doomed")
    sibling = CampaignFactory(brand=brand, name="Sibling")
    add_spend(doomed, TODAY, 70)
    add_spend(sibling, TODAY, 40)
    campaigns_enforce(campaigns=Campaign.objects.all(), source="check_all_campaign_budgets")
    assert state(sibling) == (S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)
    return brand, doomed, sibling


def history_of(campaign_id: int) -> list[tuple[str, str, str]]:
    return list(
        CampaignStatusChange.objects.filter(campaign_id=campaign_id)
        .order_by("id")
        .values_list("campaign_name", "brand_name", "new_status")
    )


def test_deleting_from_the_list_keeps_the_history_and_resumes_the_brands_other_campaigns(
    staff_client, brand_over_its_budget
):
    _, doomed, sibling = brand_over_its_budget
    response = staff_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Campaign.objects.filter(pk=doomed.pk).exists()
    assert history_of(doomed.pk) == [("Doomed", "Northwind", S.PAUSED_BY_SYSTEM)]
    # Its 70.00 no longer counts: the brand is at 40.00 of 100.00.
    assert state(sibling) == (S.ACTIVE, "")
    resumed = CampaignStatusChange.objects.filter(campaign=sibling).latest()
    assert (resumed.source, resumed.new_status) == ("admin", S.ACTIVE)


def test_deleting_from_the_campaign_page_keeps_the_history(staff_client, brand_over_its_budget):
    _, doomed, sibling = brand_over_its_budget
    delete_url = reverse("admin:campaigns_campaign_delete", args=[doomed.pk])
    assert staff_client.get(delete_url).status_code == 200  # no "permission to delete status changes" refusal
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert history_of(doomed.pk) == [("Doomed", "Northwind", S.PAUSED_BY_SYSTEM)]
    assert state(sibling) == (S.ACTIVE, "")


def test_deleting_on_the_brand_pages_inline_keeps_the_history_and_re_decides_the_brand(
    staff_client, brand_over_its_budget
):
    brand, doomed, sibling = brand_over_its_budget
    page = staff_client.get(change_url(brand))
    data = change_form_data(page)
    inline = next(i.formset for i in page.context["inline_admin_formsets"] if i.formset.model is Campaign)
    row = next(form for form in inline.forms if form.instance.pk == doomed.pk)
    data[row.add_prefix("DELETE")] = "on"
    response = staff_client.post(change_url(brand), data)
    assert response.status_code == 302, response.content[:2000]
    assert not Campaign.objects.filter(pk=doomed.pk).exists()
    assert history_of(doomed.pk) == [("Doomed", "Northwind", S.PAUSED_BY_SYSTEM)]
    assert state(sibling) == (S.ACTIVE, "")


def test_deleting_a_brand_keeps_its_campaigns_history_readable(staff_client, brand_over_its_budget):
    brand, doomed, sibling = brand_over_its_budget
    delete_url = reverse("admin:brands_brand_delete", args=[brand.pk])
    assert staff_client.get(delete_url).status_code == 200
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Campaign.objects.exists()
    assert {row[:2] for row in history_of(doomed.pk) + history_of(sibling.pk)} == {
        ("Doomed", "Northwind"),
        ("Sibling", "Northwind"),
    }
    audit_list = staff_client.get(reverse("admin:campaigns_campaignstatuschange_changelist"))
    assert audit_list.status_code == 200
    assert "Doomed" in audit_list.content.decode()


def test_deleting_a_user_keeps_who_did_it(staff_client):
    ops1 = get_user_model().objects.create_user("ops1")
    campaign = CampaignFactory(name="Paused by ops1")
    campaigns_pause(campaigns=Campaign.objects.filter(pk=campaign.pk), user=ops1, source="admin")
    ops1.delete()
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.user_id, change.username, change.actor) == (None, "ops1", "user")
