"""Settings: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from typing import Annotated

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tracker import __version__


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/tracker.db",
        validation_alias=AliasChoices("TRACKER_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://... for teams.",
    )
    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and HTTP cache live.")
    sources: Annotated[list[str], NoDecode] = Field(default=["va-lis"], description="Sources `tracker run` polls.")
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

    @field_validator("sources", "va_sessions", "ny_session_years", "ny_lbdc_bills", mode="before")
    @classmethod
    def _split_commas(cls, value):
        # Accept "a,b" from the environment as well as a JSON list.
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("replay_dir", "ny_openleg_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        # `KEY=` in .env (as .env.example ships) means "not set", not an empty key or path.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def user_agent(self) -> str:
        return f"StatehouseAITracker/{__version__} (+{self.project_url}; {self.contact_email})"


@lru_cache
def get_settings() -> Settings:
    return Settings()
