"""The engine's shape: a fixed number of statements per shard, shards by brand, and
decisions taken at the instant of the lock, however long a run waited for it."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from bench.dataset import dataset_build
from brands.tests.factories import BrandFactory
from campaigns import enforcement
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns, reactivate_daily_campaigns
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state
from conftest import wait_for

pytestmark = [pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason


def statements_of(task) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        summary = task()
    return len(queries), summary


@pytest.mark.django_db(transaction=True)  # the data set is built with TRUNCATE
@pytest.mark.parametrize("task", [check_all_campaign_budgets, enforce_dayparting_for_all_campaigns])
def test_a_sweep_sends_as_many_statements_for_10000_campaigns_as_for_100(task):
    dataset_build(campaigns=100)
    small, small_summary = statements_of(task)
    dataset_build(campaigns=10_000)
    large, large_summary = statements_of(task)
    assert small_summary["examined"] < large_summary["examined"]
    assert large_summary["paused"] > 1000  # the large run wrote thousands of changes...
    assert small == large <= 12  # ...with the same few statements


@pytest.mark.django_db(transaction=True)
def test_a_sharded_sweep_sends_a_fixed_number_of_statements_per_shard(settings):
    dataset_build(campaigns=10_000)
    settings.ENFORCEMENT_SHARD_CAMPAIGNS = 10_000
    one_shard, _ = statements_of(check_all_campaign_budgets)
    Campaign.objects.update(status=S.ACTIVE, pause_reason="")
    settings.ENFORCEMENT_SHARD_CAMPAIGNS = 2_500
    shards = enforcement.brand_shards()
    four_shards, summary = statements_of(check_all_campaign_budgets)
    assert len(shards) == 4
    # One more statement finds the cut points; then each extra shard costs the same few.
    per_shard, remainder = divmod(four_shards - one_shard - 1, 3)
    assert remainder == 0
    assert per_shard <= 6
    assert summary["examined"] == 10_000


@pytest.mark.django_db(transaction=True)
def test_shards_cover_every_brand_once_and_keep_each_brand_whole(settings):
    dataset_build(campaigns=10_000)
    settings.ENFORCEMENT_SHARD_CAMPAIGNS = 3_000
    shards = enforcement.brand_shards()
    assert shards[0][0] is None and shards[-1][1] is None
    for (_, up_to), (after, _) in zip(shards, shards[1:], strict=False):
        assert up_to == after  # brand ranges (after, up_to] meet without gap or overlap
    sizes = []
    for after, up_to in shards:
        selected = enforcement.Selection(brand_range=(after, up_to)).queryset()
        sizes.append(selected.count())
    assert sum(sizes) == 10_000
    assert max(sizes) < 2 * 10_000 / len(shards)


# Asia/Kathmandu is UTC+5:45: its Nov 25 begins at 18:15 UTC on Nov 24.
BEFORE_MIDNIGHT = datetime.datetime(2026, 11, 24, 18, 14, 50, tzinfo=datetime.UTC)
AFTER_MIDNIGHT = datetime.datetime(2026, 11, 24, 18, 15, 30, tzinfo=datetime.UTC)


def waiting_for_a_lock() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_started_before_local_midnight_never_re_pauses_what_a_later_run_resumed():
    brand = BrandFactory(timezone="Asia/Kathmandu")
    held = CampaignFactory(brand=brand)  # the lower id: the sweep locks it first
    paused = CampaignFactory(
        brand=brand, daily_budget=money(10), status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET
    )
    add_spend(paused, datetime.date(2026, 11, 24), 20)  # over budget on the 24th, local

    locked, release = threading.Event(), threading.Event()

    def hold_the_first_row():
        with transaction.atomic():
            list(Campaign.objects.select_for_update().filter(pk=held.pk))
            locked.set()
            release.wait(30)
        connection.close()

    sweep_result = {}

    def sweep():
        sweep_result.update(check_all_campaign_budgets())
        connection.close()

    with time_machine.travel(BEFORE_MIDNIGHT, tick=False) as clock:
        holder = threading.Thread(target=hold_the_first_row)
        holder.start()
        assert locked.wait(10)
        sweeper = threading.Thread(target=sweep)
        sweeper.start()  # starts at 23:59:50 local, then waits for the first row
        assert wait_for(lambda: waiting_for_a_lock() >= 1)

        clock.move_to(AFTER_MIDNIGHT)
        reactivate_daily_campaigns()  # the new day: resumed
        assert state(paused) == (S.ACTIVE, "")

        release.set()
        holder.join(10)
        sweeper.join(30)

    # The sweep decided at the instant it held its rows, 00:00:30 local: nothing to undo.
    assert state(paused) == (S.ACTIVE, "")
    changes = list(CampaignStatusChange.objects.filter(campaign=paused).values_list("source", "new_status"))
    assert changes == [("reactivate_daily_campaigns", S.ACTIVE)]
    assert sweep_result["examined"] == 2
