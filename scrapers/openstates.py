"""Open States / OCD bill records: the JSON that Open States scrapers write and its API serves.

`parse_ocd_bill` reads one bill in the OCD shape (identifier, legislative_session, actions with
organization and classification, sponsorships, versions, sources). Open States' action classes
are kept only as hints (`source_classes`); our own rules classify the raw text.
The recorded files are scrape *output* (../shared/fixtures/states/*/openstates_scrape_json); no
real v3 `/bills` API response has been recorded, so the live API shape is unverified here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker.config import Settings
from tracker.http import Fetcher
from tracker.normalize.identifiers import canonical_session
from tracker.scraped import ScrapedAction, ScrapedBill, ScrapedSponsor, ScrapedVersion
from tracker.vocab import BillKind, Chamber

_KINDS = {
    "bill": BillKind.BILL,
    "resolution": BillKind.RESOLUTION,
    "joint resolution": BillKind.JOINT_RESOLUTION,
    "concurrent resolution": BillKind.CONCURRENT_RESOLUTION,
    "constitutional amendment": BillKind.JOINT_RESOLUTION,
}
_CHAMBERS = {"upper": Chamber.UPPER, "lower": Chamber.LOWER, "legislature": Chamber.LEGISLATURE,
             "executive": Chamber.EXECUTIVE, "joint": Chamber.CONFERENCE}


def _organization(value) -> str | None:
    """Scrape output writes `~{"classification": "upper"}`; the API writes {"classification": ...}."""
    if isinstance(value, dict):
        return _CHAMBERS.get(value.get("classification"))
    if isinstance(value, str) and value.startswith("~"):
        try:
            return _CHAMBERS.get(json.loads(value[1:]).get("classification"))
        except (json.JSONDecodeError, AttributeError):
            return None
    return None


def _date(raw: str) -> date | None:
    raw = (raw or "").strip()
    return date.fromisoformat(raw[:10]) if raw else None


def _jurisdiction(data: dict) -> str:
    jurisdiction = data.get("jurisdiction") or {}
    ocd_id = jurisdiction.get("id") or jurisdiction.get("division_id") or data.get("jurisdiction_id") or ""
    match = re.search(r"/(?:state|territory|district):([a-z]{2})", ocd_id)
    if not match:
        raise ValueError(f"no state in jurisdiction {ocd_id!r}")
    return match.group(1)


def parse_ocd_bill(data: dict, *, fetched_at: datetime | None = None, source_id: str = "openstates-json"
                   ) -> ScrapedBill:
    """One OCD bill record -> ScrapedBill. Raises ValueError/KeyError on a record we cannot read."""
    if not isinstance(data, dict) or "identifier" not in data:
        raise ValueError("not an OCD bill record (no identifier)")
    state = _jurisdiction(data)
    session = data.get("legislative_session")
    if isinstance(session, dict):  # the v3 API nests it
        session = session.get("identifier")
    actions = []
    for action in data.get("actions", []):
        raw_date = action.get("date") or ""
        try:
            when = _date(raw_date)
        except ValueError:
            raise ValueError(f"unreadable action date {raw_date!r}") from None
        actions.append(ScrapedAction(when, (action.get("description") or "").strip(), raw_date,
                                     _organization(action.get("organization_id") or action.get("organization")),
                                     tuple(action.get("classification") or ())))
    versions = []
    for version in data.get("versions", []):
        links = version.get("links") or []
        versions.append(ScrapedVersion(version.get("note") or "", _date(version.get("date") or ""),
                                       links[0].get("url") if links else None))
    sources = data.get("sources") or []
    kinds = [c for c in data.get("classification") or ["bill"] if c in _KINDS]
    processed = (data.get("_processing") or {}).get("logs_latest_update") or data.get("updated_at")
    fetched = fetched_at or (datetime.fromisoformat(processed.replace("Z", "+00:00")) if processed
                             else datetime.now(UTC))
    abstracts = data.get("abstracts") or []
    return ScrapedBill(
        jurisdiction=state,
        session=canonical_session(state, str(session or "")),
        identifier=data["identifier"],
        title=(data.get("title") or "").strip(),
        source_id=source_id,
        source_url=sources[0]["url"] if sources else "",
        fetched_at=fetched,
        kind=_KINDS[kinds[0]] if kinds else BillKind.BILL,
        origin_chamber=_organization(data.get("from_organization")),
        actions=actions,
        sponsors=[ScrapedSponsor(s.get("name", ""), bool(s.get("primary")), None)
                  for s in data.get("sponsorships", []) if s.get("name")],
        versions=versions,
        summary=(abstracts[0].get("abstract") or "").strip() or None if abstracts else None,
        raw={"identifier": data["identifier"], "legislative_session": str(session),
             "classification": data.get("classification"), "extras": data.get("extras") or {}},
    )


def read_ocd_files(paths: list[Path], fetched_at: datetime | None) -> Iterator[ParsedItem]:
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield ItemProblem(f"{path.name}: not valid JSON ({exc})", path.stem, str(path))
            continue
        records = data.get("results", [data]) if isinstance(data, dict) else data
        for record in records:
            try:
                yield parse_ocd_bill(record, fetched_at=fetched_at)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                yield ItemProblem(f"{path.name}: {exc}", path.stem, str(path))


class OpenStatesFiles(Source):
    """Saved OCD bill JSON (Open States scraper output or API pages); file input only."""

    id = "openstates-json"
    title = "Open States / OCD bill JSON files (saved scrape output or API pages)"
    jurisdiction = "*"
    live = False

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        paths = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not paths:
            raise FileNotFoundError(f"{path}: no .json files")
        return Batch(target=str(path), items=read_ocd_files(paths, fetched_at))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        raise SourceFormatError(f"{self.id} reads saved files only; use `tracker ingest {self.id} PATH`")
