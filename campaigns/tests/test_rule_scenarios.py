"""The rule (SPEC §4) end to end: facts loaded from the database, decided, written."""

import datetime

import pytest
import time_machine

from brands.tests.factories import BrandFactory
from campaigns.enforcement import CampaignFacts, decide_campaign_status
from campaigns.models import Campaign
from campaigns.tasks import check_all_campaign_budgets
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)
YESTERDAY = datetime.date(2026, 11, 23)
LAST_MONTH = datetime.date(2026, 10, 31)
TOMORROW = datetime.date(2026, 11, 25)

S = Campaign.Status
R = Campaign.PauseReason

# Each scenario: brand budgets, the campaign's budgets and spend rows (date, daily,
# month-to-date), a sibling campaign's rows, and the status the rule must give.
SCENARIOS = {
    "no budgets, any spend: active": dict(rows=[(TODAY, 9999, 9999)], expect=(S.ACTIVE, "")),
    "daily spend exactly at the budget pauses (>=)": dict(
        campaign={"daily_budget": 100}, rows=[(TODAY, 100, 100)], expect=(S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    ),
    "daily spend a cent below the budget stays active": dict(
        campaign={"daily_budget": 100}, rows=[(TODAY, "99.99", "99.99")], expect=(S.ACTIVE, "")
    ),
    "zero daily budget is reached at once": dict(
        campaign={"daily_budget": 0}, rows=[], expect=(S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    ),
    "zero brand monthly budget is reached at once": dict(
        brand={"monthly_budget": 0}, rows=[], expect=(S.PAUSED_BY_SYSTEM, R.BRAND_MONTHLY_BUDGET)
    ),
    "monthly spend at the budget pauses": dict(
        campaign={"monthly_budget": 500}, rows=[(TODAY, 10, 500)], expect=(S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)
    ),
    "brand daily total over all campaigns pauses": dict(
        brand={"daily_budget": 150},
        rows=[(TODAY, 50, 50)],
        sibling_rows=[(TODAY, 100, 100)],
        expect=(S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET),
    ),
    "brand daily total counts a user-paused sibling": dict(
        brand={"daily_budget": 150},
        rows=[(TODAY, 50, 50)],
        sibling_rows=[(TODAY, 100, 100)],
        sibling_status=S.PAUSED_BY_USER,
        expect=(S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET),
    ),
    "brand daily total below the budget stays active": dict(
        brand={"daily_budget": 150},
        rows=[(TODAY, 50, 50)],
        sibling_rows=[(TODAY, "99.99", "99.99")],
        expect=(S.ACTIVE, ""),
    ),
    "brand monthly total pauses": dict(
        brand={"monthly_budget": 1000},
        rows=[(TODAY, 10, 400)],
        sibling_rows=[(YESTERDAY, 10, 600)],
        expect=(S.PAUSED_BY_SYSTEM, R.BRAND_MONTHLY_BUDGET),
    ),
    "precedence: brand monthly before everything": dict(
        brand={"monthly_budget": 100, "daily_budget": 10},
        campaign={"monthly_budget": 100, "daily_budget": 10, "is_dayparting_enabled": True},
        rows=[(TODAY, 100, 100)],
        expect=(S.PAUSED_BY_SYSTEM, R.BRAND_MONTHLY_BUDGET),
    ),
    "precedence: campaign monthly before brand daily": dict(
        brand={"daily_budget": 10},
        campaign={"monthly_budget": 100, "daily_budget": 10},
        rows=[(TODAY, 100, 100)],
        expect=(S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET),
    ),
    "precedence: brand daily before campaign daily": dict(
        brand={"daily_budget": 10},
        campaign={"daily_budget": 10},
        rows=[(TODAY, 100, 100)],
        expect=(S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET),
    ),
    "precedence: daily budget before dayparting": dict(
        campaign={"daily_budget": 10, "is_dayparting_enabled": True},
        rows=[(TODAY, 100, 100)],
        expect=(S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET),
    ),
    "dayparting enabled with no windows is never inside": dict(
        campaign={"is_dayparting_enabled": True}, rows=[], expect=(S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    ),
    "month-to-date comes from the latest row of the month when today has none": dict(
        campaign={"monthly_budget": 500, "daily_budget": 10},
        rows=[(datetime.date(2026, 11, 20), 50, 450), (datetime.date(2026, 11, 22), 50, 500)],
        expect=(S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET),
    ),
    "no row today means daily spend 0": dict(
        campaign={"daily_budget": 10}, rows=[(YESTERDAY, 50, 50)], expect=(S.ACTIVE, "")
    ),
    "last month's rows do not count": dict(
        campaign={"monthly_budget": 500},
        brand={"monthly_budget": 500},
        rows=[(LAST_MONTH, 900, 9000)],
        expect=(S.ACTIVE, ""),
    ),
    "rows dated after today are ignored": dict(
        campaign={"monthly_budget": 500, "daily_budget": 100},
        rows=[(TODAY, 10, 10), (TOMORROW, 200, 600)],
        expect=(S.ACTIVE, ""),
    ),
    "an empty budget is no limit even with a zero budget elsewhere in the brand": dict(
        campaign={"daily_budget": None, "monthly_budget": None},
        rows=[(TODAY, 5000, 90000)],
        expect=(S.ACTIVE, ""),
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_rule_scenarios(scenario):
    brand = BrandFactory(**{k: money(v) for k, v in scenario.get("brand", {}).items()})
    campaign_fields = {k: (v if isinstance(v, bool) else money(v)) for k, v in scenario.get("campaign", {}).items()}
    campaign = CampaignFactory(brand=brand, **campaign_fields)
    sibling = CampaignFactory(brand=brand, status=scenario.get("sibling_status", S.ACTIVE))
    for day, daily, monthly in scenario["rows"]:
        add_spend(campaign, day, daily, monthly)
    for day, daily, monthly in scenario.get("sibling_rows", []):
        add_spend(sibling, day, daily, monthly)

    with time_machine.travel(NOW, tick=False):
        check_all_campaign_budgets()

    assert state(campaign) == scenario["expect"]


def test_system_pause_resumes_when_the_budget_is_raised():
    campaign = CampaignFactory(daily_budget=money(50))
    add_spend(campaign, TODAY, 60)
    with time_machine.travel(NOW, tick=False):
        check_all_campaign_budgets()
        assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
        Campaign.objects.filter(pk=campaign.pk).update(daily_budget=money(100))
        check_all_campaign_budgets()
    assert state(campaign) == (S.ACTIVE, "")


def test_decision_carries_the_figures_that_decided_it():
    facts = CampaignFacts(
        brand_timezone="Asia/Kolkata",
        brand_today=TODAY,
        brand_daily_budget=None,
        brand_monthly_budget=money(1000),
        brand_daily_spend=money("12.50"),
        brand_monthly_spend=money("1000.00"),
        campaign_daily_budget=money(75),
        campaign_monthly_budget=None,
        campaign_daily_spend=money("12.50"),
        campaign_monthly_spend=money("300.00"),
    )
    decision = decide_campaign_status(facts, now=NOW)
    assert (decision.status, decision.reason) == (S.PAUSED_BY_SYSTEM, R.BRAND_MONTHLY_BUDGET)
    assert decision.details["brand_monthly_spend"] == "1000.00"
    assert decision.details["brand_monthly_budget"] == "1000.00"  # two places, whatever the backend returned
    assert decision.details["local_date"] == "2026-11-24"
    assert decision.details["timezone"] == "Asia/Kolkata"
    assert decision.details["campaign_monthly_budget"] == ""
