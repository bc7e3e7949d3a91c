"""Whole sessions of Open States scrape output (../shared/fixtures/states/openstates_sessions/):
our final outcomes against Open States' own labels, bills without a status, and unclassified
actions, per session; with each state's own table, and with it switched off (generic table and
upstream labels only). Prints the tables the README shows.

    .venv/bin/python benchmarks/status_agreement.py [--disagreements] [--unclassified N]

Every bill is judged as fetched on 2026-11-15 (the snapshots carry no fetch time of their own).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scrapers.openstates import OpenStatesFiles  # noqa: E402
from tracker.normalize.agreement import compare_session  # noqa: E402

SESSIONS = ROOT.parent / "shared" / "fixtures" / "states" / "openstates_sessions"
FETCHED = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--disagreements", action="store_true", help="list every disagreeing bill")
    parser.add_argument("--unclassified", type=int, default=0, metavar="N",
                        help="list the N most frequent unclassified strings per session")
    parser.add_argument("--only", help="one session file stem, e.g. co_2026A")
    args = parser.parse_args()
    files = sorted(SESSIONS.glob("*.jsonl.gz"))
    if args.only:
        exact = [f for f in files if f.name.removesuffix(".jsonl.gz") == args.only]
        files = exact or [f for f in files if f.name.startswith(args.only)]
    print("| session | bills | problems | OS enacted | ours | agree | OS vetoed | ours | agree | no status "
          "| upstream basis | unclassified actions (ours / by our tables / OS) | distinct strings (ours / tables / OS) "
          "| without own table: enacted, vetoed agree, unclassified |")
    print("|---" * 13 + "|")
    for path in files:
        label = path.name.removesuffix(".jsonl.gz")
        items = lambda: OpenStatesFiles().read_path(path, fetched_at=FETCHED).items  # noqa: E731
        report = compare_session(label, items())
        bare = compare_session(label, items(), own_table=False)
        r = report
        print(f"| {label} | {r.bills} | {len(r.problems)} | {r.upstream['enacted']} | {r.ours['enacted']} | "
              f"{pct(r.agreement('enacted'))} | {r.upstream['vetoed']} | {r.ours['vetoed']} | "
              f"{pct(r.agreement('vetoed'))} | {r.without_status} | {r.basis['upstream']} | "
              f"{pct(r.share(r.unclassified_actions, r.actions))} / {pct(r.share(r.unclassified_by_rules, r.actions))}"
              f" / {pct(r.share(r.upstream_unlabelled, r.actions))} | "
              f"{len(r.unclassified_strings)} / {len(r.unclassified_by_rules_strings)} / "
              f"{len(r.upstream_unlabelled_strings)} of {len(r.strings)} | "
              f"{pct(bare.agreement('enacted'))}, {pct(bare.agreement('vetoed'))}, "
              f"{pct(bare.share(bare.unclassified_actions, bare.actions))} |")
        if args.disagreements:
            for d in report.disagreements:
                print(f"    {d.key}: Open States {d.upstream}, ours {d.ours} ({d.basis}): {d.decisive[:90]!r}")
        for problem in report.problems[:10]:
            print(f"    problem: {problem[:140]}")
        if args.unclassified:
            for text, count in report.unclassified_strings.most_common(args.unclassified):
                print(f"    unclassified {count:5} {text[:100]!r}")


if __name__ == "__main__":
    main()
