"""One real-browser test of the dashboard: a running `streamlit run` (started the way `tracker dashboard`
and `tracker run` start it) opened page by page in Debian's chromium through Playwright, the rendered
text checked and a screenshot saved. Skips, saying why, without /usr/bin/chromium or Playwright."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.test_dashboard import dashboard_db  # noqa: F401  (the module's seeded database)
from tracker.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
PAGES = [  # sidebar label (None: opened by its URL), url path, text the page must show, screenshot name
    (None, "", "What changed", "changes"),
    ("Overview", "overview", "AI bills by state", "overview"),
    ("Bills", "bills", "AI bills (relevance core or adjacent) match", "bills"),
    ("Conflicts", "conflicts", "state-federal conflict(s)", "conflicts"),
    ("Federal", "federal", "of low confidence, marked [LOW]", "federal"),
    ("Sources", "sources", "Notes from each source's latest run", "sources"),
    ("Export", "export", "Download CSV", "export"),
    ("Subscriptions", "subscriptions", "Add a subscriber", "subscriptions"),
    (None, "bills?bill=va-2024-HB747", "Action timeline", "bills-bill"),
]


BUSY = "[data-testid='stStatusWidget'], [data-testid='stSkeleton'], [data-testid='stAppRunningIcon']"


def settle(page, timeout: float = 20.0) -> None:
    """Wait until the script run is over and every element is drawn: nothing busy twice in a row,
    each table's canvas and each chart's drawing present."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        drawn = (page.locator("[data-testid='stDataFrame']:visible canvas").count()  # tables in other tabs
                 >= page.locator("[data-testid='stDataFrame']:visible").count()  # draw when shown
                 and page.locator(".vega-embed canvas, .vega-embed svg").count()
                 >= page.locator(".vega-embed").count())
        quiet = quiet + 1 if drawn and not page.locator(BUSY).count() else 0
        page.wait_for_timeout(250)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(dashboard_db, tmp_path):  # noqa: F811
    from tracker.cli_dashboard import start_dashboard_process

    port = _free_port()
    settings = Settings(database_url=dashboard_db, data_dir=tmp_path)
    process = start_dashboard_process(settings, port=port, stdout=open(tmp_path / "streamlit.log", "w"),
                                      stderr=open(tmp_path / "streamlit.err", "w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail("the dashboard did not start: " + (tmp_path / "streamlit.err").read_text())
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_every_page_renders_in_a_real_browser(server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package ('.[test]')")
    shots = Path(os.environ.get("TRACKER_DASHBOARD_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        alerts: list[str] = []
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
        for label, path, expected, name in PAGES:  # one session: sidebar clicks, as a reader moves
            if label is None:
                joiner = "&" if "?" in path else "?"
                page.goto(f"{server}/{path}{joiner}as_of=2026-08-02")
            else:
                page.locator("[data-testid='stSidebarNav']").get_by_text(label, exact=True).click()
            page.get_by_text(expected, exact=False).first.wait_for(timeout=20_000)
            settle(page)
            assert not page.locator("[data-testid='stException']").count(), path
            assert page.locator("[data-testid='stSidebar'] input").first.input_value() == "2026-08-02"  # pinned
            page.screenshot(path=str(shots / f"{name}.png"), full_page=False)
        # The hostile bill: its title is shown as text, nothing of it runs.
        page.goto(f"{server}/bills?bill=va-2024-HB1&as_of=2026-08-02")
        page.get_by_text("<script>alert(1)</script>", exact=False).first.wait_for(timeout=20_000)
        assert not page.locator("img[src='x']").count() and not page.locator("a[href^='javascript:']").count()
        browser.close()
    assert not alerts  # no injected script ever ran
    assert len(list(shots.glob("*.png"))) == len(PAGES)
