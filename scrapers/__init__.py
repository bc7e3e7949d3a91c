"""Registry of sources: the CLI, the main job and the tests all look sources up here."""

from __future__ import annotations

from scrapers.base import Source
from scrapers.ca_pubinfo import CaliforniaPubinfo
from scrapers.congress_gov import CongressGov
from scrapers.ct_ftp import ConnecticutFTP
from scrapers.federal_register import FederalRegister
from scrapers.ny import NewYorkLBDC, NewYorkOpenLeg
from scrapers.legiscan import LegiScanAPI, LegiScanDataset
from scrapers.openstates import OpenStatesAPI, OpenStatesFiles
from scrapers.va_lis import VirginiaLIS
from scrapers.wa_wsl import WashingtonWSL

REGISTRY: dict[str, Source] = {
    source.id: source
    for source in (
        VirginiaLIS(),
        CaliforniaPubinfo(),
        NewYorkOpenLeg(),
        NewYorkLBDC(),
        ConnecticutFTP(),
        WashingtonWSL(),
        OpenStatesFiles(),
        LegiScanAPI(),
        LegiScanDataset(),
        OpenStatesAPI(),
        FederalRegister(),
        CongressGov(),
    )
}


def get_source(source_id: str) -> Source:
    try:
        return REGISTRY[source_id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source {source_id!r}; known sources: {known}") from None
