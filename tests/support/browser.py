"""Headless Chromium on a dashboard server, for the tests of `/_mock/ui` (tests/system/test_dashboard_*.py).

The browser is Debian's chromium (`scripts/ensure-chromium`, which `make test` runs, installs it); Playwright
(the `test` extra) drives it through `executable_path`, so no browser download is needed. Without either,
a test module that imports this skips and says why (`needs_chromium`). The fixtures: `server` (a live
emulator with a paid and a free key and slow batches, one per module), `browser`, `page` (a fresh context
that fails the test on console errors, page errors, dialogs or internal server errors) and `api` (plain
HTTP as the paid key).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gemini_mockserver.auth import Identity
from support.servers import api_client, serve

PAID = "project-ui"
KEY = "ui-key"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    explicit = os.environ.get("GEMINI_MOCK_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium found (GEMINI_MOCK_CHROMIUM, or on PATH): run scripts/ensure-chromium (as root it installs Debian's "
                             "chromium), or set GEMINI_MOCK_CHROMIUM to a Chromium binary")


@pytest.fixture(scope="module")
def server():
    keys = {KEY: Identity(KEY, PAID, "ui@example.com", tier="tier2"),
            "free-ui-key": Identity("free-ui-key", "project-free-ui", "free@example.com")}
    config = {"batch": {"pendingSeconds": 3600.0, "runningSeconds": 3600.0}}
    with serve(keys=keys, config=config) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    server.store.reset(config=True, clock=True)
    context = browser.new_context()
    opened = context.new_page()
    problems: list[str] = []
    # (a 4xx the page asked for on purpose is logged by Chromium as a failed resource: not a problem)
    opened.on("console", lambda m: problems.append(m.text)
              if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert not problems, problems
    errors = list(server.store.internal_errors)
    server.store.internal_errors.clear()
    assert not errors, errors


@pytest.fixture
def api(server):
    with api_client(server, key=KEY) as session:
        yield session
