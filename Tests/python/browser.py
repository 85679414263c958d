"""Headless Chromium for the page tests: Debian's chromium and chromium-driver through Selenium,
offline (the driver and browser are named, so Selenium Manager never tries to download one).

Screenshots go to MMAPD_SCREENSHOTS (default: a fresh temporary directory, printed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Generous: the suite shares two cores with builds, and a debug server serves the pages.
WAIT_SECONDS = 60

T = TypeVar("T")


def start_chromium() -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,860", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def screenshot_directory() -> Path:
    named = os.environ.get("MMAPD_SCREENSHOTS")
    directory = Path(named) if named else Path(tempfile.mkdtemp(prefix="mmapd-screenshots-"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], T], what: str) -> T:
    """Polls `condition` until it is truthy (an event, not a sleep); fails naming `what`."""
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(condition, message=f"waiting for {what}")
