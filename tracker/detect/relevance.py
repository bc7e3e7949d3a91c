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
    triggers: tuple[Trigger, ...] | None  # read off the pattern (literal_triggers)
    examples: tuple[str, ...] = ()


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


# -- literal prefilters -------------------------------------------------------------------------
# A case-insensitive regex with word boundaries and many alternatives costs far more per character
# than a plain substring test, and nearly every bill matches none of our patterns. So each pattern
# gets its "triggers", read off its parse tree: literal strings at least one of which every match
# contains (lower-cased, or exact where the pattern is case-sensitive). A field is searched with a
# pattern only when one of its triggers occurs in it. Correct by construction; a construct the walk
# does not know yields no triggers, and then the pattern is simply always tried.

Trigger = tuple[str, bool]  # (literal, exact): exact literals are compared with the text as written


def literal_triggers(pattern: re.Pattern[str]) -> tuple[Trigger, ...] | None:
    """Literals one of which every match of `pattern` contains, or None when none can be read."""
    try:
        from re import _constants as sre, _parser as parser  # the standard library's own regex parser
        tree = parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - any failure only costs speed
        return None
    found = _sequence_literals(list(tree), bool(pattern.flags & re.IGNORECASE), sre)
    return tuple(sorted(found)) if found else None


def _sequence_literals(items: list, ignorecase: bool, sre) -> set[Trigger] | None:
    candidates: list[set[Trigger]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            candidates.append({("".join(run), not ignorecase)})
            run.clear()

    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av).lower() if ignorecase else chr(av))
            continue
        close_run()
        inner = None
        if op is sre.SUBPATTERN:
            _group, add, remove, sub = av
            scoped = (ignorecase or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
            inner = _sequence_literals(list(sub), scoped, sre)
        elif op is sre.BRANCH:
            alternatives = [_sequence_literals(list(sub), ignorecase, sre) for sub in av[1]]
            inner = None if any(a is None for a in alternatives) else set().union(*alternatives)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            inner = _sequence_literals(list(av[2]), ignorecase, sre)
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            inner = _sequence_literals(list(av), ignorecase, sre)
        if inner:
            candidates.append(inner)
    close_run()
    if not candidates:
        return None
    # The most selective candidate: the longest shortest literal, then the fewest literals.
    return max(candidates, key=lambda c: (min(len(t) for t, _ in c), -len(c)))


def triggered(triggers: tuple[Trigger, ...] | None, text: str, lowered: str) -> bool:
    if triggers is None:
        return True
    return any(literal in (text if exact else lowered) for literal, exact in triggers)


def _snippet(text: str, start: int, end: int) -> str:
    pad = max(0, (SNIPPET_CHARS - (end - start)) // 2)
    left, right = max(0, start - pad), min(len(text), end + pad)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


@dataclass(frozen=True)
class _Hit:
    count: int
    evidence: Evidence


def read_rules_file(text: str, source: str, prefix: str, error: type[ValueError]) -> tuple[dict, str]:
    """A rule file's TOML and its version: `prefix` (the code's own version) and the file's content hash, so
    any edit of the file makes every stored result stale. A malformed file raises `error` naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: {exc}") from exc
    return data, f"{prefix}+{hashlib.sha256(text.encode()).hexdigest()[:12]}"


class RelevanceRules:
    """The vocabulary file, compiled: one regex for every term, one for every trap, the tier rules."""

    def __init__(self, text: str, *, source: str = "ai_relevance.toml"):
        data, self.version = read_rules_file(text, source, f"relevance-{CODE_VERSION}", RelevanceDataError)
        self.source = source
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
        # Trigger -> the terms it can start, looked up lower-cased or as written; terms without
        # triggers are always tried.
        self._by_lowered: dict[str, list[Term]] = {}
        self._by_exact: dict[str, list[Term]] = {}
        self._always = [term for term in self.terms if term.triggers is None]
        for term in self.terms:
            for literal, exact in term.triggers or ():
                (self._by_exact if exact else self._by_lowered).setdefault(literal, []).append(term)

    def _term(self, number: int, entry: dict) -> Term:
        name = entry.get("name") or f"term {number}"
        if entry.get("kind") not in TERM_KINDS:
            raise RelevanceDataError(f"{self.source}: {name}: kind must be one of {TERM_KINDS}")
        regex = _compile(_scoped(entry["pattern"], bool(entry.get("case_sensitive"))), name)
        term = Term(name, entry["kind"], float(entry.get("weight", 1.0)), regex, literal_triggers(regex),
                    tuple(entry.get("examples", ())))
        for example in term.examples:
            if not term.regex.search(_clean(example)):
                raise RelevanceDataError(f"{self.source}: {name}: its example {example!r} does not match it")
        return term

    @classmethod
    def from_path(cls, path: Path) -> RelevanceRules:
        return cls(Path(path).read_text(encoding="utf-8"), source=str(path))

    # -- matching -------------------------------------------------------------------------------

    def mask_traps(self, text: str) -> str:
        """The text with every trap span blanked out (same length, so offsets still point into it)."""
        return self._traps_re.sub(lambda m: " " * len(m.group()), text)

    def matches(self, text: str, *, prefilter: bool = True) -> Iterator[tuple[Term, int, int]]:
        """(term, start, end) of every term match in one cleaned field, traps blanked out first. Only
        the terms whose triggers occur are searched (`prefilter=False` tries every term: tests use it
        to prove the prefilter changes nothing)."""
        if not prefilter:
            masked = self.mask_traps(text)
            for term in self.terms:
                for found in term.regex.finditer(masked):
                    yield term, found.start(), found.end()
            return
        lowered = text.lower()
        wanted = {term for trigger, terms in self._by_lowered.items() if trigger in lowered for term in terms}
        wanted.update(term for trigger, terms in self._by_exact.items() if trigger in text for term in terms)
        wanted.update(self._always)
        if not wanted:
            return
        masked = self.mask_traps(text)
        for term in self.terms:  # file order, so the evidence order is stable
            if term in wanted:
                for found in term.regex.finditer(masked):
                    yield term, found.start(), found.end()

    def funding_vehicle_title(self, title: str) -> bool:
        """Whether a title names a funding vehicle (appropriations, budget): the rule that makes an AI
        line in such a bill's abstract `incidental`."""
        return bool(self.funding_vehicle.search(_clean(title)))

    def _hits(self, field: str, text: str, prefilter: bool = True) -> dict[Term, _Hit]:
        hits: dict[Term, _Hit] = {}
        for term, start, end in self.matches(text, prefilter=prefilter):
            if term in hits:
                hits[term] = _Hit(hits[term].count + 1, hits[term].evidence)
            else:
                hits[term] = _Hit(1, Evidence(term.name, field, _snippet(text, start, end)))
        return hits

    # -- deciding -------------------------------------------------------------------------------

    def classify(self, title: str, abstract: str | None = None, text: str | None = None, *,
                 prefilter: bool = True) -> Relevance:
        fields = {"title": _clean(title), "abstract": _clean(abstract), "text": _clean(text)}
        hits = {field: self._hits(field, value, prefilter) if value else {}
                for field, value in fields.items()}
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

        def commemoration() -> bool:
            return bool(self.commemoration.search(f"{fields['title']} {fields['abstract']}"))

        if "core" in salient:
            if commemoration():
                return "incidental"
            if "core" not in kinds("title") and self.funding_vehicle.search(fields["title"]):
                return "incidental"
            return "core"
        core_in_text = "core" in kinds("text")
        if core_in_text and (mentions("text", "core") >= self.text_core_mentions
                             or self.text_definition.search(fields["text"])):
            return "core"
        if "adjacent" in salient:
            return "incidental" if commemoration() else "adjacent"
        if core_in_text:
            return "incidental"  # AI mentioned in passing in the text
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


def default_overrides_path() -> Path:
    return Path(str(resources.files("tracker") / "data" / "relevance_overrides.csv"))


def load_overrides(path: Path | None = None) -> Overrides:
    """Read an overrides CSV (header `bill_key,decision,reason`; default
    tracker/data/relevance_overrides.csv). A malformed row raises OverridesError naming its line:
    a silently dropped override would let the classifier's tier stand without anyone noticing."""
    path = Path(path) if path is not None else default_overrides_path()
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
                raise OverridesError(f"{path}:{line}: decision must be one of {OVERRIDE_DECISIONS}, "
                                     f"not {decision!r}")
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
