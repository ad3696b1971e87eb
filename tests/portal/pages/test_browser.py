"""Browser tests in headless Chromium (Debian's chromium and chromium-driver) against the live server: from the
home page to a material, its 3D view, its phase diagram, the unstable-entry control and back to a material by
clicking a point; then every family screen. Any console error fails the test; screenshots go to
``test-artifacts/``."""

import shutil
import tempfile
from pathlib import Path

import pytest

from hull.services.ingest import ingest_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
WAIT = 20


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(
            "Chromium is missing: apt-get install -y chromium chromium-driver (scripts/test.sh does it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="portal-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--enable-unsafe-swiftshader",  # software WebGL for the 3D views
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def live_catalogue(li_o_file):
    return ingest_file(path=li_o_file)


def no_console_errors(driver, where: str) -> None:
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, f"console errors on {where}: {severe}"


def wait_ready(driver, condition=None):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(
        condition or (lambda d: d.execute_script("return document.readyState") == "complete")
    )


def wait_figures(driver):
    wait_ready(driver, lambda d: d.execute_script("return window.portalReady === true"))


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_search_material_diagram_and_back(browser, live_server, live_catalogue):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(live_server.url + "/")
    wait_figures(driver)
    shot(driver, "01-home")
    no_console_errors(driver, "home")

    # Search by clicking: the nav, the periodic table, the search button.
    driver.find_element(By.LINK_TEXT, "Search").click()
    wait_ready(driver)
    driver.find_element(By.CSS_SELECTOR, '#ptable [data-el="Li"]').click()
    driver.find_element(By.CSS_SELECTOR, '#ptable [data-el="O"]').click()
    assert driver.find_element(By.ID, "f-elements").get_attribute("value") == "Li,O"
    driver.find_element(By.NAME, "formula").send_keys("Li2O")
    driver.find_element(By.ID, "search-button").click()
    wait_ready(driver, lambda d: "formula=Li2O" in d.current_url)
    assert "elements=Li%2CO" in driver.current_url and "exclude_elements" not in driver.current_url
    shot(driver, "02-search")
    no_console_errors(driver, "search")

    # Open a material and rotate its 3D view.
    driver.find_element(By.CSS_SELECTOR, "a.material-link").click()
    wait_figures(driver)
    assert "/materials/" in driver.current_url
    view = driver.find_element(By.ID, "structure-view")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", view)
    before = driver.execute_script("return JSON.stringify(arguments[0]._fullLayout.scene.camera.eye)", view)
    ActionChains(driver).move_to_element(view).click_and_hold().move_by_offset(120, 40).release().perform()
    wait_ready(
        driver,
        lambda d: (
            d.execute_script("return JSON.stringify(arguments[0]._fullLayout.scene.camera.eye)", view)
            != before
        ),
    )
    shot(driver, "03-material")
    no_console_errors(driver, "material")

    # Its phase diagram; move the unstable control.
    driver.find_element(By.ID, "pd-link").click()
    wait_figures(driver)
    assert "chemsys=Li-O" in driver.current_url
    count_js = (
        "var d = document.getElementById('pd-figure');"
        "return d.data.find(function (t) { return t.meta && t.meta.role === 'unstable'; }).x.length;"
    )
    shown = driver.execute_script(count_js)
    rows = len(driver.find_elements(By.CSS_SELECTOR, "#entries-table tbody tr:not([hidden])"))
    slider = driver.find_element(By.ID, "cutoff")
    slider.send_keys(Keys.HOME)
    wait_ready(driver, lambda d: d.find_element(By.ID, "cutoff-value").text == "0.000")
    wait_ready(driver, lambda d: d.execute_script(count_js) < shown)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#entries-table tbody tr:not([hidden])")) < rows
    assert "cutoff=0" in driver.current_url
    slider.send_keys(Keys.END)
    wait_ready(driver, lambda d: d.execute_script(count_js) >= shown)
    shot(driver, "04-phase-diagram")
    no_console_errors(driver, "phase diagram")

    # Click a stable compound on the plot: its page opens.
    plot = driver.find_element(By.ID, "pd-figure")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    target = driver.execute_script(
        """
        var gd = document.getElementById('pd-figure');
        var trace = gd.data.find(function (t) { return t.name === 'stable'; });
        var i = trace.x.findIndex(function (x) { return x > 0.05 && x < 0.95; });
        var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        return [xa._offset + xa.l2p(trace.x[i]) - box.width / 2, ya._offset + ya.l2p(trace.y[i]) - box.height / 2,
                trace.customdata[i][0]];
        """
    )
    ActionChains(driver).move_to_element_with_offset(plot, int(target[0]), int(target[1])).pause(
        0.3
    ).perform()
    hovered = driver.execute_script(
        "var h = document.getElementById('pd-figure')._hoverdata; return h && h[0].customdata[0];"
    )
    assert hovered, "no point under the pointer"
    ActionChains(driver).click().perform()
    wait_ready(driver, lambda d: f"/materials/{hovered}/" in d.current_url)
    wait_figures(driver)
    shot(driver, "05-material-from-diagram")
    no_console_errors(driver, "material from the diagram")


def test_family_screens_and_dashboard(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    for link_id in ("fam-layered", "fam-li-conductors", "fam-li-mn-oxides", "fam-prototypes"):
        driver.get(live_server.url + "/families/")
        wait_ready(driver)
        driver.find_element(By.ID, link_id).click()
        wait_ready(driver, lambda d: d.find_elements(By.ID, "funnel"))
        shot(driver, f"06-{link_id}")
        no_console_errors(driver, link_id)
    driver.find_element(By.LINK_TEXT, "Discovery").click()
    wait_ready(driver, lambda d: d.find_elements(By.ID, "no-rounds"))
    no_console_errors(driver, "discovery dashboard")
    # A phone-sized window: the menu folds away and the ternary diagram still draws.
    driver.set_window_size(390, 844)
    try:
        driver.get(live_server.url + "/phase-diagram/?chemsys=Li-O")
        wait_figures(driver)
        search_link = driver.find_element(By.CSS_SELECTOR, 'nav a[href="/search/"]')
        assert not search_link.is_displayed()
        driver.find_element(By.CSS_SELECTOR, "label.nav-button").click()
        assert search_link.is_displayed()
        shot(driver, "07-phone-phase-diagram")
        no_console_errors(driver, "phone")
    finally:
        driver.set_window_size(1280, 1000)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/auth/login/", "/admin/login/"])
def test_third_party_pages_work_under_the_content_security_policy(browser, live_server, path):
    """Swagger UI (its script from a file), the sign-in pages: drawn with no console errors (a refused inline
    script or style is one; the admin's missing favicon is not ours)."""
    driver = browser
    driver.get(live_server.url + path)
    wait_ready(driver)
    if path == "/api/docs/":
        wait_ready(
            driver, lambda d: d.execute_script("return !!document.querySelector('.swagger-ui .info .title')")
        )
    else:
        wait_ready(
            driver, lambda d: d.execute_script("return !!document.querySelector('input[name=password]')")
        )
    shot(driver, "08" + path.replace("/", "-").rstrip("-"))
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert [e for e in severe if "/favicon.ico" not in e["message"]] == [], severe  # the admin links no icon
