"""AI relevance and topics (tracker/detect/relevance.py, topics.py) measured on the ground truth in
../shared/groundtruth and on whole recorded sessions. Prints the tables the README shows.

    .venv/bin/python benchmarks/relevance.py              # every table, misses grouped by reason
    .venv/bin/python benchmarks/relevance.py --review     # + the seeded hand-review sample (50 + 50)
    .venv/bin/python benchmarks/relevance.py --copies 0   # skip the speed run

What is measured (README "AI relevance" and "Topics" say why):
1. NCSL 2023-2024 recall. Input: NCSL's title and summary, the only text NCSL gives. A row is found
   when it is `core` or `adjacent`, or `incidental` because it is a funding vehicle (an AI line in an
   appropriations or budget bill: exactly NCSL's "appropriations bills with AI items" scope, and
   exactly what DOMAIN.md calls incidental). Strict (core/adjacent only) and stored (any tier but
   not_ai) are printed too. The subset "names an AI technology" is defined mechanically by
   `names_ai_technology`: the DOMAIN.md §3 vocabulary as plain phrases, independent of our patterns.
2. False positives on hard_negatives.csv: title + note (the file's only other text), and, for the
   rows that are in a recorded session, title + that session's abstract.
3. Topic micro-F1 against NCSL's categories through the crosswalk (rows NCSL left uncategorised are
   skipped; a category we predict that NCSL's 2023-2024 tables do not use, such as Energy or Deepfake,
   is not counted).
4. Tiers per whole session (title + abstract as the state publishes them).
5. Speed: relevance over the pooled sessions replicated to `--copies` x ~47k bills.
Exits 1 when a target is missed: subset recall >= 0.98, hard-negative FP rate <= 3%, topic F1 >= 0.75.
"""

from __future__ import annotations

import argparse
import collections
import csv
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.detect import relevance as rel  # noqa: E402
from tracker.detect.topics import TOPICS_VERSION, classify_topics, ncsl_categories  # noqa: E402
from tracker.normalize.identifiers import IdentifierError, canonical_identifier  # noqa: E402

SHARED = ROOT.parent / "shared"
GROUNDTRUTH = SHARED / "groundtruth"
FETCHED = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # the snapshots carry no fetch time of their own
REVIEW_SEED = 2026
TARGETS = {"subset_recall": 0.98, "hard_negative_fp_rate": 0.03, "topic_f1": 0.75}

# DOMAIN.md §3, "AI vocabulary to match", as plain lower-case phrases (plus "AI" as a whole word in
# capitals). Deliberately not our patterns: the subset says what NCSL's text names, not what we match.
AI_TECHNOLOGY_PHRASES = (
    "artificial intelligence", "machine learning", "machine-based system", "automated decision",
    "automated employment decision", "admt", "aedt", "algorithmic discrimination", "generative",
    "foundation model", "frontier model", "large language model", "synthetic media", "deepfake",
    "deep fake", "digital replica", "chatbot", "chat bot", "provenance", "watermark",
)
_AI_WORD = re.compile(r"(?<![\w/])AI(?![\w/])")
_GLUED_AI = re.compile(r"[a-z](?:AI)\b|\bAI[a-z]")


def names_ai_technology(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in AI_TECHNOLOGY_PHRASES) or bool(_AI_WORD.search(text))


def read_csv(name: str) -> list[dict[str, str]]:
    with (GROUNDTRUTH / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ncsl_categories_of(row: dict[str, str]) -> set[str]:
    return {c.strip() for c in row["ncsl_categories"].split(";") if c.strip()}


# -- 1. NCSL recall ---------------------------------------------------------------------------------


@dataclass
class NcslRecall:
    rows: int
    found: int  # core, adjacent, or incidental as a funding vehicle
    strict: int  # core or adjacent
    stored: int  # anything but not_ai
    subset_rows: int
    subset_found: int
    subset_strict: int
    tiers: collections.Counter
    misses: dict[str, list[dict[str, str]]]  # reason -> rows


def miss_reason(row: dict[str, str], result: rel.Relevance) -> str | None:
    """Why an NCSL row is not found, or None when it is (README lists the reasons)."""
    text = f"{row['title']} {row['summary_ncsl']}"
    if result.tier in ("core", "adjacent"):
        return None
    if result.tier == "incidental":
        if rel.RULES.funding_vehicle_title(row["title"]):
            return None
        return "incidental: AI named in a commemoration or in passing"
    if result.evidence:
        return "not_ai: only support terms (a watermark) or a lone adjacent word"
    if _GLUED_AI.search(text):
        return "not_ai: 'AI' glued to another word in NCSL's text (throughAI)"
    return "not_ai: NCSL's title and summary name no AI term (NCSL read the bill text)"


def measure_ncsl(rows: list[dict[str, str]]) -> NcslRecall:
    tiers: collections.Counter = collections.Counter()
    misses: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    found = strict = stored = subset_rows = subset_found = subset_strict = 0
    for row in rows:
        result = rel.classify_relevance(row["title"], row["summary_ncsl"])
        tiers[result.tier] += 1
        reason = miss_reason(row, result)
        hit = reason is None
        found += hit
        strict += result.tier in ("core", "adjacent")
        stored += result.tier != "not_ai"
        if names_ai_technology(f"{row['title']} {row['summary_ncsl']}"):
            subset_rows += 1
            subset_found += hit
            subset_strict += result.tier in ("core", "adjacent")
        if not hit:
            misses[reason].append(row)
    return NcslRecall(len(rows), found, strict, stored, subset_rows, subset_found, subset_strict, tiers,
                      dict(misses))


# -- 2. hard negatives and the borderline list ------------------------------------------------------


def session_abstracts() -> dict[tuple[str, str, str], str | None]:
    """(state, session, canonical identifier) -> abstract, for every bill of the recorded sessions."""
    out = {}
    for name, items in recorded_sessions():
        state, session = name.split("_", 1)
        for bill in items:
            try:
                out[(state, session, canonical_identifier(bill.identifier))] = bill.summary
            except IdentifierError:
                continue
    return out


def measure_hard_negatives(rows: list[dict[str, str]], abstracts: dict) -> dict[str, object]:
    flagged = [r for r in rows if rel.classify_relevance(r["title"], r["note"]).tier != "not_ai"]
    with_abstract, flagged_with_abstract = 0, []
    for r in rows:
        key = (r["state"].lower(), r["session"], canonical_identifier(r["bill_id"]))
        if key in abstracts and abstracts[key]:
            with_abstract += 1
            if rel.classify_relevance(r["title"], abstracts[key]).tier != "not_ai":
                flagged_with_abstract.append(r)
    return {"rows": len(rows), "flagged": flagged, "with_abstract": with_abstract,
            "flagged_with_abstract": flagged_with_abstract}


# -- 3. topics --------------------------------------------------------------------------------------


@dataclass
class TopicScore:
    rows: int
    tp: int
    fp: int
    fn: int
    per_category: dict[str, list[int]]  # category -> [tp, fp, fn]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def measure_topics(rows: list[dict[str, str]]) -> TopicScore:
    vocabulary = set().union(*(ncsl_categories_of(r) for r in rows))
    per: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    scored = 0
    for row in rows:
        gold = ncsl_categories_of(row)
        if not gold:
            continue
        scored += 1
        predicted = ncsl_categories(classify_topics(row["title"], row["summary_ncsl"])) & vocabulary
        for category in predicted | gold:
            slot = 0 if category in predicted and category in gold else 1 if category in predicted else 2
            per[category][slot] += 1
    totals = [sum(v[i] for v in per.values()) for i in range(3)]
    return TopicScore(scored, *totals, dict(per))


# -- 4. whole sessions ------------------------------------------------------------------------------


def recorded_sessions() -> list[tuple[str, list]]:
    """(label, bills) for every recorded whole session: the Open States sessions, VA 2024, WA 2025-26
    and MI 2025-26. Parsing is the slow part; the result is cached."""
    global _SESSIONS
    if _SESSIONS is None:
        from scrapers.legiscan import LegiScanDataset
        from scrapers.openstates import OpenStatesFiles
        from scrapers.va_lis import VirginiaLIS
        from scrapers.wa_wsl import WashingtonWSL

        fixtures = SHARED / "fixtures"
        sessions = []
        for path in sorted((fixtures / "states/openstates_sessions").glob("*.jsonl.gz")):
            label = path.name.removesuffix(".jsonl.gz")
            sessions.append((label, OpenStatesFiles().read_path(path, fetched_at=FETCHED)))
        sessions.append(("va_2024", VirginiaLIS().read_path(fixtures / "states/va/legacylis_241_Bills.csv.gz",
                                                            fetched_at=FETCHED)))
        wa = fixtures / "states/wa/wsl_GetLegislationIntroducedSince_2025-26_FULL.xml.gz"
        sessions.append(("wa_2025-2026", WashingtonWSL().read_path(wa, fetched_at=FETCHED)))
        sessions.append(("mi_2025-2026", LegiScanDataset().read_path(
            fixtures / "api/legiscan/dataset_csv_MI_2025-2026/raw_full", fetched_at=FETCHED)))
        _SESSIONS = [(label, [item for item in batch.items if hasattr(item, "title")])
                     for label, batch in sessions]
    return _SESSIONS


_SESSIONS: list[tuple[str, list]] | None = None


def session_tiers() -> list[tuple[str, collections.Counter]]:
    return [(label, collections.Counter(rel.classify_relevance(b.title, b.summary).tier for b in bills))
            for label, bills in recorded_sessions()]


def review_sample(size: int = 50, seed: int = REVIEW_SEED) -> dict[str, list[tuple[str, object]]]:
    """A seeded random sample of `size` core and `size` not_ai bills from all recorded sessions."""
    by_tier: dict[str, list[tuple[str, object]]] = collections.defaultdict(list)
    for label, bills in recorded_sessions():
        for bill in bills:
            by_tier[rel.classify_relevance(bill.title, bill.summary).tier].append((label, bill))
    chooser = random.Random(seed)
    return {tier: chooser.sample(by_tier[tier], min(size, len(by_tier[tier]))) for tier in ("core", "not_ai")}


# -- 5. speed ---------------------------------------------------------------------------------------


def speed(copies: int) -> dict[str, float]:
    inputs = [(b.title, b.summary) for _, bills in recorded_sessions() for b in bills] * copies
    started = time.perf_counter()
    results = [rel.classify_relevance(title, summary) for title, summary in inputs]
    relevance_s = time.perf_counter() - started
    kept = [pair for pair, r in zip(inputs, results) if r.tier != "not_ai"]
    started = time.perf_counter()
    for title, summary in kept:
        classify_topics(title, summary)
    topics_kept_s = time.perf_counter() - started
    sample = inputs[: min(len(inputs), 10_000)]
    started = time.perf_counter()
    for title, summary in sample:
        classify_topics(title, summary)
    topics_all_rate = len(sample) / (time.perf_counter() - started)
    return {"bills": len(inputs), "relevance_s": relevance_s, "kept": len(kept),
            "topics_kept_s": topics_kept_s, "topics_all_per_s": topics_all_rate}


# -- printing ---------------------------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.3f}" if whole else "-"


def clip(text: str | None, width: int = 220) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--review", action="store_true", help="print the seeded hand-review sample")
    parser.add_argument("--copies", type=int, default=1, metavar="N",
                        help="speed run over the pooled sessions N times (default 1; 0 skips it)")
    args = parser.parse_args()
    if not GROUNDTRUTH.exists():
        print(f"needs {GROUNDTRUTH} (the shared ground truth beside the checkout)", file=sys.stderr)
        return 2
    failed = []
    print(f"{rel.RELEVANCE_VERSION}, {TOPICS_VERSION}")

    ncsl_rows = read_csv("ncsl_ai_bills_2023_2024.csv")
    recall = measure_ncsl(ncsl_rows)
    print("\n## 1. NCSL 2023-2024 recall (input: NCSL title + summary)\n")
    print("| rows | found (core, adjacent, or incidental funding vehicle) | strict (core or adjacent) "
          "| stored (not not_ai) |")
    print("|---|---|---|---|")
    print(f"| all {recall.rows} | {pct(recall.found, recall.rows)} | {pct(recall.strict, recall.rows)} "
          f"| {pct(recall.stored, recall.rows)} |")
    print(f"| naming an AI technology {recall.subset_rows} | {pct(recall.subset_found, recall.subset_rows)} "
          f"| {pct(recall.subset_strict, recall.subset_rows)} | |")
    print(f"\ntiers: {dict(recall.tiers)}")
    print("\nMisses by reason:")
    for reason, rows in sorted(recall.misses.items(), key=lambda kv: -len(kv[1])):
        print(f"\n* {reason}: {len(rows)}")
        for row in rows:
            print(f"    {row['bill_id_ncsl']} | {row['title']} | {clip(row['summary_ncsl'], 140)}")
    subset_recall = recall.subset_found / recall.subset_rows
    if subset_recall < TARGETS["subset_recall"]:
        failed.append(f"subset recall {subset_recall:.3f} < {TARGETS['subset_recall']}")

    abstracts = session_abstracts()
    negatives = measure_hard_negatives(read_csv("hard_negatives.csv"), abstracts)
    rate = len(negatives["flagged"]) / negatives["rows"]
    print("\n## 2. False positives on the hard negatives\n")
    print("| input | rows | not classified not_ai | FP rate |")
    print("|---|---|---|---|")
    print(f"| title + note | {negatives['rows']} | {len(negatives['flagged'])} | {rate:.3f} |")
    print(f"| title + the recorded session's abstract | {negatives['with_abstract']} "
          f"| {len(negatives['flagged_with_abstract'])} | "
          f"{len(negatives['flagged_with_abstract']) / max(1, negatives['with_abstract']):.3f} |")
    for row in negatives["flagged"] + negatives["flagged_with_abstract"]:
        print(f"    flagged: {row['state']} {row['bill_id']} | {row['title']}")
    if rate > TARGETS["hard_negative_fp_rate"]:
        failed.append(f"hard-negative FP rate {rate:.3f} > {TARGETS['hard_negative_fp_rate']}")

    print("\n## Scope: the borderline list (title only)\n")
    print("| state | bill | title | tier | matched |")
    print("|---|---|---|---|---|")
    for row in read_csv("borderline_adjacent_tech.csv"):
        result = rel.classify_relevance(row["title"])
        terms = ", ".join(sorted({e.term for e in result.evidence})) or "-"
        print(f"| {row['state']} | {row['bill_id']} | {clip(row['title'], 90)} | {result.tier} | {terms} |")

    score = measure_topics(ncsl_rows)
    print(f"\n## 3. Topics against NCSL's categories ({score.rows} categorised rows)\n")
    print(f"micro precision {score.precision:.3f}, recall {score.recall:.3f}, F1 {score.f1:.3f} "
          f"(tp {score.tp}, fp {score.fp}, fn {score.fn})\n")
    print("| NCSL category | tp | fp | fn | precision | recall |")
    print("|---|---|---|---|---|---|")
    for category, (tp, fp, fn) in sorted(score.per_category.items(), key=lambda kv: -(kv[1][0] + kv[1][2])):
        print(f"| {category} | {tp} | {fp} | {fn} | {tp / (tp + fp) if tp + fp else 0:.2f} "
              f"| {tp / (tp + fn) if tp + fn else 0:.2f} |")
    if score.f1 < TARGETS["topic_f1"]:
        failed.append(f"topic F1 {score.f1:.3f} < {TARGETS['topic_f1']}")

    print("\n## 4. Tiers per recorded session (title + abstract)\n")
    print("| session | bills | core | adjacent | incidental | not_ai |")
    print("|---|---|---|---|---|---|")
    totals: collections.Counter = collections.Counter()
    for label, tiers in session_tiers():
        totals.update(tiers)
        print(f"| {label} | {sum(tiers.values())} | " + " | ".join(str(tiers[t]) for t in rel.TIERS) + " |")
    print(f"| all | {sum(totals.values())} | " + " | ".join(str(totals[t]) for t in rel.TIERS) + " |")

    if args.review:
        print(f"\n## Hand-review sample (random.Random({REVIEW_SEED}))")
        for tier, picks in review_sample().items():
            print(f"\n### {tier}\n")
            for number, (label, bill) in enumerate(picks, start=1):
                result = rel.classify_relevance(bill.title, bill.summary)
                terms = ", ".join(f"{e.term}@{e.field}" for e in result.evidence) or "-"
                print(f"{number:2d}. {label} {bill.identifier} | {clip(bill.title)} "
                      f"| {clip(bill.summary, 200)} | {terms}")

    if args.copies:
        figures = speed(args.copies)
        print("\n## 5. Speed\n")
        rate = figures["bills"] / figures["relevance_s"]
        print(f"relevance: {figures['bills']:,} bills in {figures['relevance_s']:.2f} s "
              f"({rate:,.0f} bills/s); "
              f"topics on the {figures['kept']:,} kept in {figures['topics_kept_s']:.2f} s; "
              f"topics on any bill {figures['topics_all_per_s']:,.0f} bills/s")

    if failed:
        print("\nTARGETS MISSED: " + "; ".join(failed))
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
