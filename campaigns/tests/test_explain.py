"""Why a campaign has its status and until when (campaigns/explain.py), as the rule reads it.

Zones far from UTC on both sides, a midnight skipped by DST, months rolling over, and a
property test: at the forecast instant the rule itself says ACTIVE, a second before it does not.
"""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine

from brands.tests.factories import BrandFactory
from campaigns.enforcement import CampaignFacts, campaigns_enforce, decide_campaign_status
from campaigns.explain import BudgetUse, brands_overview, campaigns_explain, facts_at, resume_forecast
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend
from dayparting.tests.factories import DaypartingScheduleFactory
from dayparting.windows import Window

UTC = datetime.UTC
S = Campaign.Status
R = Campaign.PauseReason


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def explain(campaign: Campaign, now: datetime.datetime):
    return campaigns_explain(campaign_ids=[campaign.pk], now=now)[campaign.pk]


# --- Every reason, the rule's figures ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.postgres
@time_machine.travel(utc(2026, 11, 24, 12, 0), tick=False)
def test_every_reason_that_holds_is_listed_in_the_rules_order_and_the_first_is_the_rules():
    brand = BrandFactory(timezone="Europe/Berlin", monthly_budget=Decimal("100"))
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("20"), is_dayparting_enabled=True)
    # Tuesday 13:00 in Berlin; the only window is on Monday.
    DaypartingScheduleFactory(campaign=campaign, day_of_week=0, timezone="Europe/Berlin")
    add_spend(campaign, datetime.date(2026, 11, 24), "25", "120")
    campaigns_enforce(campaigns=Campaign.objects.all(), source="test")

    explanation = explain(campaign, utc(2026, 11, 24, 12, 0))

    assert explanation.reasons == (R.BRAND_MONTHLY_BUDGET, R.DAILY_BUDGET, R.DAYPARTING)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, explanation.reasons[0])
    assert not explanation.is_stale


@pytest.mark.django_db
@pytest.mark.postgres
@time_machine.travel(utc(2026, 11, 24, 23, 30), tick=False)
def test_figures_are_the_ones_the_rule_recorded_in_the_brands_calendar():
    # 23:30 UTC is already the 25th in Tokyo: yesterday's row does not count today.
    brand = BrandFactory(timezone="Asia/Tokyo", daily_budget=Decimal("100"))
    campaign = CampaignFactory(brand=brand, daily_budget=Decimal("50"), monthly_budget=Decimal("900"))
    sibling = CampaignFactory(brand=brand, status=S.PAUSED_BY_USER)
    add_spend(campaign, datetime.date(2026, 11, 24), "40", "400")
    add_spend(campaign, datetime.date(2026, 11, 25), "50", "450")
    add_spend(sibling, datetime.date(2026, 11, 25), "60", "600")
    campaigns_enforce(campaigns=Campaign.objects.filter(pk=campaign.pk), source="test")
    details = CampaignStatusChange.objects.get(campaign=campaign).details

    explanation = explain(campaign, utc(2026, 11, 24, 23, 30))

    assert explanation.facts.brand_today == datetime.date(2026, 11, 25)
    assert explanation.campaign_today == BudgetUse(Decimal("50.00"), Decimal("50.00"))
    assert explanation.campaign_month == BudgetUse(Decimal("450.00"), Decimal("900.00"))
    # The brand's figures include the user-paused sibling, as the rule's do.
    assert explanation.brand_today.spend == Decimal("110.00")
    assert details["campaign_daily_spend"] == f"{explanation.campaign_today.spend:.2f}"
    assert details["brand_daily_spend"] == f"{explanation.brand_today.spend:.2f}"
    assert details["brand_monthly_spend"] == f"{explanation.brand_month.spend:.2f}"
    assert explanation.reasons == (R.BRAND_DAILY_BUDGET, R.DAILY_BUDGET)
    assert (explanation.campaign_today.level, explanation.campaign_month.level) == ("over", "ok")
    assert explanation.campaign_today.percent == Decimal("100")


def test_budget_use_is_amber_from_80_percent_and_red_once_reached():
    assert BudgetUse(Decimal("79.99"), Decimal("100")).level == "ok"
    assert BudgetUse(Decimal("80"), Decimal("100")).level == "warn"
    assert BudgetUse(Decimal("99.99"), Decimal("100")).level == "warn"
    assert BudgetUse(Decimal("100"), Decimal("100")).level == "over"
    assert BudgetUse(Decimal("0"), Decimal("0")).level == "over"  # a budget of 0 is reached at once
    assert BudgetUse(Decimal("5"), None).level == "none"
    assert BudgetUse(Decimal("150"), Decimal("100")).percent == Decimal("150")


# --- When it resumes ---------------------------------------------------------------------------


def facts(**overrides) -> CampaignFacts:
    values = dict(
        brand_timezone="UTC",
        brand_today=datetime.date(2026, 11, 24),
        brand_daily_budget=None,
        brand_monthly_budget=None,
        brand_daily_spend=Decimal("0"),
        brand_monthly_spend=Decimal("0"),
        campaign_daily_budget=None,
        campaign_monthly_budget=None,
        campaign_daily_spend=Decimal("0"),
        campaign_monthly_spend=Decimal("0"),
    )
    values.update(overrides)
    return CampaignFacts(**values)


def paused_resume(f: CampaignFacts, now: datetime.datetime):
    return resume_forecast(f, status=S.PAUSED_BY_SYSTEM, now=now)


@pytest.mark.parametrize(
    ("zone", "now", "midnight"),
    [
        # UTC+14: local midnight of the 25th is 10:00 UTC on the 24th.
        ("Pacific/Kiritimati", utc(2026, 11, 24, 9, 0), utc(2026, 11, 24, 10, 0)),
        # UTC-11: the 24th there ends at 11:00 UTC on the 25th.
        ("Pacific/Pago_Pago", utc(2026, 11, 24, 20, 0), utc(2026, 11, 25, 11, 0)),
        # UTC+5:45.
        ("Asia/Kathmandu", utc(2026, 11, 24, 12, 0), utc(2026, 11, 24, 18, 15)),
    ],
)
def test_daily_pause_resumes_at_the_brands_next_local_midnight(zone, now, midnight):
    from budget_system.timezones import local_date

    f = facts(
        brand_timezone=zone,
        brand_today=local_date(now, zone),
        campaign_daily_budget=Decimal("10"),
        campaign_daily_spend=Decimal("10"),
    )
    resume = paused_resume(f, now)
    assert (resume.at, resume.how) == (midnight, "at local midnight (a new day)")


def test_monthly_pause_resumes_on_the_first_in_the_brands_zone():
    # 20:00 UTC on 30 Nov is still November in Los Angeles; 1 Dec 00:00 PST is 08:00 UTC.
    now = utc(2026, 11, 30, 20, 0)
    f = facts(
        brand_timezone="America/Los_Angeles",
        brand_today=datetime.date(2026, 11, 30),
        brand_monthly_budget=Decimal("1000"),
        brand_monthly_spend=Decimal("1200"),
        campaign_daily_budget=Decimal("50"),
        campaign_daily_spend=Decimal("60"),
    )
    resume = paused_resume(f, now)
    assert (resume.at, resume.how) == (utc(2026, 12, 1, 8, 0), "on the 1st (a new month)")


def test_daily_pause_with_no_window_after_midnight_resumes_when_the_next_window_opens():
    # Tuesday; the budget clears at midnight, but the only window is Thursday 09:00 Tokyo.
    now = utc(2026, 11, 24, 6, 0)
    window = Window(3, datetime.time(9), datetime.time(17), "Asia/Tokyo")
    f = facts(
        brand_timezone="Asia/Tokyo",
        brand_today=datetime.date(2026, 11, 24),
        campaign_daily_budget=Decimal("10"),
        campaign_daily_spend=Decimal("12"),
        is_dayparting_enabled=True,
        windows=(window,),
    )
    resume = paused_resume(f, now)
    assert (resume.at, resume.how) == (utc(2026, 11, 26, 0, 0), "when a window opens")


def test_a_budget_of_zero_resumes_only_when_a_budget_is_raised():
    f = facts(campaign_monthly_budget=Decimal("0"))
    assert paused_resume(f, utc(2026, 11, 24, 12)).at is None
    assert paused_resume(f, utc(2026, 11, 24, 12)).how == "when a budget is raised"


def test_dayparting_without_windows_never_resumes_by_itself():
    f = facts(is_dayparting_enabled=True)
    resume = paused_resume(f, utc(2026, 11, 24, 12))
    assert resume.how == "when a dayparting window is added or dayparting is turned off"


def test_user_pause_and_active_campaigns_have_no_system_resume():
    blocked = facts(campaign_daily_budget=Decimal("0"))
    assert resume_forecast(blocked, status=S.PAUSED_BY_USER, now=utc(2026, 11, 24)).how == "when someone resumes it"
    assert resume_forecast(facts(), status=S.ACTIVE, now=utc(2026, 11, 24)).how == ""


def test_a_system_pause_nothing_blocks_any_more_resumes_at_the_next_check():
    resume = paused_resume(facts(), utc(2026, 11, 24, 12))
    assert (resume.at, resume.how) == (None, "at the next check: nothing blocks it now")


def test_a_midnight_skipped_by_dst_resumes_at_the_jump():
    # Chile springs forward at 24:00 on Saturday 5 Sep 2026: Sunday starts at 01:00 (04:00 UTC).
    now = utc(2026, 9, 5, 20, 0)
    f = facts(
        brand_timezone="America/Santiago",
        brand_today=datetime.date(2026, 9, 5),
        campaign_daily_budget=Decimal("10"),
        campaign_daily_spend=Decimal("10"),
    )
    resume = paused_resume(f, now)
    assert resume.at == utc(2026, 9, 6, 4, 0)
    assert resume.at.astimezone(datetime.timezone(datetime.timedelta(hours=-3))).hour == 1


def test_a_daily_pause_on_a_fall_back_night_resumes_at_local_midnight():
    # New York falls back on Sunday 1 Nov 2026; Monday's midnight is EST (05:00 UTC).
    now = utc(2026, 11, 1, 12, 0)
    f = facts(
        brand_timezone="America/New_York",
        brand_today=datetime.date(2026, 11, 1),
        brand_daily_budget=Decimal("5"),
        brand_daily_spend=Decimal("5"),
    )
    assert paused_resume(f, now).at == utc(2026, 11, 2, 5, 0)


ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kathmandu", "Pacific/Auckland", "Pacific/Kiritimati"]


def random_facts(rng: random.Random, now: datetime.datetime) -> CampaignFacts:
    from budget_system.timezones import local_date

    zone = rng.choice(ZONES)

    def budget():
        return rng.choice([None, Decimal("0"), Decimal("50"), Decimal("100")])

    def spend():
        return Decimal(rng.choice(["0", "20", "50", "99.99", "100", "150"]))

    windows = tuple(
        Window(
            rng.randrange(7),
            datetime.time(rng.randrange(24), rng.choice([0, 30])),
            datetime.time(rng.randrange(24), rng.choice([0, 30])),
            rng.choice(ZONES),
        )
        for _ in range(rng.randrange(4))
    )
    return facts(
        brand_timezone=zone,
        brand_today=local_date(now, zone),
        brand_daily_budget=budget(),
        brand_monthly_budget=budget(),
        brand_daily_spend=spend(),
        brand_monthly_spend=spend() * 10,
        campaign_daily_budget=budget(),
        campaign_monthly_budget=budget(),
        campaign_daily_spend=spend(),
        campaign_monthly_spend=spend() * 10,
        is_dayparting_enabled=rng.random() < 0.5,
        windows=windows,
    )


@pytest.mark.parametrize("seed", range(300))
def test_at_the_forecast_the_rule_says_active_and_a_second_before_it_does_not(seed):
    rng = random.Random(seed)
    # Around DST nights and month ends as well as ordinary days.
    now = rng.choice([utc(2026, 3, 28, 22, 17), utc(2026, 10, 24, 23, 50), utc(2026, 11, 30, 19, 5)])
    now += datetime.timedelta(minutes=rng.randrange(0, 3000))
    f = random_facts(rng, now)
    reasons_now = decide_campaign_status(f, now=now).reason
    resume = paused_resume(f, now)
    if not reasons_now:
        assert resume.at is None
        return
    if resume.at is None:
        assert "raised" in resume.how or "window is added" in resume.how
        return
    assert decide_campaign_status(facts_at(f, resume.at), now=resume.at).reason == ""
    before = resume.at - datetime.timedelta(seconds=1)
    assert decide_campaign_status(facts_at(f, before), now=before).reason != ""


# --- Brands ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.postgres
@time_machine.travel(utc(2026, 11, 24, 12, 0), tick=False)
def test_brand_overview_sums_every_campaign_and_counts_them_by_status():
    brand = BrandFactory(daily_budget=Decimal("100"), monthly_budget=Decimal("1000"))
    other = BrandFactory()
    active = CampaignFactory(brand=brand)
    by_user = CampaignFactory(brand=brand, status=S.PAUSED_BY_USER)
    CampaignFactory(brand=brand, status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    add_spend(active, datetime.date(2026, 11, 24), "30", "300")
    add_spend(by_user, datetime.date(2026, 11, 24), "55", "550")

    overviews = brands_overview(brand_ids=[brand.pk, other.pk], now=utc(2026, 11, 24, 12, 0))

    assert overviews[brand.pk].today == BudgetUse(Decimal("85.00"), Decimal("100.00"))
    assert overviews[brand.pk].today.level == "warn"
    assert overviews[brand.pk].month.spend == Decimal("850.00")
    assert overviews[brand.pk].campaigns_by_status == {S.ACTIVE: 1, S.PAUSED_BY_USER: 1, S.PAUSED_BY_SYSTEM: 1}
    assert overviews[other.pk].campaigns_by_status == {}
    assert overviews[other.pk].today == BudgetUse(Decimal("0.00"), None)


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_brand_with_an_unknown_timezone_is_left_out_as_the_rule_leaves_it():
    campaign = CampaignFactory()
    from brands.models import Brand

    Brand.objects.filter(pk=campaign.brand_id).update(timezone="Mars/Olympus_Mons")
    assert campaigns_explain(campaign_ids=[campaign.pk], now=utc(2026, 11, 24)) == {}
