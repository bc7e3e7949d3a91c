"""Data flows one way (issue #11): fetch, parse, normalize, store, detect, present. The core never imports
the scrapers except where the registry of sources is read, and the store's modules (storage, federal,
reclassify and the row helpers they share) import each other without a circle, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY_READERS = {"cli", "cli_federal", "cli_intel", "cli_dashboard", "cli_deliver", "runs", "schedule"}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_core_imports_scrapers_only_to_read_the_registry():
    offenders = {path.relative_to(ROOT).as_posix(): sorted(m for m in imports_of(path) if m.split(".")[0] == "scrapers")
                 for path in (ROOT / "tracker").rglob("*.py") if path.stem not in REGISTRY_READERS}
    assert not {k: v for k, v in offenders.items() if v}


def test_storage_federal_and_reclassify_import_each_other_without_a_circle():
    store = {"storage", "federal", "reclassify", "rows"}
    graph = {name: {m.split(".")[1] for m in imports_of(ROOT / "tracker" / f"{name}.py")
                    if m.startswith("tracker.") and m.split(".")[1] in store} - {name} for name in store}

    def reaches(start: str, target: str, seen: frozenset = frozenset()) -> bool:
        return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph[start])

    assert not [name for name in store if reaches(name, name)], graph
    assert graph["rows"] == set()  # the shared helpers depend on none of them
