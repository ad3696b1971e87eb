"""Headless Chromium (Debian's chromium and chromium-driver) for the browser tests and ``bench/pages_bench.py``:
one set of flags, so that the timings the bench prints come from the browser the tests drive."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--enable-unsafe-swiftshader",  # software WebGL for the 3D views
    "--window-size=1280,1000",
)


def chromium_installed() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def chromium_driver(profile: Path, *, console_log: bool = False):
    """A Chrome driver on a profile folder of its own; ``console_log`` keeps the page's console for the tests
    that fail on any console error."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
