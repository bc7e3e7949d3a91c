"""Keep the docs honest: every setting in .env.example and the README, every command in the
README, and .ci/run running exactly the README's test command."""

import re
from pathlib import Path

import pytest
from typer.main import get_command

from tracker.cli import app
from tracker.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS_DOC = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")


def setting_names() -> set[str]:
    return {f"TRACKER_{name.upper()}" for name in Settings.model_fields}


def test_env_example_lists_exactly_the_settings():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^(TRACKER_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert listed == setting_names()


def test_readme_names_every_setting_and_docs_settings_documents_each():
    missing = sorted(name for name in setting_names() if name not in README)
    assert not missing, f"README does not mention {missing}"
    rows = set(re.findall(r"^\| `(TRACKER_[A-Z_]+)`", SETTINGS_DOC, flags=re.MULTILINE))
    assert rows == setting_names(), f"docs/settings.md rows differ: {sorted(rows ^ setting_names())}"


def test_readme_links_every_docs_page():
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages and all(f"docs/{page}" in README for page in pages)


def test_readme_documents_every_command():
    root = get_command(app)
    names = []
    for name, command in root.commands.items():
        subs = getattr(command, "commands", None)
        names += [f"tracker {name} {sub}" for sub in subs] if subs else [f"tracker {name}"]
    missing = [name for name in names if name not in README]
    assert not missing, f"README does not document {missing}"


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, flags=re.DOTALL)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _commands() -> list[str]:
    """Every command the README shows in a sh or console block."""
    found = []
    for lang, body in re.findall(r"```(sh|console)\n(.*?)\n```", README, flags=re.DOTALL):
        found += [line[2:] if lang == "console" else line for line in body.splitlines()
                  if lang == "sh" or line.startswith("$ ")]
    return found


def test_readme_commands_run_the_venv_tracker_not_a_bare_tracker():
    # After the README's two commands the venv is not activated: a bare `tracker` is not on the PATH.
    commands = _commands()
    assert commands and any(".venv/bin/tracker" in c for c in commands)
    bare = [c for c in commands if re.search(r"(^|[\s;&|(])tracker\s", c)]
    assert not bare, f"README examples that call a bare `tracker`: {bare}"


@pytest.mark.shared
def test_readme_offline_examples_work_as_written(settings, monkeypatch):
    """The README's offline console block, run as written (../shared where it is) on an empty database
    at the default location: each command exits 0 and prints the lines shown (`...` shortens one)."""
    import shlex

    from typer.testing import CliRunner

    from tests.conftest import SHARED, shared_file
    from tracker.config import get_settings

    shared_file("fixtures/states/wa/wsl_GetLegislationIntroducedSince_2025-26_FULL.xml.gz")
    shared_file("fixtures/states/openstates_sessions/co_2026A.jsonl.gz")
    block = README.split("Offline, on the real recorded files", 1)[1].split("```console\n", 1)[1].split("\n```", 1)[0]
    examples: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            examples.append((line[2:], []))
        else:
            examples[-1][1].append(line)
    monkeypatch.delenv("TRACKER_DATABASE_URL")  # the default, ./data/tracker.db (in a temporary folder)
    monkeypatch.delenv("TRACKER_DATA_DIR")
    monkeypatch.setenv("TRACKER_HTTP_REQUESTS_PER_MINUTE", "100000")  # replayed: no politeness wait needed
    assert examples
    for command, expected in examples:
        words = shlex.split(command.replace("../shared", str(SHARED)))
        with monkeypatch.context() as env:
            while "=" in words[0]:
                name, value = words.pop(0).split("=", 1)
                env.setenv(name, value)
            assert words[0] == ".venv/bin/tracker", command
            get_settings.cache_clear()
            result = CliRunner().invoke(app, words[1:])
        get_settings.cache_clear()
        assert result.exit_code == 0, (command, result.output)
        lines = result.output.splitlines()
        for want in expected:
            if want.endswith("..."):
                assert any(line.startswith(want[:-3]) for line in lines), (command, want, result.output)
            else:
                assert want in lines, (command, want, result.output)
