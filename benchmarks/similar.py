"""Similar bills (tracker.detect.similar, issue #10): recall on real companion links, index build time,
query time, incremental add time and memory. Not a test: it needs ../shared and takes about a minute.

    .venv/bin/python benchmarks/similar.py [--scale 60000] [--queries 1000] [--misses 15] [--minhash]

Input: every session in ../shared/fixtures/states/openstates_sessions/ (Open States scrape output, parsed
with scrapers.openstates) and Virginia's 2024 session (scrapers.va_lis), each bill as the tracker stores
it: title and abstract (`document_text(title, summary, None)`; no bill text is stored yet). OK's 2025
and 2026 files hold the same legislature, so their bills share keys and the later copy wins: 41,369
distinct bills.

Companion links: MN 2025-2026, NJ 222 and TN 114 records list `related_bills` with relation_type
"companion", naming the other bill by identifier and legislative_session. They are read from the raw
JSON here and never shown to the detector (its documents hold titles and abstracts only).

Recall is measured **per directed link**: for each record A that names B as its companion (both in
the index), a hit when B is among A's top k matches (`similar(A, k)`; any state unless said). A pair
named from both sides counts twice, once per direction. Also shown per undirected pair: found from
at least one side, and from both. Links whose other bill is not in the data, and NJ's joint
identifiers ("S 3114/3216", no single bill), are counted and left out.

Timing: the index build is `SimilarityIndex.build` (tokenize, stem, hash, stack the counts) plus the
first query (IDF weights, key order, inverted index: done lazily once after each change); both are
shown and summed. Scale: the real documents are replicated under new keys up to --scale bills (the
copies match their originals, so queries there touch more bills than real ones would). Query time is
one `similar(key, k=10)` with its shared passages, over --queries random keys. Incremental add: 100
new bills, then 100 changed bills, into the scaled index, each followed by a query (which pays the
refresh). Memory: resident set size before and after building the scaled index (VmRSS), and the
process peak (ru_maxrss), parsing included.

Targets (exit 1 when missed): recall@5 >= 0.9; the scaled build (with its first refresh) under 60 s;
the median query under 50 ms and the slowest under 1 s.
"""

from __future__ import annotations

import argparse
import collections
import gc
import gzip
import json
import random
import re
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scrapers.openstates import OpenStatesFiles  # noqa: E402
from scrapers.va_lis import VirginiaLIS  # noqa: E402
from tracker.detect.similar import (  # noqa: E402
    SIMILARITY_VERSION, Document, SimilarityIndex, document_text, shared_passages,
)
from tracker.normalize.identifiers import IdentifierError, bill_key, canonical_session  # noqa: E402
from tracker.scraped import ScrapedBill  # noqa: E402

SESSION_FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the snapshots carry no fetch time of their own
VA_FETCHED = datetime(2026, 8, 1, tzinfo=UTC)  # PROVENANCE.md
COMPANION_SESSIONS = ("mn_2025-2026", "nj_222", "tn_114")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_documents(shared: Path) -> tuple[list[Document], dict[str, str]]:
    """(documents, key -> title) of every session file and VA 2024."""
    documents, titles = [], {}
    paths = sorted((shared / "fixtures/states/openstates_sessions").glob("*.jsonl.gz"))
    batches = [OpenStatesFiles().read_path(path, fetched_at=SESSION_FETCHED) for path in paths]
    batches.append(VirginiaLIS().read_path(shared / "fixtures/states/va/legacylis_241_Bills.csv.gz",
                                           fetched_at=VA_FETCHED))
    for batch in batches:
        for item in batch.items:
            if isinstance(item, ScrapedBill):
                key = bill_key(item.jurisdiction, item.session, item.identifier)
                text, basis = document_text(item.title, item.summary, None)
                documents.append(Document(key, item.jurisdiction, text, basis))
                titles[key] = item.title
    return documents, titles


def companion_links(shared: Path) -> tuple[list[tuple[str, str]], collections.Counter]:
    links, skipped = [], collections.Counter()
    for name in COMPANION_SESSIONS:
        state = name.split("_", 1)[0]
        with gzip.open(shared / f"fixtures/states/openstates_sessions/{name}.jsonl.gz", "rt") as lines:
            for line in lines:
                record = json.loads(line)
                key = bill_key(state, canonical_session(state, record["legislative_session"]),
                               record["identifier"])
                for related in record.get("related_bills") or []:
                    if related.get("relation_type") != "companion":
                        continue
                    try:
                        session = canonical_session(state, related["legislative_session"])
                        links.append((key, bill_key(state, session, related["identifier"])))
                    except IdentifierError:
                        skipped["joint identifier (no single bill)"] += 1
    return links, skipped


def recall_report(index: SimilarityIndex, links: list[tuple[str, str]], titles: dict[str, str],
                  misses_shown: int) -> float:
    evaluable = [(a, b) for a, b in links if a in index and b in index]
    print(f"links: {len(links)} read, {len(evaluable)} with both bills indexed, "
          f"{len(links) - len(evaluable)} naming a bill not in the data")
    ranked: dict[str, list[str]] = {}
    ranked_own: dict[str, list[str]] = {}
    started = time.perf_counter()
    for key in sorted({a for a, _ in evaluable}):
        ranked[key] = [m.key for m in index.similar(key, k=10)]
        ranked_own[key] = [m.key for m in index.similar(key, k=5, same_state=True)]
    elapsed = time.perf_counter() - started
    print(f"({len(ranked)} bills asked twice in {elapsed:.1f} s)")

    def hits(pairs, k, table=ranked):
        return sum(b in table[a][:k] for a, b in pairs)

    print("\n| links from | directed links | recall@1 | recall@5 | recall@10 | recall@5 same state |")
    print("|---|---:|---:|---:|---:|---:|")
    groups = collections.defaultdict(list)
    for a, b in evaluable:
        groups[a.split("-", 1)[0]].append((a, b))
    groups["all"] = evaluable
    for name, pairs in groups.items():
        n = len(pairs)
        print(f"| {name} | {n} | {hits(pairs, 1) / n:.4f} | {hits(pairs, 5) / n:.4f} "
              f"| {hits(pairs, 10) / n:.4f} "
              f"| {hits(pairs, 5, ranked_own) / n:.4f} |")
    recall5 = hits(evaluable, 5) / len(evaluable)

    directed = set(evaluable)
    undirected = {tuple(sorted(pair)) for pair in evaluable}
    either = both = 0
    for a, b in undirected:
        found = [(x, y) in directed and y in ranked[x][:5] for x, y in ((a, b), (b, a))]
        named = [(x, y) in directed for x, y in ((a, b), (b, a))]
        either += any(found)
        both += all(f for f, n in zip(found, named) if n)
    print(f"\nundirected pairs: {len(undirected)}; found within top 5 from at least one side: "
          f"{either / len(undirected):.4f}; from every side that names the other: "
          f"{both / len(undirected):.4f}")

    misses = [(a, b) for a, b in evaluable if b not in ranked[a][:5]]
    causes = collections.Counter()
    detail = []
    for a, b in misses:
        top = index.similar(a, k=5)
        score = index.score(a, b)
        if score == 0:
            cause = "no word in common"
        elif top and top[0].score >= 0.999:
            cause = "outranked by another bill with A's very title (score 1.0)"
        elif sum(m.score > score for m in index.similar(a, k=10)) < 10:
            cause = "rank 6-10"
        else:
            cause = "rank > 10"
        causes[cause] += 1
        causes["(any cause) another state's bill in A's top 5"] += any(
            m.key.split("-", 1)[0] != a.split("-", 1)[0] for m in top)
        detail.append((a, b, score, top))
    print(f"\nmisses at k=5: {len(misses)}: " + "; ".join(f"{c}: {n}" for c, n in causes.items()))
    for a, b, score, top in random.Random(1).sample(detail, min(misses_shown, len(detail))):
        print(f"- {a} -> {b}: score {score:.3f}\n    A: {titles[a][:160]}\n    B: {titles[b][:160]}")
        if top:
            print(f"    1st: {top[0].key} {top[0].score:.3f} {titles.get(top[0].key, '')[:160]}")
    return recall5


def minhash_comparison(documents: list[Document], links: list[tuple[str, str]]) -> None:
    """datasketch MinHash LSH forest on the same stemmed words, reranked by estimated Jaccard."""
    try:
        from datasketch import MinHash, MinHashLSHForest
    except ImportError:
        print("\n(datasketch not installed: no MinHash comparison)")
        return
    from tracker.detect.similar import _terms

    latest = {doc.key: doc for doc in documents}
    keys = sorted(latest)
    started = time.perf_counter()
    hashes = dict(zip(keys, MinHash.bulk([sorted({t.encode() for t in _terms(latest[k].text)}) or [b""]
                                          for k in keys], num_perm=128)))
    forest = MinHashLSHForest(num_perm=128)
    for key in keys:
        forest.add(key, hashes[key])
    forest.index()
    built = time.perf_counter() - started
    evaluable = [(a, b) for a, b in links if a in latest and b in latest]
    top = {}
    started = time.perf_counter()
    for a in sorted({a for a, _ in evaluable}):
        found = [c for c in forest.query(hashes[a], 50) if c != a]
        found.sort(key=lambda c: (-hashes[a].jaccard(hashes[c]), c))
        top[a] = found[:5]
    per_query = (time.perf_counter() - started) / len(top)
    recall = sum(b in top[a] for a, b in evaluable) / len(evaluable)
    print(f"\nMinHash LSH forest (datasketch, 128 permutations, 50 candidates reranked): "
          f"build {built:.1f} s, "
          f"query {per_query * 1000:.2f} ms, recall@5 {recall:.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--scale", type=int, default=60_000, help="bills in the scaled index (default 60000)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--misses", type=int, default=15, help="misses to print")
    parser.add_argument("--minhash", action="store_true", help="also measure datasketch MinHash LSH forest")
    args = parser.parse_args()
    if not (args.shared / "fixtures/states/openstates_sessions").is_dir():
        print(f"needs {args.shared}/fixtures/states/openstates_sessions", file=sys.stderr)
        return 2
    print(f"SIMILARITY_VERSION {SIMILARITY_VERSION}")
    started = time.perf_counter()
    documents, titles = load_documents(args.shared)
    links, skipped = companion_links(args.shared)
    gc.collect()
    print(f"parsed {len(documents)} records ({len(titles)} distinct bills) and {len(links)} companion links "
          f"in "
          f"{time.perf_counter() - started:.1f} s; left out: {dict(skipped)}")
    print("bases:", dict(collections.Counter(doc.basis for doc in {d.key: d for d in documents}.values())))

    started = time.perf_counter()
    index = SimilarityIndex.build(documents)
    built = time.perf_counter() - started
    index.similar(documents[0].key)
    refreshed = time.perf_counter() - started - built
    print(f"\nreal index: {len(index)} bills, build {built:.2f} s + first query {refreshed:.2f} s")
    recall5 = recall_report(index, links, titles, args.misses)
    if args.minhash:
        minhash_comparison(documents, links)
    del index
    gc.collect()

    # Scale: the real documents again under new keys, up to --scale bills.
    distinct = list({doc.key: doc for doc in documents}.values())
    scaled = list(distinct)
    copy = 0
    while len(scaled) < args.scale:
        copy += 1
        scaled.extend(Document(f"{d.key}~{copy}", d.state, d.text, d.basis)
                      for d in distinct[: args.scale - len(scaled)])
    before = rss_mb()
    started = time.perf_counter()
    index = SimilarityIndex.build(scaled)
    vectorized = time.perf_counter() - started
    index.similar(scaled[0].key)
    total = time.perf_counter() - started
    after = rss_mb()
    print(f"\nscaled index: {len(index)} bills; build {vectorized:.2f} s + first query (weights) "
          f"{total - vectorized:.2f} s = {total:.2f} s; RSS {before:.0f} -> {after:.0f} MB "
          f"(+{after - before:.0f} MB)")

    rng = random.Random(5)
    keys = [rng.choice(scaled).key for _ in range(args.queries)]
    times = []
    for key in keys:
        t0 = time.perf_counter()
        index.similar(key, k=10)
        times.append(time.perf_counter() - t0)
    times.sort()
    median, p99, slowest = statistics.median(times), times[int(0.99 * (len(times) - 1))], times[-1]
    print(f"query similar(key, k=10) with passages: median {median * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
          f"max {slowest * 1000:.2f} ms over {len(times)} keys")
    t0 = time.perf_counter()
    pairs = sum(1 for _ in index.pairs(keys[:500], k=10))
    print(f"pairs(500 keys, k=10, default min_score): {pairs} matches in {time.perf_counter() - t0:.2f} s")

    fresh = [Document(f"{d.key}~new", d.state, d.text + " as amended", d.basis) for d in distinct[:100]]
    changed = [Document(d.key, d.state, d.text + " and appropriates money", d.basis)
               for d in distinct[100:200]]
    for label, batch in (("100 new bills", fresh), ("100 changed bills", changed), ("1 new bill", [
            Document("zz-2026-HB1", "zz", "artificial intelligence companion chatbot safety", "title")])):
        t0 = time.perf_counter()
        index.add(batch)
        added = time.perf_counter() - t0
        index.similar(batch[0].key)
        print(f"add {label}: add() {added * 1000:.0f} ms + next query (refresh) "
              f"{(time.perf_counter() - t0 - added) * 1000:.0f} ms")

    long_text = shared_text(args.shared)
    if long_text:
        words = long_text.split()
        edited = " ".join("amended" if i % 40 == 0 else w for i, w in enumerate(words))
        t0 = time.perf_counter()
        shared_passages(long_text, edited)
        print(f"shared_passages on a {len(words)}-word bill text and an edited copy: "
              f"{(time.perf_counter() - t0) * 1000:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (ru_maxrss, parsing included): {peak:.0f} MB")

    failures = []
    if recall5 < 0.9:
        failures.append(f"recall@5 {recall5:.4f} < 0.9")
    if total >= 60:
        failures.append(f"scaled build {total:.1f} s >= 60 s")
    if median >= 0.05 or slowest >= 1:
        failures.append(f"query median {median * 1000:.1f} ms / max {slowest * 1000:.0f} ms")
    print("\ntargets:", "; ".join(failures) if failures else "all met")
    return 1 if failures else 0


def shared_text(shared: Path) -> str | None:
    """A real bill text for timing passages: CA AB 76 (2025) as introduced, its CAML markup dropped."""
    path = shared / "fixtures/states/ca/caml_20250AB76_introduced.xml"
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")) if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())
