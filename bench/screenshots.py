"""Screenshots of the ops console at 1440 px, for the README.

    python bench/screenshots.py [--out docs/screenshots]

Builds demo data in its own PostgreSQL database (SCREENSHOTS_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/budget_system_screenshots, dropped and created here),
serves the admin from this process on a free port, logs in with headless Chromium
(Debian's packages) and saves `campaign-list.png`, `campaign-page.png`, `brand-list.png` and
`status-changes.png`.

The browser tests drive the same `capture_console` on their own live server and data.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import recreate_database  # noqa: E402  (after the path is set)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/budget_system_screenshots"
WIDTH = 1440
MAX_HEIGHT = 3000
CHROMIUM_BINARY = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER_BINARY = os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver")
USERNAME, PASSWORD = "ops1", "ops1-screenshots-password"


def capture_page(driver, url: str, path: Path, *, width: int = WIDTH, max_height: int = MAX_HEIGHT) -> Path:
    """Open `url` and save the whole page (up to `max_height` px tall) as a PNG at `width` px."""
    driver.set_window_size(width, 1000)
    driver.get(url)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height, 800), max_height))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"Chromium saved no screenshot of {url}")
    return path


def capture_console(driver, base_url: str, out_dir: Path, *, campaign_id: int) -> list[Path]:
    """The campaign list, one campaign's page, the brand list and the audit list."""
    out_dir = Path(out_dir)
    admin = f"{base_url}/admin"
    pages = {
        "campaign-list.png": f"{admin}/campaigns/campaign/",
        "campaign-page.png": f"{admin}/campaigns/campaign/{campaign_id}/change/",
        "brand-list.png": f"{admin}/brands/brand/",
        "status-changes.png": f"{admin}/campaigns/campaignstatuschange/",
    }
    return [capture_page(driver, url, out_dir / name) for name, url in pages.items()]


def chromium(user_data_dir: Path):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={WIDTH},1000",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER_BINARY))


def log_in(driver, base_url: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/admin/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    if "/admin/login/" in driver.current_url:
        raise RuntimeError("could not log in to the admin")


def build_demo() -> int:
    """Brands with budgets, campaigns paused for each reason, an edit in the history; the campaign to show."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from budget_system.admin_history import history_baseline
    from campaigns.demo_data import demo_data_create
    from campaigns.enforcement import campaigns_enforce
    from campaigns.models import Campaign
    from campaigns.tasks import check_all_campaign_budgets, enforce_dayparting_for_all_campaigns

    user = get_user_model().objects.create_superuser(USERNAME, "ops1@example.com", PASSWORD)
    # seed_data's shaped demo: brands with room, at and near their budgets, a day of history.
    summary = demo_data_create(
        brands=6,
        campaigns=36,
        spend_days=20,
        daily_budget=Decimal("75"),
        monthly_budget=Decimal("1500"),
        timezones=["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"],
        seed=20261124,
    )
    # An ops edit the history can explain: a daily budget lowered below today's spend.
    campaign = (
        Campaign.objects.filter(brand_id__in=summary.brand_ids, is_dayparting_enabled=True)
        .exclude(status=Campaign.Status.PAUSED_BY_USER)
        .order_by("id")
        .first()
    )
    history_baseline(Campaign, [campaign.pk])
    campaign.daily_budget = Decimal("40.00")
    campaign._history_user = user
    campaign.save(update_fields=["daily_budget", "updated_at"])
    campaigns_enforce(campaigns=Campaign.objects.filter(pk=campaign.pk), source="admin")
    # The periodic runs, in-process, as beat would have them: their heartbeats keep the
    # admin's "enforcement is late" banner away, as on a running system.
    check_all_campaign_budgets()
    enforce_dayparting_for_all_campaigns()
    print(summary.line())
    return campaign.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "screenshots"))
    args = parser.parse_args()

    url = os.environ.get("SCREENSHOTS_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.test_settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    # Served over plain http on this machine only.
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_SECURE_COOKIES"] = "false"
    recreate_database(url)

    import tempfile

    import django

    django.setup()
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread

    call_command("migrate", verbosity=0)
    campaign_id = build_demo()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base_url = f"http://127.0.0.1:{server.port}"
    with tempfile.TemporaryDirectory() as profile:
        driver = chromium(Path(profile))
        try:
            log_in(driver, base_url, USERNAME, PASSWORD)
            for path in capture_console(driver, base_url, Path(args.out), campaign_id=campaign_id):
                print(f"saved {path}")
        finally:
            driver.quit()
            server.terminate()


if __name__ == "__main__":
    main()
