"""The dashboard page (the admin's front page) and its charts."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Brand
from budget_system.timezones import local_date
from campaigns.dashboard import DaySpend, HourChanges
from campaigns.dashboard_charts import changes_chart, compact_usd, nice_scale, spend_chart
from campaigns.demo_data import demo_data_create
from campaigns.models import Campaign
from spend.models import Spend

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 3, 12, 15, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def demo(campaigns: int, *, brands: int = 6) -> None:
    demo_data_create(
        brands=brands,
        campaigns=campaigns,
        spend_days=30,
        daily_budget=Decimal("75.00"),
        monthly_budget=Decimal("1500.00"),
        seed=7,
        history_hours=0,
    )


# --- The page ---------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_front_page_shows_the_dashboard_and_keeps_the_app_list(staff_client):
    demo(60)
    page = staff_client.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        'id="ops-dashboard"',
        "Paused by the system, by reason",
        "Brands nearest their daily budget",
        "Brands nearest their monthly budget",
        "Spend per day, last 30 days",
        "Pauses and resumes per hour, last 24 hours (UTC)",
        # Django's app list and recent actions are still there.
        'id="apps"',
        'class="app-campaigns module',
        "Recent actions",
    ):
        assert text in html, text
    assert html.count('<rect class="bar bar-') == 30 + 2 * 24
    # Links go to the filtered lists.
    assert "/admin/campaigns/campaign/?status__exact=PAUSED_BY_SYSTEM&amp;pause_reason__exact=DAYPARTING" in html
    assert page.context["dashboard"].campaigns == 60


def test_the_charts_come_from_our_server_not_a_cdn(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert "<svg" in html
    assert "https://" not in html.replace("https://docs.djangoproject.com", "")
    assert '<script src="http' not in html


def test_staff_without_view_permission_on_campaigns_see_no_figures(client, django_user_model):
    clerk = django_user_model.objects.create_user(username="clerk", password="pw-123456789", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_brand"))
    client.force_login(clerk)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "ops-dashboard" not in page.content.decode()
    assert "dashboard" not in page.context


def test_the_front_page_needs_a_login(client):
    page = client.get("/admin/")
    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/")


def test_the_task_heartbeats_stay_on_the_front_page_above_the_dashboard(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert 'id="heartbeat-panel"' in html
    assert html.index('id="heartbeat-panel"') < html.index('id="ops-dashboard"') < html.index('id="apps"')


# --- Query counts -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("campaigns", [10, 1000])
@pytest.mark.parametrize("some_without_a_row_today", [False, True])
def test_the_page_runs_a_fixed_number_of_queries(
    campaigns, some_without_a_row_today, staff_client, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        demo(campaigns, brands=max(1, campaigns // 10))
        extra = 0
        if some_without_a_row_today:
            # Their month-to-date needs the rule's lookup: two more queries (zones, lookup).
            todays = {local_date(NOW, zone) for zone in Brand.objects.values_list("timezone", flat=True)}
            Spend.objects.filter(
                date__in=todays, campaign_id__in=list(Campaign.objects.values_list("pk", flat=True))[::3]
            ).delete()
            extra = 2
        # Session and user; the dashboard: savepoint, jit off, campaigns by brand, status
        # and reason, brands, spend by brand and date, settled days, changes per hour,
        # release; the task heartbeats (late banner and panel); recent actions.
        with django_assert_max_num_queries(13 + extra):
            assert staff_client.get("/admin/").status_code == 200
        # The settled days come from the cache the second time.
        with django_assert_max_num_queries(12 + extra):
            assert staff_client.get("/admin/").status_code == 200


@pytest.mark.postgres
def test_the_dashboards_queries_are_the_same_for_10_and_1000_campaigns(staff_client):
    counts = []
    for campaigns in (10, 1000):
        cache.clear()
        with time_machine.travel(NOW, tick=False):
            demo(campaigns)
            with CaptureQueriesContext(connection) as queries:
                staff_client.get("/admin/")
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Charts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "largest, top", [(0, 4), (3, 4), (7, 8), (9, 12), (38, 40), (4_650, 6_000), (1_234_567, 1_600_000)]
)
def test_axis_tops_are_round_numbers_at_or_above_the_largest_value(largest, top):
    assert nice_scale(largest, whole=True) == top


def test_compact_money_labels():
    assert [compact_usd(v) for v in (0, 750, 12_500, 1_200_000)] == ["$0", "$750", "$12.5k", "$1.2M"]


def test_spend_chart_draws_one_bar_a_day_in_proportion():
    days = [DaySpend(datetime.date(2026, 3, 1) + datetime.timedelta(days=n), Decimal(n * 10)) for n in range(30)]
    chart = spend_chart(days, partial_from=datetime.date(2026, 3, 30))
    assert len(chart.bars) == 30
    assert chart.bars[0].height == 0
    # Heights in proportion to the spend, on a 0..400 axis.
    assert chart.bars[29].height == pytest.approx(2 * chart.bars[14].height + chart.bars[1].height, rel=0.01)
    assert [bar.series for bar in chart.bars[-2:]] == ["spend", "partial"]
    assert chart.y_ticks[-1].label == "$400"
    assert chart.x_labels[-1].label == "30 Mar"
    assert chart.bars[29].title == "Mon 30 Mar: $290.00"
    # Every bar inside the plot.
    assert all(chart.plot_left <= bar.x and bar.x + bar.width <= chart.plot_right for bar in chart.bars)
    assert all(chart.plot_top <= bar.y and bar.y + bar.height <= chart.plot_bottom + 0.01 for bar in chart.bars)


def test_changes_chart_draws_pauses_and_resumes_side_by_side():
    start = datetime.datetime(2026, 3, 1, 9, tzinfo=UTC)
    hours = [HourChanges(start + datetime.timedelta(hours=n), n % 3, 1) for n in range(24)]
    chart = changes_chart(hours)
    assert len(chart.bars) == 48
    assert [bar.series for bar in chart.bars[:2]] == ["pauses", "resumes"]
    assert chart.bars[0].x < chart.bars[1].x
    assert chart.bars[4].title == "Sun 11:00–12:00 UTC: 2 pauses"
    assert chart.bars[5].title == "Sun 11:00–12:00 UTC: 1 resume"
    assert chart.x_labels[-1].label == "08:00"
    assert [tick.label for tick in chart.y_ticks] == ["0", "1", "2", "3", "4"]
