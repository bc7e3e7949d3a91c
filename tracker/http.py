"""The one way this project talks HTTP: honest User-Agent, per-host rate limit, retries with
backoff (honouring Retry-After), RFC 9111 caching with conditional requests, a size cap, redirects
kept to the source's own site, robots.txt for HTML pages, counts of what each run cost, and replay
and recording of whole requests so the whole pipeline runs offline.

Secrets: an API key is never part of a URL we build. It goes in `secret_params` (or a header) of
the one request that needs it, and this module keeps it out of the cache, errors, logs, recordings
and replay keys (SECRET_PARAMS names the query parameters that are always secrets)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlencode
from urllib.robotparser import RobotFileParser

import httpx
from hishel import SqliteStorage
from hishel.httpx import CacheTransport
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from tracker.config import Settings

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 600.0
MAX_REDIRECTS = 5
# Query parameters that carry a key: dropped from replay keys, recordings and every shown URL.
SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token"})
# Query parameters that only defeat caches (the Federal Register's public-inspection cache-buster).
VOLATILE_PARAMS = frozenset({"_", "cachebust", "cache_buster", "nocache"})
# What a name-resolution failure looks like in the socket errors of Linux, macOS and Windows.
_NO_DNS = ("Name or service not known", "nodename nor servname", "Temporary failure in name resolution",
           "No address associated with hostname", "getaddrinfo failed")
OFFLINE_HINT = ("no network? To run offline on recorded responses: --replay DIR (e.g. --replay ../shared) "
                "or TRACKER_REPLAY_DIR")


class FetchError(RuntimeError):
    """A URL could not be fetched; the message says which and why."""


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


@dataclass(frozen=True, slots=True)
class FetchedText:
    url: str
    text: str
    fetched_at: datetime
    not_modified: bool  # the server confirmed our cached copy (304) or it was still fresh


class RateLimitTransport(httpx.BaseTransport):
    """At most `per_minute` requests to any one host; cache hits never reach this layer."""

    def __init__(self, inner: httpx.BaseTransport, per_minute: float, sleep: Callable[[float], None] = time.sleep):
        self.inner, self.interval, self.sleep = inner, 60.0 / per_minute, sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(request.url.host, now))
            self._next_slot[request.url.host] = slot + self.interval
        if slot > now:
            self.sleep(slot - now)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class NoStoreRetryableTransport(httpx.BaseTransport):
    """Marks 429/5xx responses `no-store`. Retries happen outside the cache, so an error stored
    because the server gave it a lifetime (max-age, Expires) would answer every retry, and later
    runs, without the origin ever being asked again."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code in RETRY_STATUSES:
            response.headers["cache-control"] = "no-store"
        return response

    def close(self) -> None:
        self.inner.close()


def request_key(method: str, url: httpx.URL | str) -> str:
    """A request as replay and recording know it: method, URL without its query, then the query's
    parameters sorted, without secrets and cache-busters. `GET https://api.legiscan.com/?id=2148&op=getMasterListRaw`."""
    url = httpx.URL(str(url))
    pairs = sorted((k, v) for k, v in url.params.multi_items() if k.lower() not in SECRET_PARAMS | VOLATILE_PARAMS)
    base = str(url.copy_with(query=None))
    return f"{method.upper()} {base}" + (f"?{urlencode(pairs)}" if pairs else "")


def public_url(url: httpx.URL | str) -> str:
    """A URL fit to show or store: secret query parameters removed."""
    url = httpx.URL(str(url))
    pairs = [(k, v) for k, v in url.params.multi_items() if k.lower() not in SECRET_PARAMS]
    return str(url.copy_with(query=urlencode(pairs).encode() if pairs else None))


MANIFEST = "replay_manifest.toml"


def load_manifest(root: Path) -> list[dict]:
    """The recordings of a folder made by `tracker record` (its own replay_manifest.toml), or else the
    packaged manifest of the real files in ../shared."""
    own = Path(root) / MANIFEST
    text = own.read_text(encoding="utf-8") if own.exists() else \
        (resources.files("tracker") / MANIFEST).read_text(encoding="utf-8")
    return tomllib.loads(text).get("recording", [])


class ReplayTransport(httpx.BaseTransport):
    """Serves recorded responses by request (method, URL, sorted query without secrets; a recording
    marked `any_query` serves its URL whatever the query). A recording with an ETag or Last-Modified
    answers a matching conditional request with 304, as the real server would. Unknown requests get a
    404 that names them."""

    def __init__(self, root: Path, manifest: list[dict] | None = None):
        self.root = Path(root)
        entries = load_manifest(self.root) if manifest is None else manifest
        self.recordings = {request_key(e.get("method", "GET"), e["url"]): e for e in entries}
        self.any_query = {request_key(e.get("method", "GET"), httpx.URL(e["url"]).copy_with(query=None)): e
                          for e in entries if e.get("any_query")}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = request_key(request.method, request.url)
        entry = self.recordings.get(key) or self.any_query.get(
            request_key(request.method, request.url.copy_with(query=None)))
        if entry is None:
            return httpx.Response(404, text=f"no recording for {key.split(' ', 1)[1]}", request=request)
        path = self.root / entry["file"]
        if not path.exists():
            return httpx.Response(404, text=f"recording {path} is missing", request=request)
        headers = {"content-type": entry.get("content_type", "application/octet-stream")}
        for name in ("etag", "last_modified", "cache_control"):
            if entry.get(name):
                headers[name.replace("_", "-")] = entry[name]
        if (entry.get("etag") and request.headers.get("if-none-match") == entry["etag"]) or (
                entry.get("last_modified") and request.headers.get("if-modified-since") == entry["last_modified"]):
            return httpx.Response(304, headers=headers, request=request)
        body = path.read_bytes()
        if path.suffix == ".gz":
            body = gzip.decompress(body)
        return httpx.Response(int(entry.get("status", 200)), content=body, headers=headers, request=request)


class RecordingTransport(httpx.BaseTransport):
    """Passes requests through and saves each response for replay (`tracker record DIR`): the body under
    DIR/files/, and a manifest entry with the request key's URL (secrets removed), status, content type,
    ETag, Last-Modified and fetch time. Secret values are removed from the body too, in case an API
    echoes them. Only bodies that replay can serve (status below 400) are kept."""

    def __init__(self, inner: httpx.BaseTransport, folder: Path, secrets: Callable[[], list[str]] = list,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.inner, self.folder, self.secrets, self.clock = inner, Path(folder), secrets, clock
        self.entries: dict[str, dict] = {request_key(e.get("method", "GET"), e["url"]): e
                                          for e in load_recorded(self.folder)}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code >= 400 or response.status_code == 304:
            return response
        body = response.read()
        for secret in self.secrets():
            if secret:
                body = body.replace(secret.encode(), b"***")
        key = request_key(request.method, request.url)
        name = hashlib.sha256(key.encode()).hexdigest()[:20] + ".body.gz"
        (self.folder / "files").mkdir(parents=True, exist_ok=True)
        (self.folder / "files" / name).write_bytes(gzip.compress(body, mtime=0))
        entry = {"url": key.split(" ", 1)[1], "method": request.method, "file": f"files/{name}",
                 "status": response.status_code,
                 "content_type": response.headers.get("content-type", "application/octet-stream"),
                 "fetched_at": self.clock().isoformat()}
        for header in ("etag", "last-modified", "cache-control"):
            if response.headers.get(header):
                entry[header.replace("-", "_")] = response.headers[header]
        self.entries[key] = entry
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request,
                              extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()
        write_manifest(self.folder, list(self.entries.values()))


def load_recorded(folder: Path) -> list[dict]:
    path = Path(folder) / MANIFEST
    return tomllib.loads(path.read_text(encoding="utf-8")).get("recording", []) if path.exists() else []


def write_manifest(folder: Path, entries: list[dict]) -> None:
    """replay_manifest.toml for a recorded folder (TOML written by hand: a flat list of string tables)."""
    lines = ["# Recorded by `tracker record`; replay with --replay DIR. Secrets removed from URLs and bodies.", ""]
    for entry in sorted(entries, key=lambda e: (e["url"], e.get("method", "GET"))):
        lines.append("[[recording]]")
        for name, value in entry.items():
            lines.append(f"{name} = {json.dumps(value)}")
        lines.append("")
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / MANIFEST).write_text("\n".join(lines), encoding="utf-8")


def _no_dns(exc: BaseException) -> bool:
    """A name-resolution failure: the machine is offline (or the host is gone). Never retried."""
    return isinstance(exc, httpx.ConnectError) and any(marker in str(exc) for marker in _NO_DNS)


def _wait(fallback: Callable[[RetryCallState], float]) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        header = exc.response.headers.get("retry-after") if isinstance(exc, _RetryableStatus) else None
        if header:
            try:
                seconds = float(header)
            except ValueError:
                try:
                    seconds = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
                except (TypeError, ValueError):
                    seconds = fallback(state)
            if math.isnan(seconds):  # float() accepts "nan", which time.sleep() rejects
                seconds = fallback(state)
            return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
        return fallback(state)

    return wait


@dataclass
class FetchStats:
    """What a run's fetching cost, for its run record and the polling benchmark."""

    requests: int = 0  # requests answered by the network (or a replay), redirects and retries included
    bytes: int = 0  # body bytes downloaded (not served from the cache)
    cache_hits: int = 0  # answered from the HTTP cache without asking the server
    not_modified: int = 0  # the server answered 304: the cached copy is current

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "bytes": self.bytes, "cache_hits": self.cache_hits,
                "not_modified": self.not_modified}


class _CountingTransport(httpx.BaseTransport):
    """Counts what reaches the network (below the cache)."""

    def __init__(self, inner: httpx.BaseTransport, stats: FetchStats):
        self.inner, self.stats = inner, stats

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.stats.requests += 1
        if response.status_code == 304:
            self.stats.not_modified += 1
        return response

    def close(self) -> None:
        self.inner.close()


def same_site(a: str, b: str) -> bool:
    """Two hosts of one site: equal, or sharing their last two labels (lis.virginia.gov and
    legacylis.virginia.gov). A redirect anywhere else is refused."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b or a.split(".")[-2:] == b.split(".")[-2:]


class Fetcher:
    """An httpx client plus the rules every fetch follows. Build one per run; close it after."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 record_dir: Path | None = None, secrets: Callable[[], list[str]] = list):
        # `clock` stamps each download's fetch time, which statuses are judged on: tests pin it.
        self.settings, self.sleep, self.clock = settings, sleep, clock
        self.stats = FetchStats()
        self._robots: dict[str, RobotFileParser | None] = {}
        if transport is None:
            transport = ReplayTransport(settings.replay_dir) if settings.replay_dir else httpx.HTTPTransport()
        if record_dir is not None:
            transport = RecordingTransport(transport, record_dir, secrets, clock)
        transport = _CountingTransport(transport, self.stats)
        transport = RateLimitTransport(transport, settings.http_requests_per_minute, sleep)
        # Requests that carry an API key in the URL skip the cache: hishel would write the key to
        # disk with the stored request. Keyed APIs have no ETags anyway (change hashes do that job).
        self.uncached_client = self._client(transport, settings)
        if settings.http_cache:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            storage = SqliteStorage(database_path=str(settings.data_dir / "http-cache.db"))
            transport = CacheTransport(next_transport=NoStoreRetryableTransport(transport), storage=storage,
                                       rfc=True)
        self.client = self._client(transport, settings)
        self.max_bytes = int(settings.http_max_response_mb * 1024 * 1024)

    @staticmethod
    def _client(transport: httpx.BaseTransport, settings: Settings) -> httpx.Client:
        return httpx.Client(
            transport=transport,
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(settings.http_timeout_seconds),
            follow_redirects=False,  # followed by hand, within the source's own site (_get_once)
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        self.uncached_client.close()

    def _get_once(self, url: str, secret_params: Mapping[str, str] | None) -> tuple[bytes, bool]:
        client, target = self.client, httpx.URL(url)
        if secret_params:  # merged by hand: httpx's params= would replace the URL's own query
            client, target = self.uncached_client, target.copy_merge_params(secret_params)
        origin = target.host
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", target) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    following = target.join(location)
                    if not same_site(origin, following.host):
                        raise FetchError(f"GET {url}: redirected to another site ({public_url(following)}); "
                                         "refused")
                    target = following
                    continue
                return self._body(url, response)
        raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects")

    def _body(self, url: str, response: httpx.Response) -> tuple[bytes, bool]:
        """One response's body: errors raised, the size capped, the cost counted."""
        if response.status_code in RETRY_STATUSES:
            response.read()
            raise _RetryableStatus(response)
        if response.status_code >= 400:
            snippet = response.read()[:200].decode("utf-8", "replace")
            raise FetchError(f"GET {url}: HTTP {response.status_code}: {snippet.strip()}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"GET {url}: response of {int(declared):,} bytes exceeds the "
                             f"{self.max_bytes:,}-byte limit (TRACKER_HTTP_MAX_RESPONSE_MB)")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"GET {url}: response exceeds the {self.max_bytes:,}-byte limit "
                                 "(TRACKER_HTTP_MAX_RESPONSE_MB)")
            chunks.append(chunk)
        caching = response.extensions.get("caching") or {}
        from_cache = bool(caching.get("from_cache"))
        if from_cache and not caching.get("revalidated"):
            self.stats.cache_hits += 1
        if not from_cache:
            self.stats.bytes += size
        return b"".join(chunks), from_cache

    def get_bytes(self, url: str, *, secret_params: Mapping[str, str] | None = None) -> tuple[bytes, bool]:
        """GET `url`. `secret_params` (API keys) are added to the request only: never cached,
        logged, or shown in an error, which all name `url` without them."""
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.http_max_retries + 1),
            wait=_wait(wait_exponential_jitter(multiplier=2, max=120)),
            retry=retry_if_exception(lambda e: isinstance(e, (_RetryableStatus, httpx.TransportError))
                                     and not _no_dns(e)),
            sleep=self.sleep,
            reraise=True,
            before_sleep=lambda s: log.warning("GET %s failed (%s); retry %d", url,
                                               s.outcome.exception(), s.attempt_number),
        )
        try:
            with _secrets_kept_out_of_logs(secret_params):
                return retrying(self._get_once, url, secret_params)
        except FetchError as exc:
            raise FetchError(_redact(str(exc), secret_params)) from None
        except _RetryableStatus as exc:
            raise FetchError(f"GET {url}: HTTP {exc.response.status_code} after "
                             f"{self.settings.http_max_retries + 1} attempts") from None
        except httpx.TimeoutException as exc:
            raise FetchError(f"GET {url}: timed out after {self.settings.http_max_retries + 1} "
                             f"attempts ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            if _no_dns(exc):
                raise FetchError(f"GET {url}: cannot resolve {httpx.URL(url).host}: {OFFLINE_HINT}") from None
            detail = _redact(str(exc), secret_params) or type(exc).__name__
            raise FetchError(f"GET {url}: network error: {detail}") from None

    def robots_allow(self, url: str) -> bool:
        """May a polite client fetch this page? robots.txt is read once per host and run; no robots.txt
        (404) or an unreadable one allows, as the convention says. The decision is logged."""
        target = httpx.URL(url)
        host = f"{target.scheme}://{target.host}"
        if host not in self._robots:
            parser = None
            try:
                body, _ = self.get_bytes(f"{host}/robots.txt")
                parser = RobotFileParser()
                parser.parse(body.decode("utf-8", "replace").splitlines())
            except FetchError as exc:
                log.info("robots.txt of %s not read (%s): allowed", host, exc)
            self._robots[host] = parser
        parser = self._robots[host]
        allowed = parser is None or parser.can_fetch(self.settings.user_agent, url)
        log.info("robots.txt of %s %s %s", host, "allows" if allowed else "disallows", target.path)
        return allowed

    def get_text(self, url: str, decoder: Callable[[bytes], str], *,
                 secret_params: Mapping[str, str] | None = None) -> FetchedText:
        body, from_cache = self.get_bytes(url, secret_params=secret_params)
        return FetchedText(url, decoder(body), self.clock(), from_cache)


class _RedactSecrets(logging.Filter):
    """httpx logs every request URL (INFO), which would carry the key; so do our retry warnings."""

    def __init__(self, secret_params: Mapping[str, str]):
        super().__init__()
        self.secret_params = secret_params

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _redact(message, self.secret_params)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@contextmanager
def _secrets_kept_out_of_logs(secret_params: Mapping[str, str] | None) -> Iterator[None]:
    if not secret_params:
        yield
        return
    redactor = _RedactSecrets(secret_params)
    loggers = [logging.getLogger(name) for name in ("tracker.http", "httpx", "httpcore", "hishel")]
    for logger in loggers:
        logger.addFilter(redactor)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redactor)


def _redact(text: str, secret_params: Mapping[str, str] | None) -> str:
    for value in (secret_params or {}).values():
        if value:
            text = text.replace(value, "***").replace(quote(value, safe=""), "***")
    return text
