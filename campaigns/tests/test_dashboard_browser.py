"""The dashboard in headless Chromium: its charts are drawn, its links lead to the lists."""

import os
import struct
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns
from campaigns.tests.screenshots import DOCS_SCREENSHOTS, SCREENSHOT_WIDTH, dashboard_screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_data():
    """The default demo (8 brands, 120 campaigns, 30 days of spend, a day of history)."""
    call_command("seed_data", seed=21, stdout=StringIO())
    cache.clear()
    yield
    cache.clear()


def open_dashboard(browser):
    browser.get(f"{browser.live_server_url}/admin/")
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "ops-dashboard")))


def test_the_dashboard_draws_its_charts(admin_browser, demo_data):
    open_dashboard(admin_browser)

    spend = admin_browser.find_element(By.CSS_SELECTOR, "#spend-chart svg.bar-chart")
    changes = admin_browser.find_element(By.CSS_SELECTOR, "#changes-chart svg.bar-chart")
    for chart in (spend, changes):
        assert chart.size["width"] > 300 and chart.size["height"] > 100
    spend_bars = spend.find_elements(By.CSS_SELECTOR, "rect.bar")
    change_bars = changes.find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(spend_bars) == 30
    assert len(change_bars) == 2 * 24
    # Every day of the demo has spend: every bar is drawn, none wider than its slot.
    assert all(bar.size["height"] > 0 and 0 < bar.size["width"] < spend.size["width"] / 30 for bar in spend_bars)
    # The day of history has pauses and resumes to draw.
    assert any(bar.size["height"] > 0 for bar in changes.find_elements(By.CSS_SELECTOR, "rect.bar-pauses"))
    assert any(bar.size["height"] > 0 for bar in changes.find_elements(By.CSS_SELECTOR, "rect.bar-resumes"))
    # Axis labels are drawn as text.
    assert spend.find_elements(By.CSS_SELECTOR, ".chart-y-labels text")[-1].text.startswith("$")

    tiles = admin_browser.find_element(By.ID, "tile-campaigns").text
    assert "120" in tiles and "Paused by user\n1" in tiles
    assert "Brands nearest their daily budget" in admin_browser.find_element(By.ID, "nearest-daily").text
    # The apps are still one click away.
    assert admin_browser.find_element(By.CSS_SELECTOR, ".app-campaigns").is_displayed()


def test_a_reason_on_the_dashboard_opens_the_campaigns_paused_for_it(admin_browser, demo_data):
    open_dashboard(admin_browser)
    row = admin_browser.find_element(
        By.XPATH, "//*[@id='paused-by-reason']//tr[td/a[text()='Outside dayparting windows']]"
    )
    count = int(row.find_element(By.CSS_SELECTOR, "td.number").text)
    row.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(admin_browser, 10).until(expected_conditions.url_contains("pause_reason__exact=DAYPARTING"))
    rows = admin_browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert count > 0
    assert len(rows) == count


def test_the_dashboard_screenshot_is_1440_pixels_wide(admin_browser, demo_data, tmp_path):
    # As on a running system: beat's sweeps have run (called directly, they run in-process),
    # so the heartbeats above the dashboard are on time.
    check_all_campaign_budgets()
    enforce_dayparting_for_all_campaigns()
    # UPDATE_SCREENSHOTS=1 writes the README's picture; otherwise the helper is checked on a copy.
    target = DOCS_SCREENSHOTS / "dashboard.png" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "dashboard.png"
    path = dashboard_screenshot(admin_browser, target)
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width == SCREENSHOT_WIDTH
    assert height > 1000
