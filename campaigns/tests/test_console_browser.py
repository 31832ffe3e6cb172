"""The ops console in a real browser (headless Chromium, the `admin_browser` fixture).

Logged in as ops: read a campaign's utilization and resume time on the list, open its
page and read the status panel and the local-time history, edit a budget and see the
warning, pause and resume, read the dayparting grid, export CSV, and take the README's
screenshots with the same helper as `bench/screenshots.py`.
"""

import csv
import io
import struct
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from bench.screenshots import capture_console
from brands.tests.factories import BrandFactory
from budget_system.admin_format import local_time_text
from budget_system.timezones import local_date
from budget_system.wall_clock import next_local_midnight
from campaigns.enforcement import campaigns_enforce
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.helpers import add_spend
from dayparting.tests.factories import DaypartingScheduleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ZONE = "Asia/Tokyo"  # no DST: the abbreviation is always JST


@pytest.fixture
def console_data():
    now = timezone.now()
    today = local_date(now, ZONE)
    brand = BrandFactory(name="Tokyo Tea", timezone=ZONE, daily_budget=Decimal("1000"))
    matcha = CampaignFactory(
        brand=brand, name="Matcha launch", daily_budget=Decimal("50"), monthly_budget=Decimal("1500")
    )
    sencha = CampaignFactory(brand=brand, name="Sencha promo", daily_budget=Decimal("20"))
    gyokuro = CampaignFactory(brand=brand, name="Gyokuro video", is_dayparting_enabled=True)
    # The whole of today (Tokyo) is a window: open now.
    DaypartingScheduleFactory(
        campaign=gyokuro, day_of_week=today.weekday(), start_time="00:00", end_time="00:00", timezone=ZONE
    )
    add_spend(matcha, today, "45", "600")
    add_spend(sencha, today, "25", "300")
    campaigns_enforce(campaigns=Campaign.objects.all(), source="check_all_campaign_budgets")
    return {"now": now, "matcha": matcha, "sencha": sencha, "gyokuro": gyokuro}


def row_of(browser, name: str):
    return browser.find_element(By.LINK_TEXT, name).find_element(By.XPATH, "./ancestor::tr")


def messages(browser) -> list[tuple[str, str]]:
    return [
        (item.get_attribute("class"), item.text) for item in browser.find_elements(By.CSS_SELECTOR, "ul.messagelist li")
    ]


def submit(browser, name: str) -> None:
    """Click the button `name` and wait for the page it posts to to replace this one."""
    button = browser.find_element(By.NAME, name)
    button.click()
    WebDriverWait(browser, 20).until(staleness_of(button))


def open_campaign(browser, campaign: Campaign) -> None:
    browser.get(f"{browser.live_server_url}/admin/campaigns/campaign/{campaign.pk}/change/")


def test_ops_read_act_and_export_in_the_console(admin_browser, console_data, tmp_path):
    browser, data = admin_browser, console_data
    midnight = local_time_text(next_local_midnight(data["now"], ZONE), ZONE)
    # The list leaves the year to the tooltip.
    midnight_in_list = local_time_text(next_local_midnight(data["now"], ZONE), ZONE, with_year=False)

    # The list: utilization with its bar, every reason, the resume time in the brand's zone.
    browser.get(f"{browser.live_server_url}/admin/campaigns/campaign/")
    matcha = row_of(browser, "Matcha launch")
    assert "$45.00 / $50.00 90 %" in matcha.text
    assert (
        matcha.find_element(By.CSS_SELECTOR, ".field-spend_today .usage").get_attribute("class") == "usage usage-warn"
    )
    sencha = row_of(browser, "Sencha promo")
    assert "Paused by system" in sencha.text and "Daily budget reached" in sencha.text
    resumes = sencha.find_element(By.CSS_SELECTOR, ".field-resumes").text
    assert f"{midnight_in_list}\nat local midnight (a new day)" in resumes
    assert (
        sencha.find_element(By.CSS_SELECTOR, ".field-spend_today .usage").get_attribute("class") == "usage usage-over"
    )

    # The campaign page: the status panel and the history in Tokyo time, UTC on hover.
    open_campaign(browser, data["sencha"])
    panel = browser.find_element(By.ID, "status-panel")
    assert "Daily budget reached" in panel.text
    assert midnight in panel.find_element(By.CSS_SELECTOR, ".panel-resume").text
    assert "$25.00 / $20.00 125 %" in panel.text
    history = browser.find_element(By.ID, "console-history")
    assert "in Asia/Tokyo (the brand's timezone)" in history.text
    assert "Active → Paused by system (Daily budget reached)" in history.text
    first_time = history.find_element(By.CSS_SELECTOR, "tbody time")
    assert first_time.text.endswith("JST")
    assert first_time.get_attribute("title").endswith("UTC · Asia/Tokyo")

    # Editing a budget below today's spend warns which campaign it paused.
    open_campaign(browser, data["matcha"])
    budget = browser.find_element(By.NAME, "daily_budget")
    budget.clear()
    budget.send_keys("40.00")
    submit(browser, "_continue")
    assert ("warning", "This change paused 1 campaign: “Matcha launch” (Daily budget reached).") in messages(browser)

    # Pause, then Resume: a resume the rule undoes is a warning with the reason.
    submit(browser, "pause")
    assert messages(browser)[0][0] == "success" and "Paused “Matcha launch”" in messages(browser)[0][1]
    submit(browser, "resume")
    [(level, text)] = messages(browser)
    assert level == "warning"
    assert text.startswith("Resumed “Matcha launch”, but the system paused it again at once: Daily budget reached.")
    open_campaign(browser, data["gyokuro"])
    submit(browser, "pause")
    submit(browser, "resume")
    assert messages(browser) == [("success", "Resumed “Gyokuro video”: it is active.")]

    # The dayparting week: today's row is open all day, and so is now.
    grid = browser.find_element(By.CSS_SELECTOR, "table.week-grid")
    weekday = local_date(timezone.now(), ZONE).weekday()
    today_cells = grid.find_elements(By.CSS_SELECTOR, f"td[data-weekday='{weekday}']")
    assert [cell.get_attribute("class").split()[0] for cell in today_cells] == ["cell-full"] * 24
    assert len(grid.find_elements(By.CSS_SELECTOR, "td.cell-full")) == 24
    assert "open now" in browser.find_element(By.ID, "console-week").text

    # Export what the filtered list shows, through the list's own link.
    browser.get(f"{browser.live_server_url}/admin/campaigns/campaign/?status__exact=PAUSED_BY_SYSTEM")
    href = browser.find_element(By.CSS_SELECTOR, "a.exportlink").get_attribute("href")
    body = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", href
    )
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(row["campaign"] for row in rows) == ["Matcha launch", "Sencha promo"]
    assert {row["resumes (brand's time)"] for row in rows} == {midnight}

    # The README's screenshots, by the helper bench/screenshots.py runs.
    shots = capture_console(browser, browser.live_server_url, tmp_path, campaign_id=data["sencha"].pk)
    for shot in shots:
        header = shot.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">I", header[16:20])[0] == 1440
