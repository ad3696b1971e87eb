"""Browser checks in headless Chromium of the API's and OPTIMADE's landing pages and of the phase diagram's
downloads: the figure saved as PNG and SVG (the page's buttons and plotly's modebar camera), the entries as CSV
and JSON. Console errors, assets from elsewhere and inputs without a label fail the test."""

import csv
import io
import time
from pathlib import Path

import pytest

from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset
from tests.portal.pages.browsing import click_and_wait, no_console_errors, shot, wait_figures, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTSIDE_ASSETS_JS = """
return performance.getEntriesByType('resource').map(function (r) { return r.name; })
  .filter(function (url) { return new URL(url).origin !== location.origin; });
"""
UNLABELLED_JS = """
return Array.prototype.filter.call(document.querySelectorAll('input:not([type=hidden]), select, textarea'),
  function (el) { return !(el.labels && el.labels.length) && !el.getAttribute('aria-label'); })
  .map(function (el) { return el.outerHTML.slice(0, 120); });
"""


def page_is_clean(driver, where: str) -> None:
    no_console_errors(driver, where)
    assert driver.execute_script(OUTSIDE_ASSETS_JS) == [], where
    assert driver.execute_script(UNLABELLED_JS) == [], where


def saved(folder: Path, suffix: str, count: int = 1, timeout: float = 20) -> Path:
    """The newest file the browser saved in ``folder`` with ``suffix``, once ``count`` of them are complete."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = sorted(
            (p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0), key=lambda p: p.stat().st_mtime
        )
        if len(done) >= count:
            return done[-1]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file saved in {folder}: {list(folder.iterdir())}")


def test_api_and_optimade_landing_pages(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_server.url + "/api/")
    wait_ready(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == "The portal's API"
    hrefs = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#api-endpoints a")]
    for path in ("/api/docs/", "/api/schema/", "/api/token/", "/api/v1/materials/", "/api/v1/stability/"):
        assert live_server.url + path in hrefs
    page_is_clean(driver, "API landing")
    shot(driver, "40-api-landing")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, '#api-endpoints a[href="/api/docs/"]'))
    wait_ready(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
    no_console_errors(driver, "API docs from the landing")

    driver.get(live_server.url + "/api/")
    wait_ready(driver)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, '#api-endpoints a[href="/optimade/"]'))
    assert driver.find_element(By.TAG_NAME, "h1").text == "OPTIMADE"
    page_is_clean(driver, "OPTIMADE landing")
    shot(driver, "41-optimade-landing")
    click_and_wait(
        driver, driver.find_element(By.CSS_SELECTOR, '#optimade-endpoints a[href="/optimade/v1/info"]')
    )
    assert '"api_version"' in driver.page_source
    driver.get(live_server.url + "/optimade/v1/")  # back to a page, then the JSON document's console:
    wait_ready(driver)
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert all("favicon.ico" in e["message"] for e in severe), severe  # a JSON document has no icon link


@pytest.mark.parametrize("chemsys", ["O-Li"])
def test_phase_diagram_downloads(browser, live_server, live_catalogue, tmp_path, chemsys):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver = browser
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    driver.get(f"{live_server.url}/phase-diagram/?chemsys={chemsys}")
    wait_figures(driver)
    figure = driver.find_element(By.ID, "pd-figure")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
    # plotly's modebar offers the PNG download (camera button); the page adds PNG and SVG buttons
    camera = figure.find_elements(By.CSS_SELECTOR, '.modebar-btn[data-title^="Download plot as a"]')
    assert len(camera) == 1
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
        driver.find_element(By.CSS_SELECTOR, f'button[data-image-download="{fmt}"]').click()
        image = saved(tmp_path, f".{fmt}")
        assert image.name == f"Li-O_dft_phase_diagram.{fmt}"
        assert image.read_bytes().lstrip()[: len(magic)] == magic
    assert b"Li2O" in (tmp_path / "Li-O_dft_phase_diagram.svg").read_bytes()  # the labels are in the SVG
    ActionChains(driver).move_to_element(figure).perform()
    camera[0].click()
    assert saved(tmp_path, ".png", count=2).read_bytes()[:4] == b"\x89PNG"

    # the entries as CSV: the same rows as the page's table (ids and energies)
    driver.find_element(By.ID, "show-all-rows").click()
    table = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#entries-table tbody tr'),"
        " function (r) { return [r.cells[1].textContent, r.cells[2].textContent, r.cells[3].textContent]; });"
    )
    csv_link = driver.find_element(By.ID, "pd-download-csv")
    json_link = driver.find_element(By.ID, "pd-download-json")
    assert "chemsys=Li-O" in csv_link.get_attribute("href") and "hull_set=dft" in json_link.get_attribute(
        "href"
    )
    csv_link.click()
    rows = list(csv.DictReader(io.StringIO(saved(tmp_path, ".csv").read_text())))
    assert [r["id"] for r in rows] == [t[0] for t in table]
    for row, (_, formation, above) in zip(rows, table, strict=True):
        assert f"{float(row['formation_energy_per_atom (eV/atom)']):.4f}" == formation
        assert (
            f"{float(row['e_above_hull (eV/atom)']):.4f}" if row["e_above_hull (eV/atom)"] else "—"
        ) == above
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", csv_link)
    shot(driver, "42-phase-diagram-downloads")
    json_link.click()
    assert '"eV/atom"' in saved(tmp_path, ".json").read_text()
    page_is_clean(driver, "phase diagram downloads")


TO_IMAGE_JS = """
var done = arguments[arguments.length - 1];
window.Plotly.toImage(document.getElementById('pd-figure'), {format: arguments[0], width: 600, height: 450})
  .then(function (url) { done(url); }, function (error) { done('error: ' + error); });
"""


def test_a_tetrahedron_exports_as_svg_and_png(browser, live_server, mp_entry_dicts, tmp_path):
    """The 4-element diagram is a WebGL scene: plotly.js reads its pixels into the image (software WebGL here)."""
    ingest_file(path=write_json(tmp_path / "lifepo.json", subset(mp_entry_dicts, {"Li", "Fe", "P", "O"})))
    driver = browser
    driver.get(f"{live_server.url}/phase-diagram/?chemsys=Li-Fe-P-O")
    wait_figures(driver)
    svg = driver.execute_async_script(TO_IMAGE_JS, "svg")
    png = driver.execute_async_script(TO_IMAGE_JS, "png")
    assert svg.startswith("data:image/svg+xml,") and "image" in svg  # the scene as an image inside the SVG
    assert png.startswith("data:image/png;base64,") and len(png) > 20000
    page_is_clean(driver, "4-element phase diagram exported")
