"""Action classification: raw action text -> our action classes, from per-state rule tables.

Rule tables are data (`rules/<state>.toml`), so a reviewer can read them and a test can pin
them. Each table says its match semantics:
  * "first-match": the first rule whose pattern matches decides (specific rules first);
  * "union": every matching rule adds its classes; a rule with `stop = true` ends matching.
Patterns are case-insensitive Python regexes searched from the start of the text. Named
groups `chapter` and `into` are captured as facts (chapter number, incorporating bill).
A text no rule matches is `unclassified`: kept, shown, never a status change.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from importlib import resources

from tracker.vocab import ACTION_CLASSES, UNCLASSIFIED


class RuleTableError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    classes: tuple[str, ...]
    stop: bool = False


@dataclass(frozen=True, slots=True)
class RuleTable:
    state: str
    semantics: str
    rules: tuple[Rule, ...]
    version: str  # changes whenever the table's text changes


@dataclass(frozen=True, slots=True)
class Classification:
    classes: tuple[str, ...]
    facts: dict[str, str] = field(default_factory=dict)
    version: str = ""

    @property
    def unclassified(self) -> bool:
        return self.classes == (UNCLASSIFIED,)

    @property
    def class_set(self) -> frozenset[str]:
        return _class_set(self.classes)


@lru_cache(maxsize=4096)
def _class_set(classes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(classes)


def _parse_table(state: str, text: str) -> RuleTable:
    data = tomllib.loads(text)
    semantics = data.get("semantics")
    if semantics not in ("first-match", "union"):
        raise RuleTableError(f"{state}: semantics must be 'first-match' or 'union', not {semantics!r}")
    rules = []
    for number, entry in enumerate(data.get("rule", []), start=1):
        classes = tuple(entry.get("classes", ()))
        unknown = [c for c in classes if c not in ACTION_CLASSES]
        if unknown or not classes:
            raise RuleTableError(f"{state} rule {number}: unknown or missing classes {unknown or classes}")
        try:
            pattern = re.compile(entry["match"], re.IGNORECASE)
        except (KeyError, re.error) as exc:
            raise RuleTableError(f"{state} rule {number}: bad pattern: {exc}") from exc
        rules.append(Rule(pattern, classes, bool(entry.get("stop", False))))
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return RuleTable(state, semantics, tuple(rules), f"{state}:{digest}")


@cache
def rule_table(state: str) -> RuleTable:
    """The table for a state, falling back to the generic table `common.toml`."""
    name = f"{state}.toml"
    folder = resources.files("tracker.normalize") / "rules"
    if not (folder / name).is_file():
        name = "common.toml"
    return _parse_table(state, (folder / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=200_000)
def classify(state: str, text: str) -> Classification:
    """Classes for one action text. Pure and cached: real sessions repeat the same strings a lot."""
    table = rule_table(state)
    cleaned = " ".join(text.split())
    classes: list[str] = []
    facts: dict[str, str] = {}
    for rule in table.rules:
        match = rule.pattern.match(cleaned)
        if not match:
            continue
        facts.update({k: v for k, v in match.groupdict().items() if v})
        classes.extend(c for c in rule.classes if c not in classes)
        if table.semantics == "first-match" or rule.stop:
            break
    return Classification(tuple(classes) or (UNCLASSIFIED,), facts, table.version)


def classify_dated(state: str, text: str, when: date | None, as_of: date) -> Classification:
    """Like classify, but an action dated after `as_of` (the fetch date) is only `x-scheduled`."""
    result = classify(state, text)
    if when is not None and when > as_of:
        return Classification(("x-scheduled", *result.classes), result.facts, result.version)
    return result
