"""API keys live in one place (issue #11): tracker.http registers every key of the settings and every
`secret_params` value, and its one `redact` keeps them out of logs, errors, run records and recordings.
One test of it for every keyed source, run as the real poll runs (run_source), against a server that
echoes the key back in its error pages and bodies."""

from __future__ import annotations

import gzip
import json
import logging

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from tracker import db as database
from tracker.http import Fetcher, FetchError, redact, register_secret
from tracker.models import RunProblem, ScrapeRun
from tracker.runs import run_source

SECRET = "Sup3rSecretKey-0123456789abcdef"
KEYED = {
    "legiscan": {"legiscan_api_key": SecretStr(SECRET)},
    "openstates": {"openstates_api_key": SecretStr(SECRET), "openstates_jurisdictions": ["co"]},
    "congress": {"congress_api_key": SecretStr(SECRET)},
    "ny-openleg": {"ny_openleg_api_key": SecretStr(SECRET), "ny_session_years": ["2025"]},
}


def echoing_server(seen: list[str]):
    """503 on the first request (a retry, which is logged with the URL), then 200 bodies and error pages
    that quote the key back, as a careless API might."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        key = (request.url.params.get("key") or request.url.params.get("api_key")
               or request.headers.get("x-api-key") or "")
        if len(seen) == 1:
            return httpx.Response(503, text=f"busy, try again with key={key}")
        if len(seen) % 2:
            return httpx.Response(404, text=f"no such page for key {key}")
        return httpx.Response(200, json={"status": "ERROR", "alert": {"message": f"key {key} is not valid"},
                                         "echo": key})

    return handler


@pytest.mark.parametrize("source_id", sorted(KEYED))
def test_a_keyed_run_never_writes_its_key_anywhere(source_id, settings, tmp_path, caplog):
    keyed = settings.model_copy(update={**KEYED[source_id], "http_requests_per_minute": 1e9, "http_max_retries": 2})
    database.upgrade(keyed.database_url)
    engine = database.get_engine(keyed.database_url)
    seen: list[str] = []
    folder = tmp_path / "recorded"
    with caplog.at_level(logging.DEBUG):
        with Fetcher(keyed, transport=httpx.MockTransport(echoing_server(seen)), sleep=lambda s: None,
                     record_dir=folder) as fetcher:
            summaries = run_source(engine, keyed, source_id, fetcher=fetcher)
    assert seen and any(SECRET in url for url in seen) or source_id == "openstates"  # the key reached the server
    assert len(seen) >= 2 and "retry" in caplog.text  # the retry was logged, with its URL
    assert summaries and all(SECRET not in s.line() for s in summaries)
    assert SECRET not in caplog.text
    with Session(engine) as db:
        stored = [repr(row) for model in (ScrapeRun, RunProblem) for row in db.execute(select(model)).scalars()]
    assert stored and not any(SECRET in row for row in stored)
    recorded = [p for p in folder.rglob("*") if p.is_file()]
    assert recorded, "the 200 bodies were recorded"
    for path in recorded:
        body = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert SECRET.encode() not in body and SECRET not in path.name
    assert "***" in "".join(gzip.decompress(p.read_bytes()).decode() for p in recorded if p.suffix == ".gz")


def test_redact_removes_registered_values_quoted_or_not_and_secret_query_values():
    register_secret("registered-key-value+/=")
    text = ("GET https://api.example/?op=x&key=abc123&api_key=def456 failed; echo registered-key-value+/= and "
            "registered-key-value%2B%2F%3D; cursor_key=kept token=t0k")
    shown = redact(text)
    assert shown == ("GET https://api.example/?op=x&key=***&api_key=*** failed; echo *** and ***; "
                     "cursor_key=kept token=***")
    assert redact(None) is None and redact("") == ""
    register_secret("other")  # too short to be a real key: it would garble ordinary words
    assert redact("redirected to another site") == "redirected to another site"


def test_an_error_from_a_keyed_request_names_the_url_without_the_key(settings):
    keyed = settings.model_copy(update={"http_cache": False, "http_requests_per_minute": 1e9})
    transport = httpx.MockTransport(lambda r: httpx.Response(403, text=f"key {r.url.params['apikey']} refused"))
    with Fetcher(keyed, transport=transport, sleep=lambda s: None) as fetcher:
        with pytest.raises(FetchError) as error:
            fetcher.get_bytes("https://api.example/bills?page=2", secret_params={"apikey": "per-request-key-9"})
    assert str(error.value) == "GET https://api.example/bills?page=2: HTTP 403: key *** refused"


def test_log_records_from_any_logger_are_redacted(caplog):
    register_secret("logged-key-0000")
    with caplog.at_level(logging.INFO):
        logging.getLogger("somewhere.else").info("calling %s", "https://x.example/?token=abc&q=1 logged-key-0000")
    assert caplog.records[-1].getMessage() == "calling https://x.example/?token=***&q=1 ***"
    assert json.dumps([r.getMessage() for r in caplog.records]).count("logged-key-0000") == 0
