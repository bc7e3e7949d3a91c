"""The one way this project talks HTTP: honest User-Agent, per-host rate limit, retries with
backoff (honouring Retry-After), RFC 9111 caching with conditional requests, a size cap, and a
replay transport that serves recorded responses by URL so the whole pipeline runs offline."""

from __future__ import annotations

import gzip
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
from urllib.parse import quote
from pathlib import Path

import httpx
from hishel import SqliteStorage
from hishel.httpx import CacheTransport
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from tracker.config import Settings

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 600.0


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


class ReplayTransport(httpx.BaseTransport):
    """Serves recorded files by URL, per `tracker/replay_manifest.toml`; unknown URLs get a 404."""

    def __init__(self, root: Path, manifest: dict[str, dict] | None = None):
        self.root = Path(root)
        if manifest is None:
            text = (resources.files("tracker") / "replay_manifest.toml").read_text(encoding="utf-8")
            manifest = tomllib.loads(text)["recording"]
        self.recordings = {entry["url"]: entry for entry in manifest}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        entry = self.recordings.get(url)
        if entry is None:
            return httpx.Response(404, text=f"no recording for {url}", request=request)
        path = self.root / entry["file"]
        if not path.exists():
            return httpx.Response(404, text=f"recording {path} is missing", request=request)
        body = path.read_bytes()
        if path.suffix == ".gz":
            body = gzip.decompress(body)
        headers = {"content-type": entry.get("content_type", "application/octet-stream")}
        return httpx.Response(200, content=body, headers=headers, request=request)


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


class Fetcher:
    """An httpx client plus the rules every fetch follows. Build one per run; close it after."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        # `clock` stamps each download's fetch time, which statuses are judged on: tests pin it.
        self.settings, self.sleep, self.clock = settings, sleep, clock
        if transport is None:
            transport = ReplayTransport(settings.replay_dir) if settings.replay_dir else httpx.HTTPTransport()
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
            follow_redirects=True,
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
        with client.stream("GET", target) as response:
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
            return b"".join(chunks), bool(caching.get("from_cache"))

    def get_bytes(self, url: str, *, secret_params: Mapping[str, str] | None = None) -> tuple[bytes, bool]:
        """GET `url`. `secret_params` (API keys) are added to the request only: never cached,
        logged, or shown in an error, which all name `url` without them."""
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.http_max_retries + 1),
            wait=_wait(wait_exponential_jitter(multiplier=2, max=120)),
            retry=retry_if_exception(lambda e: isinstance(e, (_RetryableStatus, httpx.TransportError))),
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
            detail = _redact(str(exc), secret_params) or type(exc).__name__
            raise FetchError(f"GET {url}: network error: {detail}") from None

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
