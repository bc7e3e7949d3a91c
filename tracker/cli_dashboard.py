"""`tracker dashboard [--port N]`: the Streamlit dashboard (dashboard/app.py) against the configured
database. `start_dashboard_process(settings)` is what `tracker run` calls to start it beside the scheduler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker import db as database
from tracker.config import Settings, get_settings
from tracker.display import say

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
DEFAULT_PORT = 8501


def dashboard_command(settings: Settings, port: int = DEFAULT_PORT, address: str = "127.0.0.1",
                      headless: bool = True) -> tuple[list[str], dict[str, str]]:
    """The `streamlit run` command line and environment: the database URL goes through the environment
    (never on the command line, where `ps` shows it), telemetry and file watching off."""
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
               "--server.address", address, "--server.headless", str(headless).lower(),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--global.developmentMode", "false", "--client.toolbarMode", "viewer"]
    env = dict(os.environ)
    env["TRACKER_DATABASE_URL"] = settings.database_url
    env["TRACKER_DATA_DIR"] = str(settings.data_dir)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return command, env


def start_dashboard_process(settings: Settings, port: int = DEFAULT_PORT, address: str = "127.0.0.1",
                            **popen: object) -> subprocess.Popen:
    """Start the dashboard as a child process (for `tracker run`); the caller terminates it on exit."""
    database.upgrade(settings.database_url)
    command, env = dashboard_command(settings, port, address)
    # The caller's working directory: a relative SQLite URL, `.env` and `.streamlit/secrets.toml` are
    # found where the command was started, as for every other command.
    return subprocess.Popen(command, env=env, **popen)


def dashboard(port: Annotated[int, typer.Option(help="Port to serve on.")] = DEFAULT_PORT,
              address: Annotated[str, typer.Option(help="Address to bind (0.0.0.0 for a team server: set a "
                                                        "password first, see README).")] = "127.0.0.1") -> None:
    """Open the dashboard (What changed, Overview, Bills, Conflicts, Federal, Sources, Export)."""
    import signal

    settings = get_settings()
    say(f"dashboard: http://{address}:{port}/  (Ctrl-C to stop)")
    process = start_dashboard_process(settings, port, address)

    def stop(signum, _frame):  # SIGTERM to us stops the dashboard too: no orphaned server
        process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    raise typer.Exit(0 if code in (0, -signal.SIGTERM) else code)
