"""The one way this project talks HTTP: honest User-Agent, per-host rate limit, retries with
backoff (honouring Retry-After), RFC 9111 caching with conditional requests, a size cap, redirects
kept to the source's own site, robots.txt for HTML pages, counts of what each run cost, and replay
and recording of whole requests so the whole pipeline runs offline.

Secrets live here, and only here. An API key is never part of a URL we build: it goes in
`secret_params` (or a header, `Fetcher.keyed`) of the one request that needs it. Every key the
settings hold, and every value passed as a secret, is registered (`register_secret`), and one
function, `redact`, removes registered values and any `key=` / `api_key=` / `token=` query value
from text. It is applied to every error this module raises, to every log record of the process
(one record factory, installed once), to run records (tracker.runs), and to recordings (bodies,
manifest URLs and file names, which hash the request without its secrets). SECRET_PARAMS names
the query parameters that are always secrets; they are also dropped from replay keys."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import re
import threading
import zlib
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
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


# --- Secrets: one registry, one redact function, one log filter -----------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_SECRET_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
                             + r")=(?!\*\*\*)[^&\s\"'<>]+", re.IGNORECASE)
REDACTED = "***"


MIN_SECRET_LENGTH = 8  # real API keys are 32-40 characters; a short test value would garble ordinary words


def register_secret(*values: str | None) -> None:
    """Values that must never be written anywhere (API keys). Registered values stay for the process.
    Values shorter than MIN_SECRET_LENGTH are not registered (the `key=` pattern still hides them in URLs)."""
    with _SECRETS_LOCK:
        _SECRETS.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)


def forget_secrets() -> None:
    """Empty the registry (tests: one test's key must not redact another test's text)."""
    with _SECRETS_LOCK:
        _SECRETS.clear()


def register_settings_secrets(settings: Settings) -> None:
    """Every secret setting (SecretStr: the API keys), registered."""
    from pydantic import SecretStr

    register_secret(*(getattr(settings, name).get_secret_value() for name in type(settings).model_fields
                      if isinstance(getattr(settings, name, None), SecretStr)))


def known_secrets() -> list[str]:
    with _SECRETS_LOCK:
        return sorted(_SECRETS, key=len, reverse=True)  # longest first: a key containing another


def redact(text: str | None, extra: Iterable[str | None] = ()) -> str | None:
    """`text` fit to show, log or store: every registered secret (and `extra`), raw or URL-quoted,
    and every secret query parameter's value (`key=...`, `api_key=...`) replaced by ***."""
    if not text:
        return text
    for value in [*(v for v in extra if v), *known_secrets()]:
        text = text.replace(value, REDACTED)
        quoted = quote(value, safe="")
        if quoted != value:
            text = text.replace(quoted, REDACTED)
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def redact_bytes(body: bytes, extra: Iterable[str | None] = ()) -> bytes:
    """A response body with every registered secret (and `extra`) removed (for recordings: an API may
    echo the key)."""
    for value in [*(v for v in extra if v), *known_secrets()]:
        for form in {value, quote(value, safe="")}:
            body = body.replace(form.encode(), REDACTED.encode())
    return body


_factory_installed = False


def _install_log_redaction() -> None:
    """One record factory for the whole process: every log record, whichever logger made it (httpx
    logs each request URL; tenacity and our retries quote errors), is redacted before any handler
    sees it."""
    global _factory_installed
    with _SECRETS_LOCK:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's business, not ours
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record

    logging.setLogRecordFactory(factory)


_install_log_redaction()


class FetchError(RuntimeError):
    """A URL could not be fetched; the message says which and why."""


class OfflineError(FetchError):
    """The host name cannot be resolved: the machine is offline (or the host is gone). Never retried;
    a source that meets it stops at once with this one message, which says how to run offline."""


def offline_message(host: str) -> str:
    return f"cannot resolve {host}: {OFFLINE_HINT}"


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
        register_secret(*self.secrets())
        body = redact_bytes(body, self.secrets())
        key = redact(request_key(request.method, request.url))
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
        # Merged with what is on disk now: a keyed API's own Fetcher (Fetcher.keyed) records into the
        # same folder and may have closed first.
        entries = {request_key(e.get("method", "GET"), e["url"]): e for e in load_recorded(self.folder)}
        entries.update(self.entries)
        write_manifest(self.folder, list(entries.values()))


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


_DECOMPRESSORS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_INFLATE_STEP = 256 * 1024


def _decoded(response: httpx.Response, limit: int) -> Iterator[bytes]:
    """The body, decompressed (Content-Encoding gzip or deflate) in bounded steps: a gzip bomb is
    stopped after `limit` inflated bytes, never inflated whole in memory (httpx's own decoder inflates
    each received chunk at once, a thousand-fold). Other encodings are httpx's (we ask for gzip and
    deflate only)."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in _DECOMPRESSORS:
        yield from response.iter_bytes()
        return
    inflater = zlib.decompressobj(_DECOMPRESSORS[encoding])
    produced = 0
    try:
        for raw in response.iter_raw():
            data = raw
            while data:
                out = inflater.decompress(data, _INFLATE_STEP)
                produced += len(out)
                yield out
                if produced > limit:
                    return
                data = inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error as exc:
        raise FetchError(f"GET {public_url(response.request.url)}: damaged {encoding} body ({exc})") from None


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
                 record_dir: Path | None = None, secrets: Callable[[], list[str]] = list,
                 stats: FetchStats | None = None):
        # `clock` stamps each download's fetch time, which statuses are judged on: tests pin it.
        self.settings, self.sleep, self.clock = settings, sleep, clock
        self.stats = stats if stats is not None else FetchStats()
        self.record_dir, self._secrets, self._transport_arg = record_dir, secrets, transport
        register_settings_secrets(settings)
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
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},  # see _decoded
            timeout=httpx.Timeout(settings.http_timeout_seconds),
            follow_redirects=False,  # followed by hand, within the source's own site (_get_once)
        )

    @property
    def replaying(self) -> bool:
        """Served from recordings (--replay), not the network."""
        return isinstance(self._transport_arg, ReplayTransport) or (
            self._transport_arg is None and bool(self.settings.replay_dir))

    def keyed(self, *, requests_per_minute: float | None = None, secret_headers: Mapping[str, str] | None = None,
              transport: httpx.BaseTransport | None = None) -> Fetcher:
        """A Fetcher for a keyed API, built from this one: the same transport (network, replay or a test's),
        recording folder, clock, User-Agent, retries, size cap and run counts, but no HTTP cache (it would
        keep the key with the URL or header) and its own per-host rate. `secret_headers` (a key sent as a
        header) are registered as secrets. Close it after use."""
        update: dict = {"http_cache": False}
        if requests_per_minute:
            update["http_requests_per_minute"] = requests_per_minute
        other = Fetcher(self.settings.model_copy(update=update), transport=transport or self._transport_arg,
                        sleep=self.sleep, clock=self.clock, record_dir=self.record_dir, secrets=self._secrets,
                        stats=self.stats)
        if secret_headers:
            register_secret(*secret_headers.values())
            for client in (other.client, other.uncached_client):
                client.headers.update(secret_headers)
        return other

    def record(self, url: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        """Save a body fetched without httpx (FTP) into the recording folder, as RecordingTransport does."""
        if self.record_dir is None:
            return
        request = httpx.Request("GET", url)
        recorder = RecordingTransport(httpx.MockTransport(
            lambda r: httpx.Response(200, content=body, headers={"content-type": content_type})),
            self.record_dir, self._secrets, self.clock)
        recorder.handle_request(request)
        recorder.close()

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
        for chunk in _decoded(response, self.max_bytes + 1):
            size += len(chunk)
            if size > self.max_bytes:
                encoded = response.headers.get("content-encoding")
                raise FetchError(f"GET {url}: response exceeds the {self.max_bytes:,}-byte limit"
                                 + (f" once decompressed ({encoded})" if encoded else "")
                                 + " (TRACKER_HTTP_MAX_RESPONSE_MB)")
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
        register_secret(*(secret_params or {}).values())
        try:
            return retrying(self._get_once, url, secret_params)
        except FetchError as exc:
            raise FetchError(redact(str(exc), (secret_params or {}).values())) from None
        except _RetryableStatus as exc:
            raise FetchError(f"GET {url}: HTTP {exc.response.status_code} after "
                             f"{self.settings.http_max_retries + 1} attempts") from None
        except httpx.TimeoutException as exc:
            raise FetchError(f"GET {url}: timed out after {self.settings.http_max_retries + 1} "
                             f"attempts ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            if _no_dns(exc):
                shown = httpx.URL(url).copy_with(query=None)
                raise OfflineError(f"GET {shown}: {offline_message(shown.host)}") from None
            detail = redact(str(exc), (secret_params or {}).values()) or type(exc).__name__
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
            except OfflineError:
                raise  # offline: the page itself cannot be fetched either; say so once
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
