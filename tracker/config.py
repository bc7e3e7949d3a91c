"""Settings: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from typing import Annotated, Literal

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tracker import __version__


# Live sources that need no key, and the keyed ones with the setting that holds their key
# (tests/test_config.py checks that every live source of the registry is in one of the two).
KEYLESS_SOURCES = ("va-lis", "ca-pubinfo", "wa-wsl", "ct-ftp", "federal-register")
KEYED_SOURCES = {"legiscan": "legiscan_api_key", "openstates": "openstates_api_key",
                 "ny-openleg": "ny_openleg_api_key", "congress": "congress_api_key"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/tracker.db",
        validation_alias=AliasChoices("TRACKER_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://... for teams.",
    )
    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and HTTP cache live.")
    sources: Annotated[list[str], NoDecode] = Field(
        default=[], description="Sources `tracker run`, `schedule` and `scrape` poll. Empty: every source that needs "
        "no key, plus every keyed source whose key is set (enabled_sources).")
    contact_email: str = Field(
        default="statehouse-ai-tracker@users.noreply.github.com",
        description="Contact address sent in the User-Agent so site operators can reach us.",
    )
    project_url: str = Field(default="https://github.com/statehouse-ai-tracker/statehouse-ai-tracker")
    http_timeout_seconds: float = Field(default=60.0, gt=0)
    http_max_retries: int = Field(default=4, ge=0, le=10)
    http_requests_per_minute: float = Field(default=20.0, gt=0, description="Per-host politeness limit.")
    http_max_response_mb: float = Field(default=200.0, gt=0, description="Larger responses are refused.")
    http_cache: bool = Field(default=True, description="RFC 9111 cache with conditional requests.")
    replay_dir: Path | None = Field(
        default=None,
        description="Serve recorded responses from this folder (../shared) instead of the network.",
    )
    va_sessions: Annotated[list[str], NoDecode] = Field(
        default=["20261"],
        description="Virginia LIS session codes: 5 digits (20261) for the LIS blob, 3 (241) for legacy LIS.",
    )
    ca_pubinfo_archive: str = Field(
        default="daily",
        description="California pubinfo archive: 'daily' (today's pubinfo_<Day>.zip) or a file name "
        "such as pubinfo_2025.zip (the full session).",
    )
    ny_session_years: Annotated[list[str], NoDecode] = Field(
        default=["2025"], description="New York sessions (the odd start year of each two-year session)."
    )
    ny_openleg_api_key: SecretStr | None = Field(
        default=None, description="Open Legislation API key (free, legislation.nysenate.gov). Secret."
    )
    ny_lbdc_bills: Annotated[list[str], NoDecode] = Field(
        default=[], description="New York bills ny-lbdc fetches, as YEAR:PRINTNO (2025:S6953,2025:A6453); "
        "LBDC has no keyless bulk list.",
    )
    wa_biennium: str = Field(default="2025-26", description="Washington biennium, as the WSL service names it.")
    wa_introduced_since: date = Field(
        default=date(2025, 1, 1), description="Washington: first introduction date to list."
    )
    ct_ftp_host: str = Field(default="ftp.cga.ct.gov", description="Connecticut General Assembly FTP host.")
    congress_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TRACKER_CONGRESS_API_KEY", "CONGRESS_API_KEY"),
        description="Congress.gov API key (free, api.data.gov). Secret.",
    )
    congress_number: int = Field(default=119, ge=93, description="The Congress whose AI bills `congress` polls.")
    congress_max_requests: int = Field(
        default=1000, gt=0, le=5000,
        description="Congress.gov requests one run may spend (the API allows 5,000 per hour per key).",
    )
    federal_register_terms: Annotated[list[str], NoDecode] = Field(
        default=['"artificial intelligence"'],
        description="Federal Register full-text search terms; one query per term, results de-duplicated.",
    )
    federal_start_date: date = Field(
        default=date(2025, 1, 1), description="Federal sources: where the first poll starts (later polls resume)."
    )

    # LegiScan (scrapers/legiscan.py) and Open States API v3 (scrapers/openstates.py).
    legiscan_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TRACKER_LEGISCAN_API_KEY", "LEGISCAN_API_KEY"),
        description="LegiScan API key (free public key: legiscan.com/legiscan). Secret; sent only to LegiScan.",
    )
    legiscan_monthly_budget: int = Field(
        default=25_000, ge=0,
        description="LegiScan queries the tracker may spend per calendar month (the free key allows 30,000).",
    )
    legiscan_states: Annotated[list[str], NoDecode] = Field(
        default=["ALL"], description="Where getSearchRaw looks for AI bills: ALL, or state abbreviations (US = Congress).",
    )
    legiscan_search_query: str = Field(
        default='"artificial intelligence" OR "automated decision" OR "algorithmic discrimination" OR '
                '"machine learning" OR "generative artificial intelligence" OR "foundation model" OR '
                '"frontier model" OR "large language model" OR deepfake OR "synthetic media" OR '
                '"digital replica" OR chatbot',
        description="LegiScan full-text query for candidate AI bills (DOMAIN.md §3 vocabulary). Empty: no search.",
    )
    legiscan_sessions: Annotated[list[str], NoDecode] = Field(
        default=[], description="LegiScan session ids to cover in full (dataset backfill, then every changed bill).",
    )
    openstates_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TRACKER_OPENSTATES_API_KEY", "OPENSTATES_API_KEY"),
        description="Open States API v3 key (free: open.pluralpolicy.com). Secret; sent as X-API-KEY.",
    )
    openstates_jurisdictions: Annotated[list[str], NoDecode] = Field(
        default=[], description="Two-letter states (dc, pr too) whose bills `openstates` polls. Empty: none.",
    )
    openstates_query: str = Field(
        default='"artificial intelligence" OR "automated decision" OR "algorithmic discrimination" OR '
                '"machine learning" OR "foundation model" OR "frontier model" OR "large language model" OR '
                'deepfake OR "synthetic media" OR "digital replica" OR chatbot',
        description="Open States full-text filter (q) for AI bills. Empty: every updated bill of the jurisdiction.",
    )
    openstates_requests_per_minute: float = Field(
        default=10.0, gt=0, description="Requests per minute to v3.openstates.org (its default key limit).",
    )
    openstates_daily_budget: int = Field(
        default=250, ge=0, description="Open States requests the tracker may spend per day (the default key: 250).",
    )
    openstates_updated_since: date = Field(
        default=date(2025, 1, 1), description="Open States: where the first poll starts (later polls resume).",
    )

    @field_validator("legiscan_states", "legiscan_sessions", "openstates_jurisdictions", mode="before")
    @classmethod
    def _split_source_lists(cls, value):
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("legiscan_api_key", "openstates_api_key", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sources", "va_sessions", "ny_session_years", "ny_lbdc_bills", "federal_register_terms",
                     mode="before")
    @classmethod
    def _split_commas(cls, value):
        # Accept "a,b" from the environment as well as a JSON list.
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("replay_dir", "ny_openleg_api_key", "congress_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        # `KEY=` in .env (as .env.example ships) means "not set", not an empty key or path.
        return None if isinstance(value, str) and not value.strip() else value

    schedule_state_hours: float = Field(
        default=4.0, gt=0, description="State sources: hours between polls while the legislature is in session.")
    schedule_state_idle_hours: float = Field(
        default=24.0, gt=0, description="State sources: hours between polls out of session (from the calendars).")
    schedule_legiscan_hours: float = Field(default=4.0, gt=0, description="LegiScan: hours between polls.")
    schedule_congress_hours: float = Field(default=6.0, gt=0, description="Congress.gov: hours between polls.")
    schedule_federal_register_cron: str = Field(
        default="7 * * * mon-fri", description="Federal Register (and its public-inspection desk): a crontab line, "
        "UTC; hourly on weekdays by default.")
    schedule_jitter_seconds: int = Field(default=300, ge=0, description="Random delay added to each scheduled poll.")

    # Email digests (tracker/deliver/; issue #13). No host: digests are off (preview still works).
    smtp_host: str | None = Field(default=None, description="SMTP server for digests. Empty: no digests are sent.")
    smtp_port: int | None = Field(default=None, gt=0, lt=65536,
                                  description="SMTP port. Empty: 587 for starttls, 465 for ssl, 25 for none.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (upgrade after connecting), ssl (implicit TLS) or none.")
    smtp_username: str | None = Field(default=None, description="SMTP login. Empty: no authentication.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password. Secret; never logged.")
    digest_from: str = Field(default="Statehouse AI Tracker <digests@localhost>",
                             description="The digests' From address (and the domain of their Message-IDs).")
    dashboard_url: str = Field(default="http://localhost:8501",
                               description="The dashboard's public URL, for links and the unsubscribe link.")

    @field_validator("smtp_host", "smtp_port", "smtp_username", "smtp_password", mode="before")
    @classmethod
    def _blank_smtp_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def digests_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def smtp_port_or_default(self) -> int:
        return self.smtp_port or {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    @property
    def enabled_sources(self) -> list[str]:
        """TRACKER_SOURCES when set; otherwise every keyless live source (the NY LBDC watch list when it
        names bills) and every keyed source whose key is present: a LegiScan key alone adds 50 states."""
        if self.sources:
            return list(self.sources)
        enabled = list(KEYLESS_SOURCES)
        if self.ny_lbdc_bills:
            enabled.append("ny-lbdc")
        for source_id, key in KEYED_SOURCES.items():
            if getattr(self, key) is not None and (source_id != "openstates" or self.openstates_jurisdictions):
                enabled.append(source_id)
        return enabled

    @property
    def user_agent(self) -> str:
        return f"StatehouseAITracker/{__version__} (+{self.project_url}; {self.contact_email})"


@lru_cache
def get_settings() -> Settings:
    return Settings()
