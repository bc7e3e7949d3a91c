"""Action classification: raw action text -> our action classes, in layers (DOMAIN.md §2.2).

1. `state`: the state's own table, `rules/<state>.toml`, written from that state's real strings;
2. `generic`: `rules/generic.toml`, the phrasing most legislatures share, written from the real
   strings of every state in ../shared/fixtures;
3. `upstream`: the source's own labels for the action (Open States classes, LegiScan progress
   events; tracker/normalize/upstream.py), only for text layers 1 and 2 leave unclassified;
4. `none`: `unclassified`. Kept, shown, counted per state, never a status change.
Every Classification says which layer decided it, and a status inherits the layer of the action
that set it (`status_basis`), so an analyst can tell our reading from the upstream's.

Rule tables are data, so a reviewer can read them and a test can pin them. Each says its match
semantics:
  * "first-match": the first rule whose pattern matches decides (specific rules first);
  * "union": every matching rule adds its classes; a rule with `stop = true` ends matching.
Patterns are case-insensitive Python regexes matched at the start of the text (runs of white space
collapsed). A table may name a `prefix`, a pattern removed from the start of the text before its
rules are tried (UT writes the acting body before every line: `House/ passed 3rd reading`). Named
groups `chapter` and `into` are captured as facts (chapter number, incorporating bill).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from importlib import resources

from tracker.normalize.upstream import UPSTREAM_VERSION, upstream_classes
from tracker.vocab import ACTION_CLASSES, UNCLASSIFIED

LAYER_STATE, LAYER_GENERIC, LAYER_UPSTREAM, LAYER_NONE = "state", "generic", "upstream", "none"
LAYERS = (LAYER_STATE, LAYER_GENERIC, LAYER_UPSTREAM, LAYER_NONE)
GENERIC = "generic"  # the file name of the generic table; no state has that code


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
    prefix: re.Pattern[str] | None = None

    def match(self, cleaned: str) -> tuple[tuple[str, ...], dict[str, str]] | None:
        """(classes, facts) of the rules that match, or None when none does."""
        if self.prefix is not None and (owner := self.prefix.match(cleaned)):
            cleaned = cleaned[owner.end():]  # only at the start of the text
        classes: list[str] = []
        facts: dict[str, str] = {}
        for rule in self.rules:
            found = rule.pattern.match(cleaned)
            if not found:
                continue
            # A table may spell one fact several times in one pattern (`chapter`, `chapter2`...).
            facts.update({k.rstrip("0123456789"): v for k, v in found.groupdict().items() if v})
            classes.extend(c for c in rule.classes if c not in classes)
            if self.semantics == "first-match" or rule.stop:
                break
        return (tuple(classes), facts) if classes else None


@dataclass(frozen=True, slots=True)
class Classification:
    classes: tuple[str, ...]
    facts: dict[str, str] = field(default_factory=dict)
    version: str = ""
    layer: str = LAYER_NONE  # which layer decided: state | generic | upstream | none

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
    try:
        prefix = re.compile(data["prefix"], re.IGNORECASE) if data.get("prefix") else None
    except re.error as exc:
        raise RuleTableError(f"{state}: bad prefix pattern: {exc}") from exc
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
    return RuleTable(state, semantics, tuple(rules), f"{state}:{digest}", prefix)


def _rules_folder():
    return resources.files("tracker.normalize") / "rules"


@cache
def state_table(state: str) -> RuleTable | None:
    """The state's own table, or None for a state that has none yet."""
    path = _rules_folder() / f"{state}.toml"
    if state == GENERIC or not path.is_file():
        return None
    return _parse_table(state, path.read_text(encoding="utf-8"))


@cache
def generic_table() -> RuleTable:
    return _parse_table(GENERIC, (_rules_folder() / f"{GENERIC}.toml").read_text(encoding="utf-8"))


def states_with_tables() -> list[str]:
    return sorted(p.name[:-5] for p in _rules_folder().iterdir()
                  if p.name.endswith(".toml") and p.name != f"{GENERIC}.toml")


@cache
def classifier_version(state: str, own_table: bool = True) -> str:
    """Changes whenever any layer a state's actions go through changes."""
    table = state_table(state) if own_table else None
    parts = [table.version] if table else []
    return "+".join([*parts, generic_table().version, f"upstream:{UPSTREAM_VERSION}"])


@lru_cache(maxsize=200_000)
def classify(state: str, text: str, upstream: tuple[str, ...] = (), *, own_table: bool = True) -> Classification:
    """Classes for one action text. Pure and cached: real sessions repeat the same strings a lot.
    `upstream` is the source's own labels for this action; `own_table=False` skips layer 1 (used to
    measure how the generic and upstream layers carry a state that has no table)."""
    version = classifier_version(state, own_table)
    cleaned = " ".join(text.split())
    table = state_table(state) if own_table else None
    for layer, candidate in ((LAYER_STATE, table), (LAYER_GENERIC, generic_table())):
        if candidate is not None and (found := candidate.match(cleaned)) is not None:
            return Classification(found[0], found[1], version, layer)
    if upstream and (classes := upstream_classes(upstream)):
        return Classification(classes, {}, version, LAYER_UPSTREAM)
    return Classification((UNCLASSIFIED,), {}, version, LAYER_NONE)


def classify_dated(state: str, text: str, when: date | None, as_of: date, upstream: tuple[str, ...] = (),
                   *, own_table: bool = True) -> Classification:
    """Like classify, but an action dated after `as_of` (the fetch date) is only `x-scheduled`."""
    result = classify(state, text, upstream, own_table=own_table)
    if when is not None and when > as_of:
        return Classification(("x-scheduled", *result.classes), result.facts, result.version, result.layer)
    return result
