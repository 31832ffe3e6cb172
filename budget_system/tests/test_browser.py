"""The browser fixture itself: headless Chromium reaches the admin and logs in."""

import pytest
from selenium.webdriver.common.by import By


@pytest.mark.django_db(transaction=True)
def test_admin_index_lists_the_apps_after_logging_in(admin_browser):
    admin_browser.get(f"{admin_browser.live_server_url}/admin/")
    body = admin_browser.find_element(By.TAG_NAME, "body").text
    assert "Campaigns" in body
    assert "Brands" in body
