"""Browser tests: the real app served on 127.0.0.1, driven by Debian's Chromium.

Playwright's own browser downloads are not used (the machines have no access to them);
``/usr/bin/chromium`` from apt is. In CI (CI=true) a missing browser, axe-core or built
assets is a failure; elsewhere the browser tests are skipped with the reason.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_database
from tests.required import missing
from tests.web.journeys import build_world, make_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PACE_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ASSETS = ROOT / "web" / "static" / "vendor" / "app.css"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        missing("node_modules/axe-core (npm ci)")
    if not ASSETS.exists():
        if (ROOT / "node_modules" / "govuk-frontend").exists():
            subprocess.run([sys.executable, str(ROOT / "scripts" / "build_assets.py")], check=True)
        else:
            missing("built front-end assets (make assets)")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # bypass_csp lets the test inject axe-core; the app itself allows only its own scripts.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_world(request, tmp_path):
    """The app on a free port, on a SQLite database holding the test world."""
    database = make_database("sqlite", tmp_path, request)
    world = build_world(database, make_app(database))
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    world.base_url = f"http://127.0.0.1:{server.server_port}"
    yield world
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Axe:
    """Runs axe-core on the current page; serious or critical violations fail the test."""

    def __init__(self):
        self.pages: list[str] = []
        self.minor: list[tuple[str, str, str]] = []  # moderate/minor: reported, not failing

    def check(self, page) -> None:
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("() => axe.run(document)")
        bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
        self.pages.append(page.title())
        self.minor.extend((page.title(), v["impact"], v["id"]) for v in results["violations"]
                          if v not in bad)
        assert not bad, f"axe on {page.title()!r} ({page.url}):\n" + "\n".join(
            f"- {v['impact']} {v['id']}: {v['help']} -> "
            + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                        for n in v["nodes"][:5]) for v in bad)


@pytest.fixture
def axe() -> Axe:
    return Axe()
