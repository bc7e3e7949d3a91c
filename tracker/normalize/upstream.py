"""Layer 3 of action classification: what the upstream itself said about an action.

Parsers keep an upstream's own labels on each action (`ScrapedAction.source_classes`), exactly as
the upstream wrote them, and storage keeps them beside the raw text, so every classification can
be recomputed without refetching. This module turns those labels into our classes. It is used only
for actions our own tables (the state's, then the generic one) leave unclassified: where our rules
know a string, our reading wins over a misleading upstream label (DOMAIN.md §1.5). A status that
rests on a class from here is marked `status_basis = upstream` wherever it is shown.

Label vocabularies:
* Open States / OCD action classes (`executive-signature`, `passage`, ...): taken as they are,
  provided they are one of the 31 OCD classes (scrapers also emit private ones such as
  `informal-passage`, which are ignored).
* LegiScan progress events, written by scrapers/legiscan.py as `legiscan-progress:<event>` on the
  history lines of the event's date (the API manual, "Progress Event" table).
* Anything else (Congress.gov's action types and codes) is kept but carries no class here: our
  `us.toml` reads the Library of Congress wording itself.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from tracker.vocab import OCD_ACTION_CLASSES

LEGISCAN_PROGRESS_PREFIX = "legiscan-progress:"

# LegiScan progress events -> our classes (DOMAIN.md §1.3). 4 "Passed" means both chambers passed
# and the executive step is done or not needed; on its own (no 8 Chaptered) it is the only sign of
# enactment LegiScan gives, so it counts as a law being made. 11 "Report DNP" is not a pass.
LEGISCAN_PROGRESS_CLASSES: dict[int, tuple[str, ...]] = {
    1: ("introduction",),
    2: ("passage",),  # engrossed: passed the origin chamber
    3: ("enrolled",),
    4: ("became-law",),
    5: ("executive-veto",),
    6: ("failure",),
    7: ("veto-override-passage", "x-override-complete"),
    8: ("became-law",),
    9: ("referral-committee",),
    10: ("committee-passage",),
    11: ("committee-passage-unfavorable",),
    12: ("filing",),
}

UPSTREAM_VERSION = hashlib.sha256(repr(sorted(LEGISCAN_PROGRESS_CLASSES.items())).encode()).hexdigest()[:6]


def legiscan_progress_label(event: int) -> str:
    return f"{LEGISCAN_PROGRESS_PREFIX}{event}"


@lru_cache(maxsize=4096)
def upstream_classes(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Our classes for an action's upstream labels; () when none of them means anything to us."""
    classes: list[str] = []
    for label in labels:
        if label in OCD_ACTION_CLASSES:
            found: tuple[str, ...] = (label,)
        elif label.startswith(LEGISCAN_PROGRESS_PREFIX):
            try:
                found = LEGISCAN_PROGRESS_CLASSES.get(int(label[len(LEGISCAN_PROGRESS_PREFIX):]), ())
            except ValueError:
                found = ()
        else:
            found = ()
        classes.extend(c for c in found if c not in classes)
    return tuple(classes)
