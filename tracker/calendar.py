"""Session calendars (tracker/data/sessions/<state>.toml, one file per state), time zones and
jurisdiction names."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

JURISDICTION_NAMES = {
    "al": "Alabama", "ak": "Alaska", "az": "Arizona", "ar": "Arkansas", "ca": "California",
    "co": "Colorado", "ct": "Connecticut", "de": "Delaware", "dc": "District of Columbia",
    "fl": "Florida", "ga": "Georgia", "hi": "Hawaii", "id": "Idaho", "il": "Illinois",
    "in": "Indiana", "ia": "Iowa", "ks": "Kansas", "ky": "Kentucky", "la": "Louisiana",
    "me": "Maine", "md": "Maryland", "ma": "Massachusetts", "mi": "Michigan", "mn": "Minnesota",
    "ms": "Mississippi", "mo": "Missouri", "mt": "Montana", "ne": "Nebraska", "nv": "Nevada",
    "nh": "New Hampshire", "nj": "New Jersey", "nm": "New Mexico", "ny": "New York",
    "nc": "North Carolina", "nd": "North Dakota", "oh": "Ohio", "ok": "Oklahoma", "or": "Oregon",
    "pa": "Pennsylvania", "pr": "Puerto Rico", "ri": "Rhode Island", "sc": "South Carolina",
    "sd": "South Dakota", "tn": "Tennessee", "tx": "Texas", "ut": "Utah", "vt": "Vermont",
    "va": "Virginia", "wa": "Washington", "wv": "West Virginia", "wi": "Wisconsin", "wy": "Wyoming",
    "us": "United States",
}
UNICAMERAL = frozenset({"ne", "dc"})
# Where a joint resolution goes to the executive like a bill (DOMAIN.md §1.2; review row H5): a
# federal H.J.Res./S.J.Res. is presented to the President. Elsewhere a joint resolution is adopted
# once both chambers pass it, and moves on only if a Governor step follows.
EXECUTIVE_JOINT_RESOLUTIONS = frozenset({"us"})

# The legislature's time zone (its capital's): "today" for a status is the legislature's date, so a
# session that ends at midnight in Sacramento has not ended at 03:00 UTC (review row M5).
TIME_ZONES = {
    "al": "America/Chicago", "ak": "America/Juneau", "az": "America/Phoenix", "ar": "America/Chicago",
    "ca": "America/Los_Angeles", "co": "America/Denver", "ct": "America/New_York", "de": "America/New_York",
    "dc": "America/New_York", "fl": "America/New_York", "ga": "America/New_York", "hi": "Pacific/Honolulu",
    "id": "America/Boise", "il": "America/Chicago", "in": "America/Indiana/Indianapolis",
    "ia": "America/Chicago", "ks": "America/Chicago", "ky": "America/New_York", "la": "America/Chicago",
    "me": "America/New_York", "md": "America/New_York", "ma": "America/New_York", "mi": "America/Detroit",
    "mn": "America/Chicago", "ms": "America/Chicago", "mo": "America/Chicago", "mt": "America/Denver",
    "ne": "America/Chicago", "nv": "America/Los_Angeles", "nh": "America/New_York", "nj": "America/New_York",
    "nm": "America/Denver", "ny": "America/New_York", "nc": "America/New_York", "nd": "America/Chicago",
    "oh": "America/New_York", "ok": "America/Chicago", "or": "America/Los_Angeles", "pa": "America/New_York",
    "pr": "America/Puerto_Rico", "ri": "America/New_York", "sc": "America/New_York", "sd": "America/Chicago",
    "tn": "America/Chicago", "tx": "America/Chicago", "ut": "America/Denver", "vt": "America/New_York",
    "va": "America/New_York", "wa": "America/Los_Angeles", "wv": "America/New_York", "wi": "America/Chicago",
    "wy": "America/Denver", "us": "America/New_York",
}


def local_date(jurisdiction: str, moment: datetime) -> date:
    """The legislature's calendar date at `moment` (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(_zone(TIME_ZONES.get(jurisdiction, "UTC"))).date()
    except ZoneInfoNotFoundError:  # no tz database on this machine: UTC, as before
        return moment.astimezone(UTC).date()


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class SessionCalendar:
    jurisdiction: str
    identifier: str
    name: str
    start_date: date | None = None
    final_action_date: date | None = None
    carry_over: str | None = None
    # For carry_over = "explicit": the last day a bill continued from this session can still act
    # (the end of the session it was continued to). After it, a continued bill with no action dies.
    carried_over_until: date | None = None
    # Where a state lets a later session act on a veto (FL art. III §8(b)): the last day an override is
    # still possible. Otherwise the override window closes with final_action_date.
    override_until: date | None = None
    # Other spellings of this session used by other sources (LegiScan "2026" for Colorado's "2026A",
    # Open States "2025" and "2026" for Oklahoma's 60th Legislature): tracker.normalize.identifiers
    # maps them onto `identifier`, so one bill from several sources is one bill (review row H6).
    aliases: tuple[str, ...] = ()
    # Where the calendar's dates come from (a statute, the legislature's site, the data itself).
    source: str | None = None

    @property
    def known(self) -> bool:
        return self.final_action_date is not None


@cache
def _calendars() -> dict[tuple[str, str], SessionCalendar]:
    calendars: dict[tuple[str, str], SessionCalendar] = {}
    folder = resources.files("tracker") / "data" / "sessions"
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".toml"):
            continue
        for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("session", []):
            key = (entry["jurisdiction"], entry["identifier"])
            if key in calendars:
                raise ValueError(f"{path.name}: session {key} is listed twice")
            calendars[key] = SessionCalendar(**(entry | {"aliases": tuple(entry.get("aliases", ()))}))
    return calendars


@cache
def _aliases() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for (jurisdiction, identifier), calendar in _calendars().items():
        for alias in calendar.aliases:
            key = (jurisdiction, alias)
            if key in found or key in _calendars():
                raise ValueError(f"session alias {alias!r} of {jurisdiction} names two sessions")
            found[key] = identifier
    return found


def session_for_alias(jurisdiction: str, spelling: str) -> str | None:
    """Our identifier for another source's spelling of a session, if the calendars list it."""
    return _aliases().get((jurisdiction, spelling))


def session_calendar(jurisdiction: str, identifier: str) -> SessionCalendar:
    known = _calendars().get((jurisdiction, identifier))
    return known or SessionCalendar(jurisdiction, identifier, f"{identifier} session")
