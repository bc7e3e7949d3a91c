"""Keep the docs honest: every setting in .env.example and the README, every command in the
README, and .ci/run running exactly the README's test command."""

import re
from pathlib import Path

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
