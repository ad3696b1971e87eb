"""Helpers for the browser tests in headless Chromium: waiting for a page or its figures, clicking through to
the next page, screenshots to ``test-artifacts/`` and the check that the console holds no error."""

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
WAIT = 20


def no_console_errors(driver, where: str) -> None:
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, f"console errors on {where}: {severe}"


def wait_ready(driver, condition=None, timeout: float = WAIT):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a page that refreshes itself may replace the element a condition looks at
    WebDriverWait(
        driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(condition or (lambda d: d.execute_script("return document.readyState") == "complete"))


def click_and_wait(driver, element) -> None:
    """Click ``element`` and wait for the page it leads to: the old page reads "complete" (and ready) until the
    navigation starts, so first wait for the clicked element to be gone."""
    from selenium.webdriver.support.expected_conditions import staleness_of

    element.click()
    wait_ready(driver, staleness_of(element))
    wait_ready(driver)


def wait_figures(driver):
    wait_ready(driver, lambda d: d.execute_script("return window.portalReady === true"))


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
