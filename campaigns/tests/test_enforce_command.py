"""`manage.py enforce [--dry-run] [--brand ID] [--at ISO-INSTANT]`: the dry run is the run, without its writes."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.management import CommandError, call_command

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money
from dayparting.tests.factories import DaypartingScheduleFactory

pytestmark = pytest.mark.django_db

S = Campaign.Status
R = Campaign.PauseReason
# Asia/Kathmandu is UTC+5:45: its Nov 25 begins at 18:15 UTC on Nov 24.
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
KATHMANDU_TODAY = datetime.date(2026, 11, 24)
LINE = re.compile(r"^campaign (\d+) .*: (\S+) -> (\S+): (.*)$")


def run(*args) -> str:
    out = io.StringIO()
    call_command("enforce", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def listed(output: str) -> set[tuple[int, str, str]]:
    changes = set()
    for line in output.splitlines():
        if match := LINE.match(line):
            status, _, reason = match.group(3).partition("/")
            changes.add((int(match.group(1)), status, reason))
    return changes


def stored_state() -> tuple[list, int]:
    return list(Campaign.objects.order_by("pk").values_list("pk", "status", "pause_reason")), (
        CampaignStatusChange.objects.count()
    )


@pytest.fixture
def mixed_campaigns():
    """A campaign for each reason, an active one, a user-paused one and one already right."""
    brand = BrandFactory(timezone="Asia/Kathmandu", daily_budget=money(500), monthly_budget=money(5000))
    other_brand = BrandFactory(timezone="America/Los_Angeles", daily_budget=money(30))
    daily = CampaignFactory(brand=brand, name="Daily", daily_budget=money(100))
    add_spend(daily, KATHMANDU_TODAY, 120, 300)
    monthly = CampaignFactory(brand=brand, name="Monthly", monthly_budget=money(250))
    add_spend(monthly, KATHMANDU_TODAY, 10, 260)
    brand_daily = CampaignFactory(brand=other_brand, name="Brand daily")
    add_spend(brand_daily, datetime.date(2026, 11, 24), 40, 40)
    outside = CampaignFactory(brand=brand, name="Outside windows", is_dayparting_enabled=True)
    DaypartingScheduleFactory(campaign=outside, day_of_week=6, start_time="09:00", end_time="10:00")
    resumes = CampaignFactory(
        brand=brand, name="Resumes", daily_budget=money(100), status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET
    )
    CampaignFactory(brand=brand, name="Paused by ops", daily_budget=money(0), status=S.PAUSED_BY_USER)
    CampaignFactory(brand=brand, name="Already right")
    return {"daily": daily, "monthly": monthly, "brand_daily": brand_daily, "outside": outside, "resumes": resumes}


@time_machine.travel(NOW, tick=False)
def test_the_dry_run_lists_exactly_what_the_run_then_changes_and_writes_nothing(mixed_campaigns):
    before = stored_state()
    preview = run("--dry-run")
    assert stored_state() == before  # nothing written, not even an audit row

    c = mixed_campaigns
    assert listed(preview) == {
        (c["daily"].pk, S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET),
        (c["monthly"].pk, S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET),
        (c["brand_daily"].pk, S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET),
        (c["outside"].pk, S.PAUSED_BY_SYSTEM, R.DAYPARTING),
        (c["resumes"].pk, S.ACTIVE, ""),
    }
    assert "spend today 120.00 reached the budget of 100.00 (on 2026-11-24 in Asia/Kathmandu)" in preview
    assert "5 campaign(s) would change (4 paused, 1 activated, 0 with another reason); nothing was written." in preview

    run()
    made = set(CampaignStatusChange.objects.values_list("campaign_id", "new_status", "new_reason"))
    assert made == listed(preview)
    assert listed(run("--dry-run")) == set()  # and afterwards there is nothing left to change


def test_at_previews_the_rule_at_another_instant(mixed_campaigns):
    with time_machine.travel(NOW, tick=False):
        now = listed(run("--dry-run", "--brand", str(mixed_campaigns["daily"].brand_id)))
        after_midnight = listed(
            run("--dry-run", "--brand", str(mixed_campaigns["daily"].brand_id), "--at", "2026-11-25T00:05:00+05:45")
        )
    daily = mixed_campaigns["daily"].pk
    assert (daily, S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET) in now
    # A new local day in Kathmandu: today's spend is no longer today's, nothing to pause.
    assert all(campaign_id != daily for campaign_id, _, _ in after_midnight)
    assert (mixed_campaigns["monthly"].pk, S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET) in after_midnight


@time_machine.travel(NOW, tick=False)
def test_brand_narrows_the_dry_run_and_the_run_to_one_brand(mixed_campaigns):
    other_brand = mixed_campaigns["brand_daily"].brand_id
    assert listed(run("--dry-run", "--brand", str(other_brand))) == {
        (mixed_campaigns["brand_daily"].pk, S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)
    }
    assert "Applied the rule to 1 campaign(s): 1 paused" in run("--brand", str(other_brand))
    assert set(CampaignStatusChange.objects.values_list("campaign_id", "source")) == {
        (mixed_campaigns["brand_daily"].pk, "command")
    }


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--dry-run", "--brand", "abc"], "--brand must be a brand id (a positive whole number), got 'abc'"),
        (["--dry-run", "--brand", "0"], "--brand must be a brand id (a positive whole number), got '0'"),
        (["--dry-run", "--brand", "987654"], "--brand 987654: no brand has this id"),
        (["--dry-run", "--at", "tomorrow"], "--at must be an ISO 8601 instant with its offset"),
        (["--dry-run", "--at", "2026-11-25T00:00:00"], "has no UTC offset"),
        (["--dry-run", "--at", "1999-12-31T00:00:00+00:00"], "use a year from 2000 to 9998"),
        (["--at", "2026-11-25T00:00:00+00:00"], "--at needs --dry-run"),
    ],
)
def test_bad_options_are_named_and_nothing_is_written(mixed_campaigns, args, says):
    before = stored_state()
    with pytest.raises(CommandError, match=re.escape(says)):
        run(*args)
    assert stored_state() == before


@time_machine.travel(NOW, tick=False)
def test_the_admin_preview_action_lists_the_selected_changes_and_writes_nothing(staff_client, mixed_campaigns):
    from django.urls import reverse

    before = stored_state()
    selected = [mixed_campaigns["daily"].pk, mixed_campaigns["resumes"].pk]
    response = staff_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "preview_enforcement", "_selected_action": selected},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "would change\n    <strong>2</strong> of the 2 selected campaigns" in page
    assert "spend today 120.00 reached the budget of 100.00 (on 2026-11-24 in Asia/Kathmandu)" in page
    assert "Resumes" in page and "ACTIVE" in page
    assert stored_state() == before
