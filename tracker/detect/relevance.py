"""AI relevance (DOMAIN.md §3): is a bill about AI, and how much? Decided from stored data only (title,
abstract, bill text when present), deterministic, and versioned.

Why rules and not a model: the decision has to be explainable to a reader ("matched `deepfake` in the
title"), reviewable as data (`tracker/data/ai_relevance.toml`: vocabulary, trap patterns, tier rules),
reproducible (the same inputs and RELEVANCE_VERSION give the same tier), and measured against human
labels (`benchmarks/relevance.py`). The tiers:

* `core`       AI is the subject of the bill;
* `adjacent`   a technology where AI may be one component (drones, autonomous vehicles, facial
               recognition, algorithmic pricing...): tracked with a flag, users opt in;
* `incidental` AI mentioned in passing (an appropriations line, a commemoration, a passing mention in
               the text): stored, hidden by default;
* `not_ai`     nothing matched, or only a trap word (artificial turf, counterintelligence...).

A reviewer's decision beats the classifier: `tracker/data/relevance_overrides.csv` (bill_key,
decision, reason), loaded with `load_overrides()` and passed in; the result then carries the reason
in `override`. Without `overrides=` the function is pure and reads no file.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tracker.normalize.identifiers import IdentifierError, bill_key, split_bill_key

TIERS = ("core", "adjacent", "incidental", "not_ai")
OVERRIDE_DECISIONS = ("core", "adjacent", "not_ai")
FIELDS = ("title", "abstract", "text")
TERM_KINDS = ("core", "adjacent", "support")
# Bump when the code's reading of the data changes (the data file's hash covers the data itself).
CODE_VERSION = "1"
SNIPPET_CHARS = 80
OVERRIDES_HEADER = ["bill_key", "decision", "reason"]


class RelevanceDataError(ValueError):
    """The vocabulary file is malformed (unknown kind, bad pattern, an example its term misses)."""


class OverridesError(ValueError):
    """The overrides file is malformed; the message names the line."""


@dataclass(frozen=True)
class Evidence:
    term: str
    field: str  # title | abstract | text
    snippet: str  # ~80 characters around the match


@dataclass(frozen=True)
class Relevance:
    tier: str
    score: float  # 0..1, grows with the weight, field and number of matched terms; the tier does not use it
    version: str
    evidence: tuple[Evidence, ...]
    override: str | None = None  # the reviewer's reason, when an override decided the tier


@dataclass(frozen=True, eq=False)
class Term:
    name: str
    kind: str  # core | adjacent | support
    weight: float
    regex: re.Pattern[str]
    triggers: tuple[str, ...]  # substrings every match contains: lower-cased unless case_sensitive
    case_sensitive: bool = False
    examples: tuple[str, ...] = ()

    def triggered(self, text: str, lowered: str) -> bool:
        haystack = text if self.case_sensitive else lowered
        return any(trigger in haystack for trigger in self.triggers)


@dataclass(frozen=True)
class Trap:
    name: str
    pattern: str  # scoped, ready to join into one regex
    examples: tuple[str, ...] = ()


def _scoped(pattern: str, case_sensitive: bool) -> str:
    # One combined case-insensitive regex holds every term; a case-sensitive one is scoped with (?-i:).
    return f"(?-i:{pattern})" if case_sensitive else f"(?:{pattern})"


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RelevanceDataError(f"{what}: bad pattern: {exc}") from exc


def _clean(value: str | None) -> str:
    return " ".join(value.split()) if value else ""


def _snippet(text: str, start: int, end: int) -> str:
    pad = max(0, (SNIPPET_CHARS - (end - start)) // 2)
    left, right = max(0, start - pad), min(len(text), end + pad)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


@dataclass(frozen=True)
class _Hit:
    count: int
    evidence: Evidence


class RelevanceRules:
    """The vocabulary file, compiled: one regex for every term, one for every trap, the tier rules."""

    def __init__(self, text: str, *, source: str = "ai_relevance.toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RelevanceDataError(f"{source}: {exc}") from exc
        self.source = source
        self.version = f"relevance-{CODE_VERSION}+{hashlib.sha256(text.encode()).hexdigest()[:12]}"
        self.field_weights = {f: float(data.get("fields", {}).get(f, 0.0)) for f in FIELDS}
        rules = data.get("rules", {})
        self.text_core_mentions = int(rules.get("text_core_mentions", 3))
        self.text_adjacent_mentions = int(rules.get("text_adjacent_mentions", 3))
        self.text_definition = _compile(rules.get("text_definition", "(?!)"), "rules.text_definition")
        self.commemoration = _compile(rules.get("commemoration", "(?!)"), "rules.commemoration")
        self.funding_vehicle = _compile(rules.get("funding_vehicle", "(?!)"), "rules.funding_vehicle")
        terms, traps = [], []
        for number, entry in enumerate(data.get("term", []), start=1):
            terms.append(self._term(number, entry))
        for number, entry in enumerate(data.get("trap", []), start=1):
            name = entry.get("name") or f"trap {number}"
            pattern = _scoped(entry["pattern"], bool(entry.get("case_sensitive")))
            _compile(pattern, name)
            traps.append(Trap(name, pattern, tuple(entry.get("examples", ()))))
        self.terms: tuple[Term, ...] = tuple(terms)
        self.traps: tuple[Trap, ...] = tuple(traps)
        self.unmatched_trap_examples = tuple(data.get("unmatched_traps", {}).get("examples", ()))
        self._traps_re = _compile("|".join(t.pattern for t in traps) or "(?!)", "traps")

    def _term(self, number: int, entry: dict) -> Term:
        name = entry.get("name") or f"term {number}"
        if entry.get("kind") not in TERM_KINDS:
            raise RelevanceDataError(f"{self.source}: {name}: kind must be one of {TERM_KINDS}")
        case_sensitive = bool(entry.get("case_sensitive"))
        triggers = tuple(entry.get("triggers", ()))
        if not triggers:
            raise RelevanceDataError(f"{self.source}: {name}: a term needs its triggers")
        if not case_sensitive:
            triggers = tuple(t.lower() for t in triggers)
        term = Term(name, entry["kind"], float(entry.get("weight", 1.0)),
                    _compile(_scoped(entry["pattern"], case_sensitive), name), triggers, case_sensitive,
                    tuple(entry.get("examples", ())))
        for example in term.examples:
            cleaned = _clean(example)
            if not term.regex.search(cleaned) or not term.triggered(cleaned, cleaned.lower()):
                raise RelevanceDataError(f"{self.source}: {name}: its example {example!r} does not match it")
        return term

    @classmethod
    def from_path(cls, path: Path) -> RelevanceRules:
        return cls(Path(path).read_text(encoding="utf-8"), source=str(path))

    # -- matching -------------------------------------------------------------------------------

    def mask_traps(self, text: str) -> str:
        """The text with every trap span blanked out (same length, so offsets still point into it)."""
        return self._traps_re.sub(lambda m: " " * len(m.group()), text)

    def matches(self, text: str) -> Iterator[tuple[Term, int, int]]:
        """(term, start, end) of every term match in one cleaned field, traps blanked out first. Only
        the terms whose triggers occur are searched: most bills trigger none, and a plain substring
        test is far cheaper than a case-insensitive regex with word boundaries."""
        lowered = text.lower()
        candidates = [term for term in self.terms if term.triggered(text, lowered)]
        if not candidates:
            return
        masked = self.mask_traps(text)
        for term in candidates:
            for found in term.regex.finditer(masked):
                yield term, found.start(), found.end()

    def _hits(self, field: str, text: str) -> dict[Term, _Hit]:
        hits: dict[Term, _Hit] = {}
        for term, start, end in self.matches(text):
            if term in hits:
                hits[term] = _Hit(hits[term].count + 1, hits[term].evidence)
            else:
                hits[term] = _Hit(1, Evidence(term.name, field, _snippet(text, start, end)))
        return hits

    # -- deciding -------------------------------------------------------------------------------

    def classify(self, title: str, abstract: str | None = None, text: str | None = None) -> Relevance:
        fields = {"title": _clean(title), "abstract": _clean(abstract), "text": _clean(text)}
        hits = {field: self._hits(field, value) if value else {} for field, value in fields.items()}
        tier = self._decide(fields, hits)
        raw = sum(term.weight * self.field_weights[field] * (1.0 + math.log(hit.count))
                  for field, found in hits.items() for term, hit in found.items())
        evidence = tuple(hit.evidence for field in FIELDS for hit in hits[field].values())
        return Relevance(tier, round(1.0 - math.exp(-raw), 3), self.version, evidence)

    def _decide(self, fields: dict[str, str], hits: dict[str, dict[Term, _Hit]]) -> str:
        def kinds(field: str) -> set[str]:
            return {term.kind for term in hits[field]}

        def mentions(field: str, kind: str) -> int:
            return sum(hit.count for term, hit in hits[field].items() if term.kind == kind)

        salient = kinds("title") | kinds("abstract")
        heading = f"{fields['title']} {fields['abstract']}"
        commemoration = bool(self.commemoration.search(heading))
        if "core" in salient:
            if commemoration:
                return "incidental"
            if "core" not in kinds("title") and self.funding_vehicle.search(fields["title"]):
                return "incidental"
            return "core"
        if "core" in kinds("text"):
            if mentions("text", "core") >= self.text_core_mentions or self.text_definition.search(fields["text"]):
                return "core"
            return "incidental"
        if "adjacent" in salient:
            return "incidental" if commemoration else "adjacent"
        if mentions("text", "adjacent") >= self.text_adjacent_mentions:
            return "adjacent"
        return "not_ai"


# -- overrides ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    decision: str
    reason: str


class Overrides(Mapping[str, Override]):
    """A reviewer's include/exclude decisions by bill key (`va-2024-SB487`), each with its reason.
    Keys are stored canonical (`va-2024-SB0487` and `va-2024-SB487` are one bill)."""

    def __init__(self, entries: Mapping[str, Override] | None = None):
        self._entries = {_canonical_key(k): v for k, v in (entries or {}).items()}

    def __getitem__(self, key: str) -> Override:
        return self._entries[_canonical_key(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _canonical_key(key) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _canonical_key(key: str) -> str:
    try:
        return bill_key(*split_bill_key(key.strip()))
    except IdentifierError:
        return key.strip()


def _default_overrides_path() -> Path:
    return Path(str(resources.files("tracker") / "data" / "relevance_overrides.csv"))


def load_overrides(path: Path | None = None) -> Overrides:
    """Read an overrides CSV (header `bill_key,decision,reason`; default
    tracker/data/relevance_overrides.csv). A malformed row raises OverridesError naming its line:
    a silently dropped override would let the classifier's tier stand without anyone noticing."""
    path = Path(path) if path is not None else _default_overrides_path()
    entries: dict[str, Override] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != OVERRIDES_HEADER:
            raise OverridesError(f"{path}: the header must be {','.join(OVERRIDES_HEADER)}, not {header}")
        for row in reader:
            line = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise OverridesError(f"{path}:{line}: expected 3 columns, found {len(row)}")
            raw_key, decision, reason = (cell.strip() for cell in row)
            try:
                key = bill_key(*split_bill_key(raw_key))
            except IdentifierError as exc:
                raise OverridesError(f"{path}:{line}: {exc}") from exc
            if decision not in OVERRIDE_DECISIONS:
                raise OverridesError(f"{path}:{line}: decision must be one of {OVERRIDE_DECISIONS}, not {decision!r}")
            if not reason:
                raise OverridesError(f"{path}:{line}: every override needs a reason")
            if key in entries:
                raise OverridesError(f"{path}:{line}: {key} is listed twice")
            entries[key] = Override(decision, reason)
    return Overrides(entries)


# -- the public functions -------------------------------------------------------------------------


def _data_path() -> Path:
    return Path(str(resources.files("tracker") / "data" / "ai_relevance.toml"))


RULES = RelevanceRules.from_path(_data_path())
RELEVANCE_VERSION: str = RULES.version


def classify_relevance(title: str, abstract: str | None = None, text: str | None = None, *,
                       key: str | None = None, overrides: Overrides | None = None) -> Relevance:
    """The tier of one bill, with the matched terms as evidence. `key` (the bill key) and
    `overrides` (from load_overrides()) let a reviewer's decision win; the classifier's evidence and
    score are kept so the reader sees what it would have said."""
    result = RULES.classify(title, abstract, text)
    if key is not None and overrides is not None and key in overrides:
        chosen = overrides[key]
        return Relevance(chosen.decision, result.score, result.version, result.evidence, chosen.reason)
    return result
