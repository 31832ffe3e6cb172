"""Screenshots of the admin for the README, taken with the browser tests' Chromium.

`dashboard_screenshot(browser, path)` takes a logged-in browser (the `admin_browser`
fixture, or any Selenium driver on a running server with `base_url`) and saves the
whole dashboard page as a PNG, 1440 px wide. `campaigns/tests/test_dashboard_browser.py`
runs it; with UPDATE_SCREENSHOTS=1 it writes docs/screenshots/dashboard.png.
"""

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

SCREENSHOT_WIDTH = 1440
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def full_page_screenshot(browser, path: Path, *, width: int = SCREENSHOT_WIDTH) -> Path:
    """Save the current page, all of it, `width` CSS pixels wide; the window size is restored."""
    saved = browser.get_window_size()
    try:
        browser.set_window_size(width, 1000)
        # The page is narrower than the window by the browser's frame and scroll bar, if any.
        frame = width - browser.execute_script("return document.documentElement.clientWidth")
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width + frame, height + 100)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        browser.find_element(By.TAG_NAME, "body").screenshot(str(path))
    finally:
        browser.set_window_size(saved["width"], saved["height"])
    return path


def dashboard_screenshot(browser, path: Path, *, base_url: str | None = None) -> Path:
    """Open the admin's front page and save the dashboard as `path` (PNG)."""
    browser.get(f"{base_url or browser.live_server_url}/admin/")
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "ops-dashboard")))
    return full_page_screenshot(browser, path)
