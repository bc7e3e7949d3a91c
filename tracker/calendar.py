"""Session calendars (tracker/data/sessions.toml) and jurisdiction names."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

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


@dataclass(frozen=True, slots=True)
class SessionCalendar:
    jurisdiction: str
    identifier: str
    name: str
    start_date: date | None = None
    final_action_date: date | None = None
    carry_over: str | None = None


@cache
def _calendars() -> dict[tuple[str, str], SessionCalendar]:
    text = (resources.files("tracker") / "data" / "sessions.toml").read_text(encoding="utf-8")
    return {
        (entry["jurisdiction"], entry["identifier"]): SessionCalendar(**entry)
        for entry in tomllib.loads(text).get("session", [])
    }


def session_calendar(jurisdiction: str, identifier: str) -> SessionCalendar:
    known = _calendars().get((jurisdiction, identifier))
    return known or SessionCalendar(jurisdiction, identifier, f"{identifier} session")
