"""Enforcement decides from figures read under the batch's row locks, and survives bad rows."""

import datetime
import logging
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction

from brands.models import Brand
from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tasks import check_all_campaign_budgets
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend, money, state
from conftest import wait_for
from dayparting.tests.factories import DaypartingScheduleFactory
from spend.models import Spend

pytestmark = [pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)


def sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_sweep_waiting_on_a_lock_decides_from_the_spend_committed_meanwhile():
    # Paused at its daily budget; ops then raised the budget, so a sweep reading now
    # would resume it. But more spend is being written while the sweep waits.
    campaign = CampaignFactory(daily_budget=money(200), status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    add_spend(campaign, TODAY, 100)
    outcome = {}

    def sweep():
        try:
            with time_machine.travel(NOW, tick=False):
                outcome["summary"] = check_all_campaign_budgets()
        finally:
            connection.close()

    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=campaign.pk)  # as an ingestion run holding the row
        Spend.objects.filter(campaign=campaign).update(daily_spend=Decimal("250.00"), monthly_spend=Decimal("250.00"))
        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        assert wait_for(lambda: sessions_waiting_for_a_lock() >= 1), "the sweep never waited for the row lock"
    sweeper.join()

    assert outcome["summary"]["activated"] == 0
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    assert not CampaignStatusChange.objects.filter(campaign=campaign).exists()


@pytest.mark.django_db(transaction=True)
def test_an_ops_pause_committed_while_a_sweep_waits_is_kept(django_user_model):
    campaign = CampaignFactory(daily_budget=money(10))
    add_spend(campaign, TODAY, 50)
    user = django_user_model.objects.create_user("ops-race")

    def sweep():
        try:
            with time_machine.travel(NOW, tick=False):
                check_all_campaign_budgets()
        finally:
            connection.close()

    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=campaign.pk)
        Campaign.objects.filter(pk=campaign.pk).update(status=S.PAUSED_BY_USER)
        CampaignStatusChange.objects.create(
            campaign=campaign, actor="user", user=user, source="admin", old_status=S.ACTIVE, new_status=S.PAUSED_BY_USER
        )
        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        assert wait_for(lambda: sessions_waiting_for_a_lock() >= 1)
    sweeper.join()

    assert state(campaign) == (S.PAUSED_BY_USER, "")
    assert list(CampaignStatusChange.objects.filter(campaign=campaign).values_list("source", flat=True)) == ["admin"]


@pytest.mark.django_db
def test_a_brand_with_an_unknown_timezone_does_not_stop_the_others(caplog):
    broken = CampaignFactory(brand=BrandFactory(), daily_budget=money(0))
    Brand.objects.filter(pk=broken.brand_id).update(timezone="Mars/Olympus_Mons")  # as an ETL might
    healthy = CampaignFactory(daily_budget=money(0))
    with time_machine.travel(NOW, tick=False), caplog.at_level(logging.ERROR, logger="campaigns.enforcement"):
        summary = check_all_campaign_budgets()
    assert state(healthy) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    assert state(broken) == (S.ACTIVE, "")
    assert summary["examined"] == 1
    assert f"brand {broken.brand_id} has unknown timezone 'Mars/Olympus_Mons'" in caplog.text


@pytest.mark.django_db
def test_a_window_with_an_unknown_timezone_counts_as_closed(caplog):
    campaign = CampaignFactory(is_dayparting_enabled=True)
    window = DaypartingScheduleFactory(campaign=campaign, day_of_week=1, start_time="00:00", end_time="00:00")
    type(window).objects.filter(pk=window.pk).update(timezone="Nowhere/Land")
    with time_machine.travel(NOW, tick=False), caplog.at_level(logging.ERROR, logger="campaigns.enforcement"):
        check_all_campaign_budgets()
    assert state(campaign) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    assert f"dayparting window {window.pk} of campaign {campaign.pk} has unknown timezone 'Nowhere/Land'" in caplog.text
