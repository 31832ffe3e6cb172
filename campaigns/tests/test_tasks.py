"""The periodic tasks: user pauses, resume, audit, idempotence, overlap, query counts."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from brands.models import Brand
from brands.tests.factories import BrandFactory
from campaigns.enforcement import campaigns_pause, campaigns_resume
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tasks import (
    check_all_campaign_budgets,
    enforce_dayparting_for_all_campaigns,
    reactivate_daily_campaigns,
    reactivate_monthly_campaigns,
)
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state
from spend.models import Spend

pytestmark = [pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)
ALL_TASKS = [
    check_all_campaign_budgets,
    reactivate_daily_campaigns,
    reactivate_monthly_campaigns,
    enforce_dayparting_for_all_campaigns,
]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.mark.django_db
@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.__name__)
def test_user_paused_campaign_is_never_touched_by_a_task(task, frozen):
    campaign = CampaignFactory(
        status=S.PAUSED_BY_USER, daily_budget=money(0), monthly_budget=money(0), is_dayparting_enabled=True
    )
    idle = CampaignFactory(status=S.PAUSED_BY_USER)
    summary = task()
    assert state(campaign) == state(idle) == (S.PAUSED_BY_USER, "")
    assert summary["examined"] == 0
    assert not CampaignStatusChange.objects.exists()


@pytest.mark.django_db
def test_resume_applies_the_rule_at_once(frozen, admin_user):
    over_budget = CampaignFactory(status=S.PAUSED_BY_USER, daily_budget=money(10))
    add_spend(over_budget, TODAY, 20)
    free = CampaignFactory(status=S.PAUSED_BY_USER, daily_budget=money(10))
    summary = campaigns_resume(
        campaigns=Campaign.objects.filter(pk__in=[over_budget.pk, free.pk]), user=admin_user, source="admin"
    )
    assert state(over_budget) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    assert state(free) == (S.ACTIVE, "")
    assert summary.as_dict() == {"examined": 2, "activated": 1, "paused": 1, "reason_changed": 0}
    change = CampaignStatusChange.objects.get(campaign=over_budget)
    assert (change.actor, change.user, change.source) == ("user", admin_user, "admin")
    assert (change.old_status, change.new_status, change.new_reason) == (
        S.PAUSED_BY_USER,
        S.PAUSED_BY_SYSTEM,
        "DAILY_BUDGET",
    )
    assert change.details["campaign_daily_spend"] == "20.00"


@pytest.mark.django_db
def test_pause_by_user_clears_the_reason_and_is_audited(frozen, admin_user):
    campaign = CampaignFactory(status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    already = CampaignFactory(status=S.PAUSED_BY_USER)
    paused = campaigns_pause(campaigns=Campaign.objects.all(), user=admin_user, source="admin")
    assert paused == 1
    assert state(campaign) == (S.PAUSED_BY_USER, "")
    change = CampaignStatusChange.objects.get()
    assert (change.campaign, change.old_reason, change.new_reason, change.user) == (
        campaign,
        "DAILY_BUDGET",
        "",
        admin_user,
    )
    assert state(already) == (S.PAUSED_BY_USER, "")


@pytest.mark.django_db
def test_reason_change_while_paused_is_audited_with_old_and_new_reason(frozen):
    campaign = CampaignFactory(daily_budget=money(50), monthly_budget=money(500))
    add_spend(campaign, TODAY, 60, 300)
    check_all_campaign_budgets()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    Spend.objects.filter(campaign=campaign).update(monthly_spend=Decimal("520.00"))
    summary = check_all_campaign_budgets()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)
    assert summary == {"examined": 1, "activated": 0, "paused": 0, "reason_changed": 1}
    change = CampaignStatusChange.objects.filter(campaign=campaign).latest()
    assert (change.old_status, change.new_status) == (S.PAUSED_BY_SYSTEM, S.PAUSED_BY_SYSTEM)
    assert (change.old_reason, change.new_reason) == ("DAILY_BUDGET", "MONTHLY_BUDGET")
    assert (change.actor, change.user, change.source) == ("system", None, "check_all_campaign_budgets")
    assert change.details["campaign_monthly_spend"] == "520.00"


@pytest.mark.django_db
@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.__name__)
def test_second_run_of_a_task_writes_nothing(task, frozen):
    brand = BrandFactory(daily_budget=money(100), monthly_budget=money(1000))
    daily = CampaignFactory(brand=brand, daily_budget=money(10))
    add_spend(daily, TODAY, 15)
    CampaignFactory(brand=brand, is_dayparting_enabled=True)
    paused_yesterday = CampaignFactory(brand=brand, status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    paused_last_month = CampaignFactory(brand=brand, status=S.PAUSED_BY_SYSTEM, pause_reason=R.MONTHLY_BUDGET)
    first = task()
    audit_rows = CampaignStatusChange.objects.count()
    assert first["activated"] + first["paused"] + first["reason_changed"] == audit_rows > 0
    before = list(Campaign.objects.order_by("pk").values_list("status", "pause_reason", "updated_at"))
    second = task()
    assert second["activated"] == second["paused"] == second["reason_changed"] == 0
    assert CampaignStatusChange.objects.count() == audit_rows
    assert list(Campaign.objects.order_by("pk").values_list("status", "pause_reason", "updated_at")) == before
    assert paused_yesterday and paused_last_month


def make_campaigns(count: int, *, over_budget: bool) -> list[int]:
    """`count` campaigns over five brands in zones that are on two different dates at NOW."""
    zones = ["UTC", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kathmandu", "Europe/Paris"]
    brands = Brand.objects.bulk_create(
        Brand(name=f"bulk {count} {tz}", timezone=tz, daily_budget=money(10**9)) for tz in zones
    )
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            brand=brands[i % len(brands)],
            name=f"c{i}",
            daily_budget=money(50),
            monthly_budget=money(5000),
            is_dayparting_enabled=(i % 10 == 0),
        )
        for i in range(count)
    )
    spend = Decimal("60.00") if over_budget else Decimal("5.00")
    days = [TODAY, datetime.date(2026, 11, 25), datetime.date(2026, 11, 23)]
    Spend.objects.bulk_create(
        Spend(campaign=c, date=day, daily_spend=spend, monthly_spend=spend * 3) for c in campaigns for day in days
    )
    return [c.pk for c in campaigns]


@pytest.mark.django_db
@pytest.mark.parametrize("over_budget", [False, True], ids=["nothing-changes", "all-change"])
def test_sweep_query_count_is_the_same_at_10_and_1000_campaigns(over_budget, frozen, django_assert_max_num_queries):
    # Reads: brands, windows, two per local date (at most three dates at any instant);
    # writes, per batch of 1,000: savepoint, lock, one update per target state, audit insert, release;
    # and the heartbeat's two upserts, run started and finished (operations/receivers.py).
    most_queries = 2 + 2 * 3 + 5 + 2
    counts = []
    for size in (10, 1000):
        Campaign.objects.all().delete()
        make_campaigns(size, over_budget=over_budget)
        with django_assert_max_num_queries(most_queries) as queries:
            summary = check_all_campaign_budgets()
        assert summary["examined"] == size
        assert summary["paused"] == (size if over_budget else size // 10)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_end_as_one_with_one_audit_row_per_change():
    with time_machine.travel(NOW, tick=False):
        ids = make_campaigns(300, over_budget=True)
        start = threading.Barrier(4)
        results, errors = [], []

        def sweep():
            try:
                start.wait()
                results.append(check_all_campaign_budgets())
            except Exception as exc:  # surfaced below; a thread cannot fail the test itself
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Campaign.objects.filter(pk__in=ids, status=S.PAUSED_BY_SYSTEM).count() == 300
    assert CampaignStatusChange.objects.count() == 300
    assert sum(r["paused"] for r in results) == 300
    assert len(set(CampaignStatusChange.objects.values_list("campaign_id", flat=True))) == 300


@pytest.mark.django_db(transaction=True)
def test_sweep_overlapping_an_ops_pause_never_loses_the_pause(django_user_model):
    user = django_user_model.objects.create_user("ops-overlap")
    with time_machine.travel(NOW, tick=False):
        ids = make_campaigns(300, over_budget=True)
        start = threading.Barrier(3)
        errors = []

        def run(action):
            try:
                start.wait()
                action()
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()

        actions = [
            check_all_campaign_budgets,
            check_all_campaign_budgets,
            lambda: campaigns_pause(campaigns=Campaign.objects.filter(pk__in=ids), user=user, source="admin"),
        ]
        threads = [threading.Thread(target=run, args=(action,)) for action in actions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Campaign.objects.filter(pk__in=ids, status=S.PAUSED_BY_USER).count() == 300
    # Each campaign's audit rows form one unbroken chain from ACTIVE to PAUSED_BY_USER.
    chains: dict[int, list[CampaignStatusChange]] = {}
    for change in CampaignStatusChange.objects.order_by("id"):
        chains.setdefault(change.campaign_id, []).append(change)
    assert len(chains) == 300
    for chain in chains.values():
        assert (chain[0].old_status, chain[-1].new_status) == (S.ACTIVE, S.PAUSED_BY_USER)
        for earlier, later in zip(chain, chain[1:], strict=False):
            assert (earlier.new_status, earlier.new_reason) == (later.old_status, later.old_reason)
