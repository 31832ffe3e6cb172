"""Edits that warn: an admin save that makes the rule pause campaigns says how many and which.

These tests commit for real (transaction=True): the rule runs after the edit commits,
inside the same request, and the message reads back what it changed.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from brands.tests.factories import BrandFactory
from campaigns.enforcement import campaigns_enforce
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend
from campaigns.tests.test_admin import change_form_data, change_url
from dayparting.tests.factories import DaypartingScheduleFactory
from spend.models import Spend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)  # a Tuesday
TODAY = datetime.date(2026, 11, 24)


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message.message)) for message in response.context["messages"]]


def save(client, obj, **changes):
    url = change_url(obj)
    data = change_form_data(client.get(url))
    data.update(changes)
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return response


@time_machine.travel(NOW, tick=False)
def test_lowering_a_campaign_budget_warns_that_it_paused_the_campaign(staff_client):
    campaign = CampaignFactory(name="Lagoon", daily_budget=Decimal("100"))
    add_spend(campaign, TODAY, "60")

    response = save(staff_client, campaign, daily_budget="50.00")

    assert ("warning", "This change paused 1 campaign: “Lagoon” (Daily budget reached).") in messages_of(response)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)


@time_machine.travel(NOW, tick=False)
def test_lowering_a_brand_budget_names_the_first_ten_paused_and_counts_the_rest(staff_client):
    brand = BrandFactory(name="Acme", daily_budget=Decimal("1000"))
    for number in range(12):
        add_spend(CampaignFactory(brand=brand, name=f"C{number:02d}"), TODAY, "10")
    spared = CampaignFactory(brand=brand, name="By hand", status=S.PAUSED_BY_USER)

    response = save(staff_client, brand, daily_budget="100.00")

    [(level, text)] = [m for m in messages_of(response) if m[0] == "warning"]
    names = ", ".join(f"“C{n:02d}” (Brand daily budget reached)" for n in range(10))
    assert text.startswith(f"This change paused 12 campaigns: {names} and <a href=")
    assert text.endswith(">2 more</a>.")
    spared.refresh_from_db()
    assert spared.status == S.PAUSED_BY_USER


@time_machine.travel(NOW, tick=False)
def test_raising_a_budget_says_which_campaigns_it_resumed(staff_client):
    campaign = CampaignFactory(name="Lagoon", daily_budget=Decimal("50"))
    add_spend(campaign, TODAY, "60")
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    response = save(staff_client, campaign, daily_budget="80.00")

    assert ("info", "This change resumed 1 campaign: “Lagoon”.") in messages_of(response)
    assert not [m for m in messages_of(response) if m[0] == "warning"]


@time_machine.travel(NOW, tick=False)
def test_deleting_the_open_window_warns_that_it_paused_the_campaign(staff_client):
    campaign = CampaignFactory(name="Night owl", is_dayparting_enabled=True)
    window = DaypartingScheduleFactory(campaign=campaign, day_of_week=1, timezone="UTC")  # Tue 09-17: open
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    response = staff_client.post(
        reverse("admin:dayparting_daypartingschedule_delete", args=[window.pk]), {"post": "yes"}, follow=True
    )

    assert ("warning", "This change paused 1 campaign: “Night owl” (Outside dayparting windows).") in messages_of(
        response
    )


@time_machine.travel(NOW, tick=False)
def test_a_spend_correction_over_budget_warns(staff_client):
    campaign = CampaignFactory(name="Lagoon", daily_budget=Decimal("50"))
    row = add_spend(campaign, TODAY, "10")

    response = save(staff_client, Spend.objects.get(pk=row.pk), daily_spend="55.00", monthly_spend="55.00")

    assert ("warning", "This change paused 1 campaign: “Lagoon” (Daily budget reached).") in messages_of(response)


@time_machine.travel(NOW, tick=False)
def test_an_edit_that_pauses_nothing_warns_about_nothing(staff_client):
    campaign = CampaignFactory(daily_budget=Decimal("100"))
    add_spend(campaign, TODAY, "10")

    response = save(staff_client, campaign, daily_budget="90.00")

    assert [level for level, _ in messages_of(response)] == ["success"]


@time_machine.travel(NOW, tick=False)
def test_a_sweep_meanwhile_on_other_campaigns_is_not_reported(staff_client):
    campaign = CampaignFactory(daily_budget=Decimal("100"))
    elsewhere = CampaignFactory(daily_budget=Decimal("0"))
    campaigns_enforce(campaigns=Campaign.objects.filter(pk=elsewhere.pk), source="admin")

    response = save(staff_client, campaign, name="Renamed")

    assert [level for level, _ in messages_of(response)] == ["success"]
