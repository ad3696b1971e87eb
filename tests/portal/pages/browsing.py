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


def gone(element):
    """A wait condition: ``element`` has left the document. Asked while the old page is being torn down,
    chromedriver may answer "Node with given id does not belong to the document" instead of a stale reference
    (seen once in a full run on PostgreSQL): that means gone too."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def condition(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return condition


def click_and_wait(driver, element) -> None:
    """Click ``element`` and wait for the page it leads to: the old page reads "complete" (and ready) until the
    navigation starts, so first wait for the clicked element to be gone."""
    element.click()
    wait_ready(driver, gone(element))
    wait_ready(driver)


def wait_figures(driver):
    wait_ready(driver, lambda d: d.execute_script("return window.portalReady === true"))


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
