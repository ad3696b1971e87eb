"""Keyboard and screen-reader access in headless Chromium: the small-screen menu opens from the keyboard and says
whether it is open; picked periodic-table elements say their state in words and by a mark, and their text has
a contrast of at least 4.5:1 (WCAG 2 relative luminance, computed here from the colours the browser draws);
every script, plotly's 4.8 MB included, is deferred: none blocks the page's text from showing (the time to first
content is measured by bench/pages_bench.py)."""

import re

import pytest

from tests.portal.pages.browsing import no_console_errors, wait_figures, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (opaque)."""
    lighter, darker = sorted(
        (_luminance(tuple(float(v) for v in re.findall(r"[\d.]+", c)[:3])) for c in (foreground, background)),
        reverse=True,
    )
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_wcag_examples():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(255, 255, 255)", "rgb(255, 255, 255)") == pytest.approx(1.0)
    # the colour the issue measured for a picked element (#5a9bd8 behind white text): 2.95:1
    assert contrast("rgb(255, 255, 255)", "rgb(90, 155, 216)") == pytest.approx(2.95, abs=0.01)


def test_menu_opens_from_the_keyboard_on_a_phone(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.set_window_size(390, 844)
    try:
        driver.get(live_server.url + "/")
        wait_ready(driver)
        search_link = driver.find_element(By.CSS_SELECTOR, 'nav a[href="/search/"]')
        button = driver.find_element(By.ID, "nav-button")
        assert not search_link.is_displayed()
        assert button.get_attribute("aria-expanded") == "false"
        assert button.get_attribute("aria-controls") == "main-nav"
        assert "Menu" in button.text  # a name for screen readers, not only the icon
        # reach the button with Tab from the page's start, open it with Enter
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        for _ in range(5):
            if driver.switch_to.active_element == button:
                break
            driver.switch_to.active_element.send_keys(Keys.TAB)
        assert driver.switch_to.active_element == button
        button.send_keys(Keys.ENTER)
        assert button.get_attribute("aria-expanded") == "true"
        assert search_link.is_displayed()
        # Escape closes it and gives the focus back to the button
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        assert button.get_attribute("aria-expanded") == "false"
        assert not search_link.is_displayed()
        no_console_errors(driver, "phone menu")
    finally:
        driver.set_window_size(1280, 1000)


def test_picked_elements_say_their_state_with_enough_contrast(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_server.url + "/search/")
    wait_ready(driver, lambda d: d.execute_script("return window.portalReady === true"))
    picks = driver.find_elements(By.CSS_SELECTOR, 'input[name="_pick"]')
    assert len(picks) >= 4, "one choice per kind of element condition"
    seen = set()
    for pick in picks:
        driver.execute_script("arguments[0].click();", pick)
        button = driver.find_element(By.CSS_SELECTOR, '#ptable .el[data-el="Li"]')
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        label = button.get_attribute("aria-label")
        assert label.startswith("Li (") and label.endswith(")"), label
        mark = driver.execute_script("return getComputedStyle(arguments[0], '::after').content;", button)
        assert mark not in ("", "none", "normal"), "a mark besides the colour"
        style = driver.execute_script(
            "var s = getComputedStyle(arguments[0]); return [s.color, s.backgroundColor];", button
        )
        assert contrast(*style) >= 4.5, (pick.get_attribute("value"), style)
        seen.add((label, mark, style[1]))
        button.click()  # unpick before the next kind
        assert button.get_attribute("aria-pressed") == "false"
    # each kind reads differently in words, mark and colour
    assert len({s[0] for s in seen}) == len({s[1] for s in seen}) == len({s[2] for s in seen}) == len(picks)
    no_console_errors(driver, "periodic table")


def test_every_script_is_deferred_and_figures_still_draw(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_server.url + "/phase-diagram/?chemsys=Li-O")
    wait_figures(driver)
    scripts = driver.find_elements(By.CSS_SELECTOR, "script[src]")
    assert scripts and all(s.get_attribute("defer") is not None for s in scripts), [
        (s.get_attribute("src"), s.get_attribute("defer")) for s in scripts
    ]
    # the figures are still drawn, once the deferred scripts have run
    drawn = driver.execute_script("return document.querySelectorAll('[data-figure] .main-svg').length;")
    assert drawn >= 1
    no_console_errors(driver, "deferred plotly")
