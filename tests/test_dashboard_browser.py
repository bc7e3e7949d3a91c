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
PAGES = [  # url path, text the page must show
    ("", "What changed"),  # the landing page is the root
    ("overview", "AI bills by state"),
    ("bills", "AI bills (relevance core or adjacent) match"),
    ("bills?bill=va-2024-HB747", "Action timeline"),
    ("conflicts", "state-federal conflict(s)"),
    ("federal", "of low confidence, marked [LOW]"),
    ("sources", "Notes from each source's latest run"),
    ("export", "Download CSV"),
]


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
        for path, expected in PAGES:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{server}/{path}{joiner}as_of=2026-08-02")
            page.get_by_text(expected, exact=False).first.wait_for(timeout=20_000)
            page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=20_000)  # run over
            if page.locator("[data-testid='stDataFrame']").count():  # let the first table draw
                page.locator("[data-testid='stDataFrame'] canvas").first.wait_for(timeout=20_000)
            page.wait_for_timeout(300)
            assert not page.locator("[data-testid='stException']").count(), path
            name = (path.split("?")[0] or "changes") + ("-bill" if "bill=" in path else "")
            page.screenshot(path=str(shots / f"{name}.png"), full_page=False)
        # The hostile bill: its title is shown as text, nothing of it runs.
        page.goto(f"{server}/bills?bill=va-2024-HB1&as_of=2026-08-02")
        page.get_by_text("<script>alert(1)</script>", exact=False).first.wait_for(timeout=20_000)
        assert not page.locator("img[src='x']").count() and not page.locator("a[href^='javascript:']").count()
        browser.close()
    assert not alerts  # no injected script ever ran
    assert len(list(shots.glob("*.png"))) == len(PAGES)
