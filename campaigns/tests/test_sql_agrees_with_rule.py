"""The SQL engine and the pure rule agree on every campaign (SPEC §11).

Hypothesis builds small worlds (brands in zones at ±14 h, half-hour and 45-minute
offsets, with DST; budgets near the spend; spend histories across month boundaries,
rows in the future; windows overnight, whole-day, in the DST hour, in other zones)
and instants near DST changes and local midnights. For each world the SQL engine
decides and writes every campaign in one statement, and each stored result must be
what `decide_campaign_status` says from the facts the reference engine loads, with the
same audit details.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brands.models import Brand
from budget_system.timezones import local_date
from campaigns.enforcement import Scope, Selection, decide_campaign_status, selection_enforce, selection_preview
from campaigns.enforcement_reference import load_campaign_facts
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from spend.models import Spend

pytestmark = [pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason

ZONES = (
    "UTC",
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
    "Etc/GMT+12",  # -12
    "Asia/Kolkata",  # +5:30
    "Asia/Kathmandu",  # +5:45
    "Australia/Eucla",  # +8:45
    "Pacific/Chatham",  # +12:45 / +13:45 with DST
    "America/St_Johns",  # -3:30 with DST
    "Australia/Lord_Howe",  # a half-hour DST shift
    "America/New_York",
    "Europe/London",
)

# Instants near what makes time hard: DST changes in the zones above, month ends.
PIVOTS = tuple(
    datetime.datetime.fromisoformat(text)
    for text in (
        "2026-03-08T07:00:00+00:00",  # New York springs forward
        "2026-11-01T06:00:00+00:00",  # New York falls back
        "2026-03-29T01:00:00+00:00",  # London springs forward
        "2026-10-25T01:00:00+00:00",  # London falls back
        "2026-04-04T15:00:00+00:00",  # Lord Howe and Chatham leave DST
        "2026-10-03T15:30:00+00:00",  # Lord Howe enters DST
        "2026-03-08T05:30:00+00:00",  # St John's springs forward
        "2026-01-31T10:00:00+00:00",  # the 1st begins in the far east
        "2026-02-28T23:30:00+00:00",  # a month's last UTC half hour
        "2026-12-31T11:59:00+00:00",  # New Year in Kiritimati
        "2026-06-15T12:00:00+00:00",
    )
)
WALL_TIMES = tuple(
    datetime.time(h, m) for h, m in ((0, 0), (1, 0), (1, 30), (2, 0), (2, 30), (3, 0), (12, 0), (22, 0), (23, 45))
)
MONEY = st.integers(min_value=0, max_value=300).map(
    lambda cents: Decimal(cents) / 4
)  # quarters, to meet budgets exactly
BUDGET = st.one_of(st.none(), MONEY)
REASONS = [R.BRAND_MONTHLY_BUDGET, R.MONTHLY_BUDGET, R.BRAND_DAILY_BUDGET, R.DAILY_BUDGET, R.DAYPARTING]

instants = st.builds(
    lambda pivot, minutes: pivot + datetime.timedelta(minutes=minutes),
    st.sampled_from(PIVOTS),
    st.integers(min_value=-36 * 60, max_value=36 * 60),
)
stored_states = st.one_of(
    st.just((S.ACTIVE, "")),
    st.just((S.PAUSED_BY_USER, "")),
    st.sampled_from(REASONS).map(lambda reason: (S.PAUSED_BY_SYSTEM, reason)),
)


def windows(now):
    """Windows anywhere in the week, and windows that open or close right at `now`."""

    @st.composite
    def window(draw):
        zone = draw(st.sampled_from(ZONES))
        local = now.astimezone(ZoneInfo(zone))
        edge = st.sampled_from(
            [
                (local + datetime.timedelta(minutes=shift)).time().replace(second=0, microsecond=0)
                for shift in (-1, 0, 1)
            ]
        )
        any_time = st.one_of(st.sampled_from(WALL_TIMES), st.times().map(lambda t: t.replace(second=0, microsecond=0)))
        start, end = draw(
            st.one_of(st.tuples(edge, any_time), st.tuples(any_time, edge), st.tuples(any_time, any_time))
        )
        day = draw(st.one_of(st.sampled_from([local.weekday(), (local.weekday() - 1) % 7]), st.integers(0, 6)))
        return day, start, end, zone

    return st.lists(window(), max_size=3)


def campaigns(now):
    return st.fixed_dictionaries(
        {
            "daily_budget": BUDGET,
            "monthly_budget": BUDGET,
            "state": stored_states,
            "dayparting": st.booleans(),
            "windows": windows(now),
            # Spend rows by days before the brand's today (negative: in the future): daily, month-to-date extra.
            "spend": st.dictionaries(st.integers(min_value=-2, max_value=40), st.tuples(MONEY, MONEY), max_size=4),
        }
    )


def brands(now):
    return st.fixed_dictionaries(
        {
            "timezone": st.sampled_from(ZONES),
            "daily_budget": BUDGET,
            "monthly_budget": BUDGET,
            "campaigns": st.lists(campaigns(now), min_size=1, max_size=4),
        }
    )


worlds = instants.flatmap(lambda now: st.tuples(st.just(now), st.lists(brands(now), min_size=1, max_size=3)))


def build(world) -> None:
    now, brand_specs = world
    for number, spec in enumerate(brand_specs):
        brand = Brand.objects.create(
            name=f"brand {number}",
            timezone=spec["timezone"],
            daily_budget=spec["daily_budget"],
            monthly_budget=spec["monthly_budget"],
        )
        today = local_date(now, spec["timezone"])
        for campaign_number, campaign_spec in enumerate(spec["campaigns"]):
            status, reason = campaign_spec["state"]
            campaign = Campaign.objects.create(
                brand=brand,
                name=f"campaign {number}.{campaign_number}",
                daily_budget=campaign_spec["daily_budget"],
                monthly_budget=campaign_spec["monthly_budget"],
                status=status,
                pause_reason=reason,
                is_dayparting_enabled=campaign_spec["dayparting"],
            )
            Spend.objects.bulk_create(
                Spend(
                    campaign=campaign,
                    date=today - datetime.timedelta(days=days_before),
                    daily_spend=daily,
                    monthly_spend=daily + extra,
                )
                for days_before, (daily, extra) in campaign_spec["spend"].items()
            )
            DaypartingSchedule.objects.bulk_create(
                DaypartingSchedule(campaign=campaign, day_of_week=day, start_time=start, end_time=end, timezone=zone)
                for day, start, end, zone in campaign_spec["windows"]
            )


def expected_by_campaign(now) -> dict[int, tuple[str, str, dict]]:
    """What the pure rule says, from the facts the reference engine reads."""
    expected = {}
    for stored in load_campaign_facts(Campaign.objects.all(), now=now):
        if stored.status == S.PAUSED_BY_USER:
            expected[stored.id] = (stored.status, stored.pause_reason, None)
            continue
        decision = decide_campaign_status(stored.facts, now=now)
        details = (
            decision.details if (decision.status, decision.reason) != (stored.status, stored.pause_reason) else None
        )
        expected[stored.id] = (decision.status, decision.reason, details)
    return expected


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(world=worlds)
def test_the_sql_engine_decides_every_campaign_as_the_rule_does(world):
    now = world[0]
    try:
        with transaction.atomic():
            build(world)
            expected = expected_by_campaign(now)
            previewed = {change.campaign_id: change for change in selection_preview(selection=Selection(), now=now)}
            selection_enforce(selection=Selection(scope=Scope.NOT_PAUSED_BY_USER), source="property", now=now)
            stored = dict(Campaign.objects.values_list("pk", "status").order_by())
            reasons = dict(Campaign.objects.values_list("pk", "pause_reason").order_by())
            audit = {change.campaign_id: change.details for change in CampaignStatusChange.objects.all()}
            for campaign_id, (status, reason, details) in expected.items():
                assert (stored[campaign_id], reasons[campaign_id]) == (status, reason), campaign_id
                assert audit.get(campaign_id) == details, campaign_id
                # The dry run lists exactly what the run then changed, with the same figures.
                assert (previewed[campaign_id].details if campaign_id in previewed else None) == details
            raise Rollback
    except Rollback:
        pass
