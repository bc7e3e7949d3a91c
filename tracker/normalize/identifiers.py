"""Canonical bill identifiers and keys. The only place that formats or splits them."""

from __future__ import annotations

import re

from tracker.calendar import session_for_alias

# Letters (the type), digits (zero padding dropped), and an optional one-letter special-session suffix
# (FL writes "HB 3F" for House Bill 3 of special session F).
_IDENTIFIER = re.compile(r"^\s*([A-Za-z]+(?:[ .]+[A-Za-z]+)*)[\s.]*0*(\d+)([A-Za-z])?\s*$")
# Numbered items that are not legislation (documented in the README, "Identifiers"): HI "GM 595" is a
# governor's message (a nomination or a veto notice), not a bill.
NOT_LEGISLATION = {"GM": "a governor's message, not legislation"}


class IdentifierError(ValueError):
    pass


def canonical_identifier(raw: str) -> str:
    """`HB0013` -> `HB 13`, `s.b. 5` -> `SB 5`, `HJR 14` stays `HJR 14`, `SB 0677` -> `SB 677`,
    FL `HB 3F` stays `HB 3F`. Anything else (IA draft numbers such as `5269XD`, with no type
    letters first) raises IdentifierError, which parsers turn into one problem for that record."""
    match = _IDENTIFIER.match(raw or "")
    if not match:
        raise IdentifierError(f"not a bill identifier: {raw!r} (type letters and a number expected)")
    prefix = re.sub(r"[ .]+", "", match.group(1)).upper()
    if prefix in NOT_LEGISLATION:
        raise IdentifierError(f"{raw!r} is {NOT_LEGISLATION[prefix]}")
    return f"{prefix} {int(match.group(2))}{(match.group(3) or '').upper()}"


# The kind a state identifier's letters name, for sources that call everything a bill (Open States'
# Colorado output labels resolutions ["bill"]). Memorials are resolutions too: one chamber (HM, SM),
# both chambers as a joint (HJM, SJM) or concurrent (HCM, SCM) memorial. Bills are everything else
# (HB, SB, AB, HF, SF, A, S...).
_KIND_BY_TYPE = [
    (re.compile(r"^[HSA]?J(R|M|RES)$"), "joint_resolution"),
    (re.compile(r"^[HSA]?C(R|M)$|^[HS]C$"), "concurrent_resolution"),
    (re.compile(r"^[HSA]?(R|M|RES|MR)$"), "resolution"),
]


def kind_from_identifier(identifier: str) -> str:
    prefix = canonical_identifier(identifier).split(" ", 1)[0]
    for pattern, kind in _KIND_BY_TYPE:
        if pattern.match(prefix):
            return kind
    return "bill"


def bill_key(jurisdiction: str, session: str, identifier: str) -> str:
    """The natural key as one string: `va-2024-SB487`."""
    jurisdiction = jurisdiction.strip().lower()
    if not re.fullmatch(r"[a-z]{2}", jurisdiction):
        raise IdentifierError(f"jurisdiction must be two lowercase letters: {jurisdiction!r}")
    if not re.fullmatch(r"[A-Za-z0-9]+", session or ""):
        raise IdentifierError(f"session must be letters and digits: {session!r}")
    return f"{jurisdiction}-{session}-{canonical_identifier(identifier).replace(' ', '')}"


def split_bill_key(key: str) -> tuple[str, str, str]:
    """Inverse of bill_key: `va-2024-SB487` -> (`va`, `2024`, `SB 487`)."""
    try:
        jurisdiction, session, compact = key.split("-", 2)
    except ValueError:
        raise IdentifierError(f"not a bill key: {key!r}") from None
    return jurisdiction, session, canonical_identifier(compact)


# Legislatures whose session is a two-year biennium starting in an odd year, which sources name
# by its first year (NY OpenLeg "2025"), by both years ("2025-2026") or run together
# ("20252026"). Add a state only after checking its calendar (NJ's biennium starts in even years).
# MI: the 103rd Legislature sits 2025-2026 (LegiScan session "2025-2026", bill URLs name 2025).
ODD_YEAR_BIENNIA = frozenset({"ca", "mi", "ny", "wa"})


def canonical_session(jurisdiction: str, raw: str) -> str:
    """One spelling per session, whatever the source: `2025-2026` -> `20252026`, `2026A` stays."""
    compact = re.sub(r"[^0-9A-Za-z]", "", raw or "")
    if not compact:
        raise IdentifierError(f"empty session for {jurisdiction!r}")
    if (jurisdiction in ODD_YEAR_BIENNIA and re.fullmatch(r"\d{6}", compact)
            and int(compact[4:]) == (int(compact[:4]) + 1) % 100):
        compact = compact[:4]  # WA WSL "2025-26": first year plus the next year's last two digits
    if jurisdiction in ODD_YEAR_BIENNIA and re.fullmatch(r"\d{4}", compact):
        start = int(compact)
        start -= 0 if start % 2 else 1  # biennia start in odd years
        compact = f"{start}{start + 1}"
    # Another source's spelling of a session the calendars know (review row H6): one bill, one key.
    return session_for_alias(jurisdiction, compact) or compact


def identifier_prefix(identifier: str) -> str:
    return canonical_identifier(identifier).split(" ", 1)[0]
