"""AI topics (DOMAIN.md §4): what kind of AI law a bill is, as canonical topics (multi-label) and
obligation tags, from stored data only (title, abstract, bill text when present).

Why phrase rules: like relevance, the answer must be explainable ("`chatbots`: matched `companion
chatbot` in the title"), reviewable as data (`tracker/data/topics.toml`: topics, phrases, the NCSL
crosswalk, obligation tags) and versioned (TOPICS_VERSION changes with the file). Topics are meant
for bills the relevance classifier keeps; on a bill that is not about AI, `health_care` only says
the bill is about health.

Each topic's phrases come in named groups (`employment:workplace`, `employment:workforce`), and the
crosswalk to NCSL's categories is written per group: NCSL files AI hiring tools under "Private
Sector Use" but AI's effect on jobs under "Effect on Labor/Employment", and one topic holds both.
The groups that matched are kept in the evidence (`Evidence.term` is `topic:group`), so
`ncsl_categories()` of a TopicResult maps exactly what was found.

Long abstracts (a legislative counsel's digest runs to thousands of characters) would otherwise
collect every sector they mention in passing. So the abstract's account of existing law is dropped
("Existing law requires..." up to "This bill would..."), and in an abstract longer than the file's
`[abstract] long_chars` a sector topic marked `long_abstract = "lead"` counts only in the abstract's
first sentences (and the title).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tracker.detect.relevance import Evidence, Trigger, literal_triggers, read_rules_file, triggered
from tracker.detect.relevance import _clean, _snippet  # one field cleaning and one snippet rule for both

CODE_VERSION = "2"
FIELDS = ("title", "abstract", "text")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[(\"“A-Z])")
_WOULD = re.compile(r"\bwould\b", re.IGNORECASE)


class TopicsDataError(ValueError):
    """The topics file is malformed (bad pattern, duplicate slug, unknown placeholder or group)."""


@dataclass(frozen=True)
class TopicResult:
    topics: tuple[str, ...]  # canonical slugs, sorted
    obligations: tuple[str, ...]  # obligation tags, sorted
    evidence: tuple[Evidence, ...]  # term = `slug:group` of the phrase group that matched


@dataclass(frozen=True)
class _Group:
    name: str
    pattern: re.Pattern[str]
    fields: tuple[str, ...]  # where the group may match
    ncsl: tuple[str, ...]
    ncsl_unless: tuple[str, ...] = ()  # topics whose presence withholds this group's NCSL categories
    triggers: tuple[Trigger, ...] | None = None  # literal prefilter (relevance.literal_triggers)


@dataclass(frozen=True)
class _Rule:
    slug: str
    label: str
    groups: tuple[_Group, ...]
    requires: re.Pattern[str] | None  # must also match somewhere in the bill
    unless: tuple[str, ...]  # topics that, when found, take this one's place
    lead_in_long: bool = False  # in a long abstract, only its lead counts (`long_abstract = "lead"`)


class TopicRules:
    """The topics file, compiled."""

    def __init__(self, text: str, *, source: str = "topics.toml"):
        data, self.version = read_rules_file(text, source, f"topics-{CODE_VERSION}", TopicsDataError)
        self.source = source
        self.text_min_mentions = int(data.get("text_min_mentions", 2))
        self._vocab = {name: f"(?:{pattern})" for name, pattern in data.get("vocab", {}).items()}
        abstract = data.get("abstract", {})
        self.long_abstract_chars = int(abstract.get("long_chars", 0))  # 0: no abstract is long
        self.lead_sentences = int(abstract.get("lead_sentences", 2))
        self._existing_law = (self._pattern(abstract["existing_law"], "abstract.existing_law")
                              if abstract.get("existing_law") else None)
        self._bill_part = (self._pattern(abstract["bill_part"], "abstract.bill_part")
                           if abstract.get("bill_part") else None)
        self.topics = tuple(self._rule(entry, "topic") for entry in data.get("topic", []))
        self.obligations = tuple(self._rule(entry, "obligation") for entry in data.get("obligation", []))
        rules = (*self.topics, *self.obligations)
        slugs = [rule.slug for rule in rules]
        if len(set(slugs)) != len(slugs):
            twice = sorted(s for s in slugs if slugs.count(s) > 1)
            raise TopicsDataError(f"{source}: a slug is used twice: {twice}")
        topic_slugs = {rule.slug for rule in self.topics}
        for rule in rules:
            named = set(rule.unless).union(*(g.ncsl_unless for g in rule.groups))
            if unknown := named - topic_slugs:
                raise TopicsDataError(f"{source}: {rule.slug}: `unless` names unknown topics "
                                      f"{sorted(unknown)}")
        self.crosswalk: dict[str, tuple[str, ...]] = {}
        self._withheld_by: dict[str, tuple[str, ...]] = {}
        for rule in rules:
            for group in rule.groups:
                self.crosswalk[f"{rule.slug}:{group.name}"] = group.ncsl
                self._withheld_by[f"{rule.slug}:{group.name}"] = group.ncsl_unless
            self.crosswalk[rule.slug] = tuple(sorted({c for g in rule.groups for c in g.ncsl}))
            self._withheld_by[rule.slug] = ()

    @classmethod
    def from_path(cls, path: Path) -> TopicRules:
        return cls(Path(path).read_text(encoding="utf-8"), source=str(path))

    def _pattern(self, pattern: str, what: str) -> re.Pattern[str]:
        # {name} placeholders name shared phrases ([vocab]); replaced literally, since regex
        # quantifiers such as {0,40} use braces too.
        for name, phrase in self._vocab.items():
            pattern = pattern.replace("{" + name + "}", phrase)
        if leftover := re.search(r"\{[a-z_]+\}", pattern):
            raise TopicsDataError(f"{self.source}: {what}: unknown placeholder {leftover.group()}")
        try:
            return re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise TopicsDataError(f"{self.source}: {what}: bad pattern: {exc}") from exc

    def _rule(self, entry: dict, kind: str) -> _Rule:
        slug = entry.get("slug")
        if not slug or not re.fullmatch(r"[a-z][a-z0-9_]*", slug):
            raise TopicsDataError(f"{self.source}: a {kind} needs a lower-case slug, not {slug!r}")
        raw_groups = entry.get("group")
        if not isinstance(raw_groups, dict) or not raw_groups:
            raise TopicsDataError(f"{self.source}: {slug}: needs at least one [{kind}.group] phrase group")
        groups = []
        for name, spec in raw_groups.items():
            if isinstance(spec, str):
                spec = {"pattern": spec}
            fields = tuple(spec.get("fields", FIELDS))
            if set(fields) - set(FIELDS):
                raise TopicsDataError(f"{self.source}: {slug}:{name}: fields must be among {FIELDS}")
            pattern = self._pattern(spec["pattern"], f"{slug}:{name}")
            groups.append(_Group(name, pattern, fields, tuple(spec.get("ncsl", ())),
                                 tuple(spec.get("ncsl_unless", ())), literal_triggers(pattern)))
        requires = self._pattern(entry["requires"], f"{slug}.requires") if entry.get("requires") else None
        long_abstract = entry.get("long_abstract", "all")
        if long_abstract not in ("all", "lead"):
            raise TopicsDataError(f"{self.source}: {slug}: long_abstract must be \"all\" or \"lead\"")
        return _Rule(slug, entry.get("label", slug), tuple(groups), requires, tuple(entry.get("unless", ())),
                     long_abstract == "lead")

    # -- the abstract ---------------------------------------------------------------------------

    def abstract_parts(self, abstract: str | None) -> tuple[str, str]:
        """(the abstract without its account of existing law, its lead). A legislative counsel's
        digest describes the law a bill amends before what the bill does ("Existing law requires
        the Department of Technology to..."): those sentences are context, not the bill, so they
        are dropped, up to the next sentence about the bill ("This bill would..."). The lead is the
        first `lead_sentences` sentences left; it is the whole abstract unless the abstract is longer
        than `long_chars`. An abstract that is all existing law is kept whole."""
        if not abstract:
            return "", ""
        kept: list[str] = []
        paragraphs = [p.strip() for p in abstract.splitlines() if p.strip()]
        first_bill = next((i for i, p in enumerate(paragraphs)
                           if self._bill_part is not None and self._bill_part.match(p)), 0)
        # Before the first paragraph about the bill, a paragraph that says nothing the bill "would"
        # do recounts the law as it stands (a digest that opens "The California AI Transparency Act
        # requires...").
        paragraphs = [p for i, p in enumerate(paragraphs) if i >= first_bill or _WOULD.search(p)]
        for paragraph in paragraphs:
            in_existing_law = False
            for sentence in _SENTENCE_BREAK.split(paragraph.strip()):
                if self._existing_law is not None and self._existing_law.match(sentence):
                    in_existing_law = True
                elif in_existing_law and self._bill_part is not None and self._bill_part.match(sentence):
                    in_existing_law = False
                if not in_existing_law and sentence:
                    kept.append(sentence)
        if not kept:  # all of it reads as existing law: better the whole than nothing
            kept = [_clean(abstract)]
        cleaned = _clean(" ".join(kept))
        if not self.long_abstract_chars or len(_clean(abstract)) <= self.long_abstract_chars:
            return cleaned, cleaned
        return cleaned, _clean(" ".join(kept[: self.lead_sentences]))

    # -- classifying ----------------------------------------------------------------------------

    def classify(self, title: str, abstract: str | None = None, text: str | None = None, *,
                 prefilter: bool = True) -> TopicResult:
        """`prefilter=False` tries every phrase group on every field (tests use it to prove the
        literal prefilter changes nothing)."""
        cleaned, lead = self.abstract_parts(abstract)
        fields = {"title": _clean(title), "abstract": cleaned, "text": _clean(text)}
        lowered = {field: value.lower() for field, value in fields.items()}
        lead_fields = {**fields, "abstract": lead}
        lead_lowered = {**lowered, "abstract": lead.lower()}
        whole = " ".join(value for value in fields.values() if value)
        found: dict[str, list[Evidence]] = {}
        for rule in (*self.topics, *self.obligations):
            where, where_lowered = (lead_fields, lead_lowered) if rule.lead_in_long else (fields, lowered)
            hits = [hit for group in rule.groups
                    for hit in self._hits(rule.slug, group, where, where_lowered, prefilter)]
            if hits and (rule.requires is None or rule.requires.search(whole)):
                found[rule.slug] = hits
        for rule in (*self.topics, *self.obligations):
            if rule.slug in found and any(other in found for other in rule.unless):
                del found[rule.slug]
        obligation_slugs = {rule.slug for rule in self.obligations}
        return TopicResult(tuple(sorted(s for s in found if s not in obligation_slugs)),
                           tuple(sorted(s for s in found if s in obligation_slugs)),
                           tuple(hit for hits in found.values() for hit in hits))

    def _hits(self, slug: str, group: _Group, fields: dict[str, str], lowered: dict[str, str],
              prefilter: bool) -> list[Evidence]:
        term = f"{slug}:{group.name}"
        hits = []
        candidates = [f for f in group.fields if fields[f]
                      and (not prefilter or triggered(group.triggers, fields[f], lowered[f]))]
        for field in ("title", "abstract"):
            if field in candidates and (match := group.pattern.search(fields[field])):
                hits.append(Evidence(term, field, _snippet(fields[field], match.start(), match.end())))
        if "text" in candidates:
            first, count = None, 0
            for match in group.pattern.finditer(fields["text"]):
                first, count = first or match, count + 1
                if count >= self.text_min_mentions:
                    hits.append(Evidence(term, "text", _snippet(fields["text"], first.start(), first.end())))
                    break
        return hits

    def ncsl_categories(self, topics: TopicResult | Iterable[str]) -> set[str]:
        if isinstance(topics, TopicResult):
            topics = {evidence.term for evidence in topics.evidence}
        topics = set(topics)
        for slug in topics:
            if slug not in self.crosswalk:
                raise KeyError(f"not a topic, obligation or topic:group: {slug!r}")
        present = {slug.split(":", 1)[0] for slug in topics}
        categories: set[str] = set()
        for slug in topics:
            if not present.intersection(self._withheld_by[slug]):
                categories.update(self.crosswalk[slug])
        return categories


def _data_path() -> Path:
    return Path(str(resources.files("tracker") / "data" / "topics.toml"))


RULES = TopicRules.from_path(_data_path())
TOPICS_VERSION: str = RULES.version
CANONICAL_TOPICS: dict[str, str] = {rule.slug: rule.label for rule in RULES.topics}
OBLIGATIONS: tuple[str, ...] = tuple(rule.slug for rule in RULES.obligations)


def classify_topics(title: str, abstract: str | None = None, text: str | None = None) -> TopicResult:
    """The canonical topics and obligation tags of one bill, with the phrase group that found each."""
    return RULES.classify(title, abstract, text)


def ncsl_categories(topics: TopicResult | Iterable[str]) -> set[str]:
    """NCSL's categories through the crosswalk. Given a TopicResult, exactly the phrase groups that
    matched (topics and obligation tags) count. Given strings, each may be a topic or obligation
    slug (its whole crosswalk, every group) or a `slug:group`. An unknown one raises KeyError."""
    return RULES.ncsl_categories(topics)
