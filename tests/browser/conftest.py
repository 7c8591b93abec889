"""Chromium (Debian's, never a Playwright download) driving the demo shop on a live server.

Skips without Chromium or Playwright, but fails when BILLING_REQUIRE names "browser"
(CI). Each test's screenshots go to artifacts/browser/<test>/NN-step.png; they are kept
when the test fails (with a last screenshot and the page's HTML) and removed otherwise.
"""

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing import http
from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("BILLING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: Any
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        skip_or_fail("browser", f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        skip_or_fail("browser", "Playwright is not installed (pip install playwright)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make here are still synchronous, so Django's guard is lifted for them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        try:
            chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            skip_or_fail("browser", f"Chromium did not start: {exc}")
        yield chromium
        chromium.close()
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def shop(live_server: Any, transactional_db: Any, settings: Any) -> Iterator[str]:
    """The demo shop, configured as demo/settings.py does, served by the live server."""
    from demo import settings as demo_settings
    from demo.store.management.commands.demo_data import load_products

    # As the demo runs: every sandbox view answers 404 outside DEBUG, or for an
    # integration that is not in test mode.
    settings.DEBUG = True
    settings.ROOT_URLCONF = "demo.urls"
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = demo_settings.MERCHANT_SETTINGS
    settings.BILLING_SANDBOX = True
    # The shop and the sandbox share the live server's origin, the one origin the
    # stand-ins then notify and send the customer back to (the forms' URLs use it too).
    settings.BILLING_SANDBOX_URL = live_server.url
    # The shop's public origin, which its callback URLs name (tests/settings.py sets the
    # test client's http://testserver, which no browser reaches).
    settings.BILLING_SITE_URL = live_server.url
    load_products()
    client = httpx.Client(timeout=10)  # closed below: no kept-alive socket outlives the test
    http.set_client(client)
    yield live_server.url
    client.close()
    http.set_client(None)


class Steps:
    """Numbered screenshots of one test."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0

    def __call__(self, name: str) -> None:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    folder = request.config.rootpath / "artifacts" / "browser" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    page.steps = Steps(page, folder)
    yield page
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        try:
            page.steps("failure")
            (folder / "failure.html").write_text(page.content())
        except Exception:  # the page may be gone; the earlier steps are kept anyway
            pass
    context.close()
    if not failed:
        shutil.rmtree(folder, ignore_errors=True)
