"""Registry of sources: the CLI, the main job and the tests all look sources up here."""

from __future__ import annotations

from scrapers.base import Source
from scrapers.ct_ftp import ConnecticutFTP
from scrapers.openstates import OpenStatesFiles
from scrapers.va_lis import VirginiaLIS

REGISTRY: dict[str, Source] = {
    source.id: source
    for source in (
        VirginiaLIS(),
        ConnecticutFTP(),
        OpenStatesFiles(),
    )
}


def get_source(source_id: str) -> Source:
    try:
        return REGISTRY[source_id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source {source_id!r}; known sources: {known}") from None
