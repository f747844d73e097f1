"""In a real browser (headless Chromium, see tests/moderation/test_browser.py): a staff
member suspended while logged into the admin is thrown out at the next click, cannot log
in again, and a password-guessing run against the admin login is stopped."""

from __future__ import annotations

import pytest

from moderation.roles import moderators_group_ensure
from moderation.services import user_suspend
from tests.factories import PASSWORD, UserFactory
from tests.helpers.stack import wait_until


def log_in(driver, base_url: str, username: str, password: str) -> None:
    """Submit the admin login form and wait for the answer page."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/admin/login/?next=/admin/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    submit = driver.find_element(By.CSS_SELECTOR, "input[type=submit]")
    submit.click()

    def answered(_driver) -> bool:
        # The form element is gone once the answer page loaded. Chromium sometimes
        # answers the probe of a node from the page being left with an inspector error:
        # that also means the page changed.
        try:
            return expected_conditions.staleness_of(submit)(_driver)
        except WebDriverException:
            return True

    WebDriverWait(driver, 30).until(answered)


def login_error(driver) -> str:
    from selenium.webdriver.common.by import By

    return " ".join(element.text for element in driver.find_elements(By.CSS_SELECTOR, ".errornote, .errorlist"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_suspended_moderator_is_thrown_out_of_the_admin_and_guessing_is_stopped(
    browser,  # noqa: F811
    live_server,
    settings,
):
    from selenium.webdriver.common.by import By

    # Every guess below is checked (no per-address backoff yet), so the account-wide limit
    # is what stops the run; tests/accounts/test_admin_security.py covers the backoff.
    settings.LOGIN_BACKOFF_FREE_FAILURES = 20
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 10

    moderator = UserFactory(username="moderator", is_staff=True)
    moderator.groups.add(moderators_group_ensure())
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    guessed = UserFactory(username="guessed", is_staff=True)

    log_in(browser, live_server.url, "moderator", PASSWORD)
    wait_until(lambda: "/admin/login/" not in browser.current_url, timeout=10, message="login")
    browser.get(f"{live_server.url}/admin/accounts/user/")
    assert browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")

    user_suspend(user=moderator, actor=root, reason="abused the queue")

    browser.get(f"{live_server.url}/admin/accounts/user/")
    assert "/admin/login/" in browser.current_url
    log_in(browser, live_server.url, "Moderator", PASSWORD)
    assert "/admin/login/" in browser.current_url
    assert "This account is suspended." in login_error(browser)

    # Eleven wrong passwords, then the right one: refused, with how long to wait.
    for attempt in range(11):
        log_in(browser, live_server.url, "guessed", "not-the-password")
        expected = "Please enter the correct username" if attempt < 10 else "Too many failed logins"
        assert expected in login_error(browser)
    log_in(browser, live_server.url, "guessed", PASSWORD)
    assert "/admin/login/" in browser.current_url
    assert "Too many failed logins; try again in" in login_error(browser)
    assert guessed.pk
