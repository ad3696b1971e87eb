"""Browser checks in headless Chromium of the phase diagram as a reader sees it (labels and colour bar drawn, the
entries table sorted by a click) and of the stability check reached from the menu."""

import pytest

from tests.portal.pages.browsing import click_and_wait, no_console_errors, shot, wait_figures, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLUMN_JS = """
var column = arguments[0];
return Array.prototype.map.call(document.querySelectorAll('#entries-table tbody tr'), function (row) {
  var text = row.cells[column].textContent.trim();
  return text === '—' ? null : parseFloat(text);
});
"""


def test_labelled_diagram_and_sorted_table(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_server.url + "/phase-diagram/?chemsys=O-Li")
    wait_figures(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Phase diagram of O-Li"
    labels = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#pd-figure .textpoint text'),"
        " function (t) { return t.textContent; });"
    )
    assert "Li2O" in labels and "Li2O2" in labels
    colour_bar = driver.execute_script(
        "var t = document.querySelector('#pd-figure .g-y2title text'); return t ? t.textContent : '';"
    )
    assert colour_bar == "energy above hull (eV/atom)"

    driver.find_element(By.ID, "show-all-rows").click()
    column = 3  # above hull (eV/atom)
    header = driver.find_element(By.CSS_SELECTOR, "#entries-table thead th:nth-child(4)")
    header.find_element(By.TAG_NAME, "button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    values = [v for v in driver.execute_script(COLUMN_JS, column) if v is not None]
    assert len(values) > 10 and values == sorted(values) and values[-1] > values[0]
    header.find_element(By.TAG_NAME, "button").click()
    assert header.get_attribute("aria-sort") == "descending"
    values = [v for v in driver.execute_script(COLUMN_JS, column) if v is not None]
    assert values == sorted(values, reverse=True)
    # the formula column sorts as text
    formula = driver.find_element(By.CSS_SELECTOR, "#entries-table thead th:nth-child(1) button")
    formula.click()
    names = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#entries-table tbody tr td:first-child a'),"
        " function (a) { return a.textContent; });"
    )
    assert names[0] == "Li" and names[-1] == "O2" and names != sorted(names, reverse=True)
    shot(driver, "30-phase-diagram-sorted")
    no_console_errors(driver, "sorted phase diagram")


def test_stability_check_from_the_menu(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_server.url + "/")
    wait_ready(driver)
    driver.find_element(By.ID, "nav-stability").click()
    wait_ready(driver, lambda d: d.find_elements(By.ID, "stability-form"))
    driver.find_element(By.ID, "id_formula").send_keys("Li2O")
    driver.find_element(By.ID, "id_energy").send_keys("-3")
    click_and_wait(driver, driver.find_element(By.ID, "stability-button"))
    wait_figures(driver)  # the diagram with the compound marked
    assert driver.execute_script(
        "return document.getElementById('stability-figure').data"
        ".some(function (t) { return t.name === 'your compound (Li2O)'; });"
    )
    assert "eV/atom" in driver.find_element(By.ID, "e-above-hull").text
    assert "Li-O and its subsystems" in driver.find_element(By.ID, "provenance").text
    shot(driver, "31-stability-check")
    no_console_errors(driver, "stability check")
    driver.find_element(By.ID, "nav-api").click()
    wait_ready(
        driver, lambda d: d.execute_script("return !!document.querySelector('.swagger-ui .info .title')")
    )
