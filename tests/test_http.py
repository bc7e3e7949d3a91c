"""tracker.http: User-Agent, retries with Retry-After, RFC 9111 caching, the size cap, the per-host
rate limit and the replay transport. All offline: respx mocks httpx's network transport, and every
test passes a recording fake `sleep`, so nothing ever really waits."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from tests.conftest import SHARED, shared_file
from tracker import __version__
from tracker.http import MAX_RETRY_AFTER_SECONDS, FetchError, Fetcher, FetchedText, ReplayTransport

URL = "https://example.test/data.csv"
OTHER_HOST_URL = "https://other.example.test/data.csv"


def utf8(data: bytes) -> str:
    return data.decode("utf-8")


@pytest.fixture
def router():
    """respx patches httpx's real network transport, so Fetcher(transport=None) is mocked."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the fetcher asks for (retry backoff and rate limit alike), never really slept."""
    return []


@pytest.fixture
def make_fetcher(settings, sleeps):
    """A Fetcher on the test settings. By default the per-host limit is so high that it never waits
    (so `sleeps` holds only retry waits) and the cache is off; tests override either."""
    fetchers: list[Fetcher] = []

    def make(transport: httpx.BaseTransport | None = None, **overrides) -> Fetcher:
        update = {"http_requests_per_minute": 1e9, "http_cache": False, **overrides}
        fetcher = Fetcher(settings.model_copy(update=update), transport=transport, sleep=sleeps.append)
        fetchers.append(fetcher)
        return fetcher

    yield make
    for fetcher in fetchers:
        fetcher.close()


@pytest.fixture(params=[False, True], ids=["uncached", "cached"])
def cache(request) -> bool:
    """Failure handling must be the same whether or not the RFC 9111 cache sits in front."""
    return request.param


# --- User-Agent --------------------------------------------------------------------------------


def test_user_agent_names_product_version_and_contact(router, make_fetcher, settings):
    route = router.get(URL).respond(200, text="ok")
    make_fetcher(contact_email="ops@example.org").get_text(URL, utf8)

    agent = route.calls.last.request.headers["user-agent"]
    assert agent.startswith(f"StatehouseAITracker/{__version__} ")
    assert "ops@example.org" in agent
    assert settings.project_url in agent
    assert "python-httpx" not in agent


def test_default_user_agent_carries_default_contact(router, make_fetcher, settings):
    route = router.get(URL).respond(200, text="ok")
    make_fetcher().get_text(URL, utf8)
    assert route.calls.last.request.headers["user-agent"] == settings.user_agent
    assert settings.contact_email in settings.user_agent


# --- success -----------------------------------------------------------------------------------


def test_get_text_returns_decoded_text_and_metadata(router, make_fetcher, sleeps):
    router.get(URL).respond(200, content="café".encode())
    before = datetime.now(UTC)
    result = make_fetcher().get_text(URL, utf8)

    assert isinstance(result, FetchedText)
    assert result.url == URL
    assert result.text == "café"
    assert result.not_modified is False
    assert before <= result.fetched_at <= datetime.now(UTC)
    assert sleeps == []


def test_redirects_within_the_site_are_followed(router, make_fetcher):  # other.example.test: same site
    router.get(URL).respond(301, headers={"Location": OTHER_HOST_URL})
    final = router.get(OTHER_HOST_URL).respond(200, text="moved here")
    result = make_fetcher().get_text(URL, utf8)
    assert result.text == "moved here"
    assert result.url == URL
    assert final.call_count == 1


# --- retries -----------------------------------------------------------------------------------


def test_500_then_200_succeeds_after_one_retry(router, make_fetcher, sleeps, cache):
    route = router.get(URL).mock(side_effect=[httpx.Response(500, text="boom"),
                                              httpx.Response(200, text="fine")])
    result = make_fetcher(http_cache=cache).get_text(URL, utf8)

    assert result.text == "fine"
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 120  # exponential backoff with jitter, capped


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_every_retryable_status_is_retried(router, make_fetcher, sleeps, status):
    route = router.get(URL).mock(side_effect=[httpx.Response(status), httpx.Response(200, text="ok")])
    assert make_fetcher().get_text(URL, utf8).text == "ok"
    assert route.call_count == 2
    assert len(sleeps) == 1


def test_500_forever_gives_up_after_max_retries(router, make_fetcher, sleeps, cache):
    route = router.get(URL).respond(500, text="still broken")
    fetcher = make_fetcher(http_cache=cache, http_max_retries=3)

    with pytest.raises(FetchError) as caught:
        fetcher.get_text(URL, utf8)

    message = str(caught.value)
    assert URL in message
    assert "500" in message
    assert "4 attempts" in message
    assert route.call_count == 4  # http_max_retries + 1
    assert len(sleeps) == 3  # a wait between attempts, none after the last


def test_zero_retries_means_one_attempt(router, make_fetcher, sleeps):
    route = router.get(URL).respond(503)
    with pytest.raises(FetchError, match="503"):
        make_fetcher(http_max_retries=0).get_text(URL, utf8)
    assert route.call_count == 1
    assert sleeps == []


def test_backoff_without_retry_after_is_capped(router, make_fetcher, sleeps):
    router.get(URL).respond(502)
    with pytest.raises(FetchError):
        make_fetcher(http_max_retries=10).get_text(URL, utf8)
    assert len(sleeps) == 10
    assert all(0 < wait <= 120 for wait in sleeps)
    assert sleeps[-1] > sleeps[0]  # it backs off


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_fail_immediately(router, make_fetcher, sleeps, status, cache):
    route = router.get(URL).respond(status, text="Not here, friend")
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_cache=cache).get_text(URL, utf8)

    message = str(caught.value)
    assert URL in message
    assert f"HTTP {status}" in message
    assert "Not here, friend" in message  # the start of the body helps diagnose it
    assert route.call_count == 1
    assert sleeps == []


def test_error_body_snippet_is_short(router, make_fetcher):
    router.get(URL).respond(404, text="x" * 10_000)
    with pytest.raises(FetchError) as caught:
        make_fetcher().get_text(URL, utf8)
    assert len(str(caught.value)) < 400


# --- Retry-After -------------------------------------------------------------------------------


def test_429_retry_after_seconds_is_the_wait(router, make_fetcher, sleeps, cache):
    route = router.get(URL).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, text="ok"),
    ])
    assert make_fetcher(http_cache=cache).get_text(URL, utf8).text == "ok"
    assert route.call_count == 2
    assert sleeps == [7.0]


def test_503_retry_after_is_honoured_too(router, make_fetcher, sleeps):
    router.get(URL).mock(side_effect=[
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.Response(503, headers={"Retry-After": "0"}),
        httpx.Response(200, text="ok"),
    ])
    make_fetcher().get_text(URL, utf8)
    assert sleeps == [3.0, 0.0]


def test_429_retry_after_http_date(router, make_fetcher, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=30)
    router.get(URL).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        httpx.Response(200, text="ok"),
    ])
    make_fetcher().get_text(URL, utf8)
    assert len(sleeps) == 1
    assert 27 <= sleeps[0] <= 30  # the date has whole seconds; some time passes meanwhile


def test_retry_after_date_in_the_past_means_no_wait(router, make_fetcher, sleeps):
    router.get(URL).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        httpx.Response(200, text="ok"),
    ])
    make_fetcher().get_text(URL, utf8)
    assert sleeps == [0.0]


FAR_FUTURE = format_datetime(datetime(2999, 1, 1, tzinfo=UTC), usegmt=True)


@pytest.mark.parametrize("header", ["86400", "inf", FAR_FUTURE])
def test_retry_after_is_capped(router, make_fetcher, sleeps, header):
    router.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": header}),
                                      httpx.Response(200, text="ok")])
    make_fetcher().get_text(URL, utf8)
    assert sleeps == [MAX_RETRY_AFTER_SECONDS]


@pytest.mark.parametrize("header", ["soon", "", "nan", "-nan"])
def test_unusable_retry_after_falls_back_to_backoff(router, make_fetcher, sleeps, header):
    router.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": header}),
                                      httpx.Response(200, text="ok")])
    assert make_fetcher().get_text(URL, utf8).text == "ok"
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 120


def test_negative_retry_after_means_no_wait(router, make_fetcher, sleeps):
    router.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "-5"}),
                                      httpx.Response(200, text="ok")])
    make_fetcher().get_text(URL, utf8)
    assert sleeps == [0.0]


# --- network failures --------------------------------------------------------------------------


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_timeouts_are_retried_then_reported(router, make_fetcher, sleeps, error, cache):
    route = router.get(URL).mock(side_effect=error)
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_cache=cache, http_max_retries=2).get_text(URL, utf8)

    message = str(caught.value)
    assert URL in message
    assert "timed out" in message
    assert error.__name__ in message
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout_then_success(router, make_fetcher, sleeps):
    route = router.get(URL).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, text="ok")])
    assert make_fetcher().get_text(URL, utf8).text == "ok"
    assert route.call_count == 2
    assert len(sleeps) == 1


def test_a_name_resolution_failure_fails_fast_with_the_offline_hint(router, make_fetcher, sleeps, cache):
    # With no network every host fails to resolve: retrying four times over half a minute helps nobody.
    route = router.get(URL).mock(side_effect=httpx.ConnectError("[Errno -2] Name or service not known"))
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_cache=cache, http_max_retries=3).get_text(URL, utf8)
    message = str(caught.value)
    assert URL in message and "cannot resolve example.test" in message and "--replay" in message
    assert (route.call_count, sleeps) == (1, [])


def test_a_refused_connection_is_retried_as_a_network_error(router, make_fetcher, sleeps, cache):
    route = router.get(URL).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_cache=cache, http_max_retries=1).get_text(URL, utf8)
    assert "network error" in str(caught.value) and "Connection refused" in str(caught.value)
    assert route.call_count == 2 and len(sleeps) == 1


def test_network_error_without_a_message_still_says_what_happened(router, make_fetcher):
    router.get(URL).mock(side_effect=httpx.RemoteProtocolError(""))
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_max_retries=0).get_text(URL, utf8)
    assert "network error" in str(caught.value)
    assert "RemoteProtocolError" in str(caught.value)


def test_the_client_timeout_comes_from_settings(make_fetcher):
    fetcher = make_fetcher(http_timeout_seconds=12.5)
    assert fetcher.client.timeout == httpx.Timeout(12.5)


# --- size cap ----------------------------------------------------------------------------------


def test_declared_content_length_over_the_limit_is_refused(router, make_fetcher, cache):
    route = router.get(URL).respond(200, content=b"x" * 5000)  # httpx sets Content-Length: 5000
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_cache=cache, http_max_response_mb=0.001).get_text(URL, utf8)

    message = str(caught.value)
    assert URL in message
    assert "limit" in message
    assert "1,048-byte" in message  # 0.001 MiB
    assert "5,000 bytes" in message
    assert route.call_count == 1  # not retried


def test_streamed_body_over_the_limit_is_refused_without_reading_it_all(router, make_fetcher, cache):
    pulled = []

    def body():
        for number in range(100):
            pulled.append(number)
            yield b"y" * 600

    def respond(request):
        return httpx.Response(200, content=body())  # a generator: chunked, no Content-Length

    route = router.get(URL).mock(side_effect=respond)
    with pytest.raises(FetchError) as caught:
        make_fetcher(http_cache=cache, http_max_response_mb=0.001).get_text(URL, utf8)

    assert URL in str(caught.value)
    assert "exceeds the 1,048-byte limit" in str(caught.value)
    assert len(pulled) < 10  # it stopped reading soon after the limit
    assert route.call_count == 1


def test_body_at_the_limit_is_accepted(router, make_fetcher):
    router.get(URL).respond(200, content=b"z" * 1048)
    assert make_fetcher(http_max_response_mb=0.001).get_text(URL, utf8).text == "z" * 1048


def test_a_gzip_bomb_is_capped_on_its_decompressed_size_without_inflating_it(router, make_fetcher, cache):
    import traceback
    import zlib

    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)  # 50 MB in about 50 kB
    router.get(URL).respond(200, content=bomb, headers={"Content-Encoding": "gzip"})
    produced = []
    real = zlib.decompressobj

    class Counting:  # how much the client side inflated (the mock server's own decoding is not counted)
        def __init__(self, *args):
            self.inner = real(*args)

        def decompress(self, data, max_length=0):
            out = self.inner.decompress(data, max_length)
            if not any("respx" in frame.filename for frame in traceback.extract_stack()):
                produced.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inner, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zlib, "decompressobj", Counting)
        with pytest.raises(FetchError, match=r"exceeds the 1,048,576-byte limit once decompressed \(gzip\)"):
            make_fetcher(http_cache=cache, http_max_response_mb=1).get_text(URL, utf8)
    assert len(bomb) < 1024 * 1024 and sum(produced) < 2 * 1024 * 1024  # stopped near the cap, not at 50 MB
    assert max(produced) <= 256 * 1024


def test_gzip_and_deflate_bodies_under_the_cap_are_decoded(router, make_fetcher):
    import zlib

    router.get(URL).respond(200, content=gzip.compress(b"a,b\n" * 1000), headers={"Content-Encoding": "gzip"})
    router.get(OTHER_HOST_URL).respond(200, content=zlib.compress(b"c,d\n"), headers={"Content-Encoding": "deflate"})
    fetcher = make_fetcher()
    assert fetcher.get_text(URL, utf8).text == "a,b\n" * 1000
    assert fetcher.get_text(OTHER_HOST_URL, utf8).text == "c,d\n"
    broken = make_fetcher(httpx.MockTransport(lambda r: httpx.Response(
        200, stream=httpx.ByteStream(b"not gzip at all"), headers={"Content-Encoding": "gzip"})))
    with pytest.raises(FetchError, match="damaged gzip body"):
        broken.get_text("https://example.test/broken", utf8)


def test_oversized_response_is_not_left_in_the_cache(router, make_fetcher, settings):
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, content=b"a" * 5000, headers={"Cache-Control": "max-age=3600"}),
        httpx.Response(200, content=b"b" * 10, headers={"Cache-Control": "max-age=3600"}),
    ])
    with pytest.raises(FetchError):
        make_fetcher(http_cache=True, http_max_response_mb=0.001).get_text(URL, utf8)
    # A truncated copy must not be served later: the next fetch goes to the origin again.
    result = make_fetcher(http_cache=True).get_text(URL, utf8)
    assert result.text == "b" * 10
    assert result.not_modified is False
    assert route.call_count == 2


# --- caching -----------------------------------------------------------------------------------


def test_etag_revalidation_serves_cached_text_on_304(router, make_fetcher, settings, sleeps):
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, text="bill list v1", headers={"ETag": '"v1"', "Cache-Control": "no-cache"}),
        httpx.Response(304, headers={"ETag": '"v1"', "Cache-Control": "no-cache"}),
    ])
    fetcher = make_fetcher(http_cache=True)

    first = fetcher.get_text(URL, utf8)
    assert first.text == "bill list v1"
    assert first.not_modified is False
    assert "if-none-match" not in route.calls[0].request.headers

    second = fetcher.get_text(URL, utf8)
    assert route.call_count == 2  # no-cache: always asks the origin
    revalidation = route.calls[1].request
    assert revalidation.headers["if-none-match"] == '"v1"'
    assert revalidation.headers["user-agent"] == settings.user_agent
    assert second.text == "bill list v1"
    assert second.not_modified is True
    assert (settings.data_dir / "http-cache.db").is_file()
    assert sleeps == []


def test_max_age_zero_also_revalidates(router, make_fetcher):
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, text="v1", headers={"ETag": 'W/"abc"', "Cache-Control": "max-age=0"}),
        httpx.Response(304, headers={"ETag": 'W/"abc"'}),
    ])
    fetcher = make_fetcher(http_cache=True)
    assert fetcher.get_text(URL, utf8).not_modified is False
    second = fetcher.get_text(URL, utf8)
    assert route.calls[1].request.headers["if-none-match"] == 'W/"abc"'
    assert (second.text, second.not_modified) == ("v1", True)


def test_last_modified_revalidates_with_if_modified_since(router, make_fetcher):
    stamp = "Tue, 01 Jul 2025 12:00:00 GMT"
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, text="v1", headers={"Last-Modified": stamp, "Cache-Control": "no-cache"}),
        httpx.Response(304),
    ])
    fetcher = make_fetcher(http_cache=True)
    fetcher.get_text(URL, utf8)
    second = fetcher.get_text(URL, utf8)
    assert route.calls[1].request.headers["if-modified-since"] == stamp
    assert (second.text, second.not_modified) == ("v1", True)


def http_date(seconds_ago: float) -> str:
    return format_datetime(datetime.now(UTC) - timedelta(seconds=seconds_ago), usegmt=True)


def test_changed_resource_replaces_the_cached_copy(router, make_fetcher):
    # hishel keeps the old entry beside the new one and revalidates the one with the latest Date,
    # so these carry Date headers, as real servers' responses do.
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, text="v1", headers={"ETag": '"1"', "Cache-Control": "no-cache",
                                                "Date": http_date(60)}),
        httpx.Response(200, text="v2", headers={"ETag": '"2"', "Cache-Control": "no-cache",
                                                "Date": http_date(30)}),
        httpx.Response(304, headers={"ETag": '"2"', "Date": http_date(0)}),
    ])
    fetcher = make_fetcher(http_cache=True)
    assert fetcher.get_text(URL, utf8).text == "v1"

    second = fetcher.get_text(URL, utf8)
    assert route.calls[1].request.headers["if-none-match"] == '"1"'
    assert (second.text, second.not_modified) == ("v2", False)

    third = fetcher.get_text(URL, utf8)
    assert route.calls[2].request.headers["if-none-match"] == '"2"'
    assert (third.text, third.not_modified) == ("v2", True)


def test_fresh_cached_copy_is_served_without_asking_or_waiting(router, make_fetcher, sleeps):
    route = router.get(URL).respond(200, text="fresh", headers={"Cache-Control": "max-age=3600"})
    fetcher = make_fetcher(http_cache=True, http_requests_per_minute=60)

    first = fetcher.get_text(URL, utf8)
    second = fetcher.get_text(URL, utf8)

    assert route.call_count == 1
    assert (first.text, first.not_modified) == ("fresh", False)
    assert (second.text, second.not_modified) == ("fresh", True)
    assert sleeps == []  # cache hits never reach the rate limiter


def test_cache_survives_between_fetchers(router, make_fetcher, settings):
    """One Fetcher per run: the next run must still send If-None-Match from the on-disk cache."""
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, text="from run 1", headers={"ETag": '"r1"', "Cache-Control": "no-cache"}),
        httpx.Response(304, headers={"ETag": '"r1"'}),
    ])
    first_run = make_fetcher(http_cache=True)
    first_run.get_text(URL, utf8)
    first_run.close()

    result = make_fetcher(http_cache=True).get_text(URL, utf8)
    assert route.calls[1].request.headers["if-none-match"] == '"r1"'
    assert (result.text, result.not_modified) == ("from run 1", True)
    with sqlite3.connect(settings.data_dir / "http-cache.db") as connection:
        assert connection.execute("select count(*) from entries").fetchone()[0] == 1


def test_cached_gzip_body_is_decoded_on_the_way_out(router, make_fetcher):
    route = router.get(URL).mock(side_effect=[
        httpx.Response(200, content=gzip.compress(b"compressed text"),
                       headers={"Content-Encoding": "gzip", "ETag": '"g"', "Cache-Control": "no-cache"}),
        httpx.Response(304, headers={"ETag": '"g"'}),
    ])
    fetcher = make_fetcher(http_cache=True)
    assert fetcher.get_text(URL, utf8).text == "compressed text"
    second = fetcher.get_text(URL, utf8)
    assert route.call_count == 2
    assert (second.text, second.not_modified) == ("compressed text", True)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retryable_errors_with_a_lifetime_are_not_cached(router, make_fetcher, sleeps, status):
    """RFC 9111 lets a cache store a 5xx that has max-age; then every retry (which runs outside the
    cache) would get the stored error back without ever reaching the origin."""
    route = router.get(URL).mock(side_effect=[
        httpx.Response(status, text="down", headers={"Cache-Control": "max-age=3600"}),
        httpx.Response(200, text="ok", headers={"ETag": '"e"', "Cache-Control": "no-cache"}),
        httpx.Response(304, headers={"ETag": '"e"'}),
    ])
    result = make_fetcher(http_cache=True).get_text(URL, utf8)
    assert (result.text, result.not_modified) == ("ok", False)
    assert route.call_count == 2  # the retry reached the origin
    assert "if-none-match" not in route.calls[1].request.headers
    assert len(sleeps) == 1

    # The next run revalidates the good copy; the error was never stored.
    later = make_fetcher(http_cache=True).get_text(URL, utf8)
    assert route.calls[2].request.headers["if-none-match"] == '"e"'
    assert (later.text, later.not_modified) == ("ok", True)


def test_cache_off_sends_no_conditional_headers_and_writes_no_db(router, make_fetcher, settings):
    route = router.get(URL).respond(200, text="v1", headers={"ETag": '"v1"', "Cache-Control": "max-age=3600"})
    fetcher = make_fetcher(http_cache=False)
    fetcher.get_text(URL, utf8)
    second = fetcher.get_text(URL, utf8)
    assert route.call_count == 2
    assert "if-none-match" not in route.calls[1].request.headers
    assert second.not_modified is False
    assert not (settings.data_dir / "http-cache.db").exists()


# --- per-host rate limit -----------------------------------------------------------------------


def test_same_host_waits_for_its_slot(router, make_fetcher, sleeps):
    router.get(URL).respond(200, text="a")
    router.get("https://example.test/other.csv").respond(200, text="b")
    fetcher = make_fetcher(http_requests_per_minute=60)

    fetcher.get_text(URL, utf8)
    assert sleeps == []  # the first request never waits
    fetcher.get_text("https://example.test/other.csv", utf8)
    assert len(sleeps) == 1
    assert sleeps[0] == pytest.approx(1.0, abs=0.2)


def test_waits_accumulate_for_a_burst(router, make_fetcher, sleeps):
    router.get(URL).respond(200, text="a")
    fetcher = make_fetcher(http_requests_per_minute=30)  # one every 2 s
    for _ in range(3):
        fetcher.get_text(URL, utf8)
    # The fake sleep doesn't advance the clock, so the third request waits for the third slot.
    assert [round(wait) for wait in sleeps] == [2, 4]


def test_different_hosts_do_not_wait_for_each_other(router, make_fetcher, sleeps):
    router.get(URL).respond(200, text="a")
    router.get(OTHER_HOST_URL).respond(200, text="b")
    router.get("https://third.example.test/x").respond(200, text="c")
    fetcher = make_fetcher(http_requests_per_minute=60)

    fetcher.get_text(URL, utf8)
    fetcher.get_text(OTHER_HOST_URL, utf8)
    fetcher.get_text("https://third.example.test/x", utf8)
    assert sleeps == []


def test_retries_are_rate_limited_too(router, make_fetcher, sleeps):
    router.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "0"}),
                                      httpx.Response(200, text="ok")])
    make_fetcher(http_requests_per_minute=60).get_text(URL, utf8)
    # First the Retry-After wait (0), then the rate limiter's wait for the host's next slot.
    assert len(sleeps) == 2
    assert sleeps[0] == 0.0
    assert sleeps[1] == pytest.approx(1.0, abs=0.2)


# --- replay transport --------------------------------------------------------------------------


@pytest.fixture
def recordings(tmp_path):
    root = tmp_path / "recorded"
    (root / "va").mkdir(parents=True)
    (root / "va" / "plain.txt").write_bytes(b"plain recording")
    (root / "va" / "packed.csv.gz").write_bytes(gzip.compress(b'"Bill_id","Bill_description"\nHB1,"AI"\n'))
    manifest = [
        {"url": "https://replay.test/plain.txt", "file": "va/plain.txt"},
        {"url": "https://replay.test/packed.csv", "file": "va/packed.csv.gz", "content_type": "text/csv"},
        {"url": "https://replay.test/gone.csv", "file": "va/never-recorded.csv"},
    ]
    return ReplayTransport(root, manifest)


def test_replay_serves_a_recorded_file(recordings):
    with httpx.Client(transport=recordings) as client:
        response = client.get("https://replay.test/plain.txt")
    assert response.status_code == 200
    assert response.content == b"plain recording"
    assert response.headers["content-type"] == "application/octet-stream"


def test_replay_decompresses_gz_recordings(recordings):
    with httpx.Client(transport=recordings) as client:
        response = client.get("https://replay.test/packed.csv")
    assert response.status_code == 200
    assert response.text.startswith('"Bill_id","Bill_description"')
    assert response.headers["content-type"] == "text/csv"
    assert "content-encoding" not in response.headers


def test_replay_keys_on_the_whole_request_without_secrets_and_cache_busters(tmp_path):
    (tmp_path / "a.json").write_text('{"op": "a"}')
    (tmp_path / "b.json").write_text('{"op": "b"}')
    transport = ReplayTransport(tmp_path, [
        {"url": "https://api.example/?op=getBill&id=2", "file": "a.json"},
        {"url": "https://api.example/?id=3&op=getBill", "file": "b.json"},
        {"url": "https://replay.test/any", "file": "a.json", "any_query": True}])
    with httpx.Client(transport=transport) as client:
        # Parameter order, the key and a cache-buster do not matter; the other parameters do.
        assert client.get("https://api.example/?key=SECRET&id=2&op=getBill&_=17").json() == {"op": "a"}
        assert client.get("https://api.example/", params={"op": "getBill", "id": "3"}).json() == {"op": "b"}
        assert client.get("https://api.example/?op=getBill&id=4").status_code == 404
        assert client.get("https://replay.test/any?sinceDate=2025-01-01").json() == {"op": "a"}


def test_replay_unknown_url_is_a_404(recordings):
    with httpx.Client(transport=recordings) as client:
        response = client.get("https://replay.test/unknown.csv")
    assert response.status_code == 404
    assert "no recording for https://replay.test/unknown.csv" in response.text


def test_replay_missing_file_is_a_404_naming_it(recordings):
    with httpx.Client(transport=recordings) as client:
        response = client.get("https://replay.test/gone.csv")
    assert response.status_code == 404
    assert "never-recorded.csv" in response.text
    assert "missing" in response.text


def test_fetcher_over_replay_transport(recordings, make_fetcher, sleeps):
    fetcher = make_fetcher(transport=recordings, http_cache=True)
    result = fetcher.get_text("https://replay.test/packed.csv", utf8)
    assert result.text.startswith('"Bill_id","Bill_description"')

    with pytest.raises(FetchError) as caught:
        fetcher.get_text("https://replay.test/unknown.csv", utf8)
    assert "HTTP 404" in str(caught.value)
    assert "no recording for https://replay.test/unknown.csv" in str(caught.value)
    assert sleeps == []  # a 404 is not retried


def test_packaged_manifest_is_the_default():
    transport = ReplayTransport("/nonexistent")  # the packaged manifest, no files needed
    url = "https://legacylis.virginia.gov/SiteInformation/csv/241/Bills.csv"
    assert transport.recordings[f"GET {url}"]["file"] == "fixtures/states/va/legacylis_241_Bills.csv.gz"
    with httpx.Client(transport=transport) as client:
        response = client.get(url)
    assert response.status_code == 404
    assert "missing" in response.text


def test_replay_dir_setting_makes_the_fetcher_replay(settings, sleeps, tmp_path, router):
    """With replay_dir set and no transport given, the packaged manifest is used and nothing
    reaches the (mocked) network, even for URLs it doesn't know."""
    fetcher = Fetcher(settings.model_copy(update={"replay_dir": tmp_path / "empty"}), sleep=sleeps.append)
    try:
        with pytest.raises(FetchError, match="no recording for https://example.test/data.csv"):
            fetcher.get_text(URL, utf8)
    finally:
        fetcher.close()
    assert router.calls.call_count == 0


@pytest.mark.shared
def test_replay_of_the_real_virginia_recording(settings, sleeps):
    shared_file("fixtures/states/va/legacylis_241_Bills.csv.gz")
    fetcher = Fetcher(settings.model_copy(update={"replay_dir": SHARED}), sleep=sleeps.append)
    try:
        result = fetcher.get_text("https://legacylis.virginia.gov/SiteInformation/csv/241/Bills.csv",
                                  lambda data: data.decode("utf-8-sig", "replace"))
    finally:
        fetcher.close()
    assert result.text.startswith('"Bill_id","Bill_description"')
    assert result.text.count("\n") > 100
    assert result.not_modified is False
    assert sleeps == []


def test_secret_params_reach_the_server_but_never_the_cache_or_errors(settings):
    import sqlite3

    import httpx

    from tracker.http import Fetcher, FetchError

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if "fail" in request.url.path:
            return httpx.Response(404, text=f"bad key {request.url.params['key']}")
        return httpx.Response(200, text="ok", headers={"ETag": '"v1"', "Cache-Control": "max-age=600"})

    cached = settings.model_copy(update={"http_cache": True, "http_requests_per_minute": 1e9})
    with Fetcher(cached, transport=httpx.MockTransport(handler), sleep=lambda s: None) as fetcher:
        assert fetcher.get_text("https://api.example.org/bills?limit=5", bytes.decode,
                                secret_params={"key": "s3cr3t"}).text == "ok"
        with pytest.raises(FetchError) as error:
            fetcher.get_bytes("https://api.example.org/fail", secret_params={"key": "s3cr3t"})
    assert seen[0] == "https://api.example.org/bills?limit=5&key=s3cr3t"
    assert "s3cr3t" not in str(error.value) and "***" in str(error.value)
    cache_db = settings.data_dir / "http-cache.db"
    if cache_db.exists():
        with sqlite3.connect(cache_db) as connection:
            dump = "\n".join(connection.iterdump())
        assert "s3cr3t" not in dump


# --- Redirects, robots.txt, recording, what a run cost (issue #11) -----------------------------------

def test_a_redirect_to_another_site_is_refused(router, make_fetcher):
    router.get(URL).mock(return_value=httpx.Response(302, headers={"location": "https://evil.example.org/x"}))
    with pytest.raises(FetchError, match="redirected to another site .*evil.example.org.*refused"):
        make_fetcher().get_text(URL, utf8)


def test_robots_txt_is_read_once_per_host_and_obeyed(router, make_fetcher):
    robots = router.get("https://example.test/robots.txt").mock(
        return_value=httpx.Response(200, text="User-agent: *\nDisallow: /private/\n"))
    fetcher = make_fetcher()
    assert fetcher.robots_allow("https://example.test/public/page.html")
    assert not fetcher.robots_allow("https://example.test/private/page.html")
    assert robots.call_count == 1
    router.get("https://open.test/robots.txt").mock(return_value=httpx.Response(404))
    assert fetcher.robots_allow("https://open.test/anything")  # no robots.txt: allowed


def test_recording_then_replay_serves_the_same_responses_without_secrets(router, settings, tmp_path):
    router.get("https://api.example/").mock(return_value=httpx.Response(
        200, json={"echo": "s3cr3t", "ok": True}, headers={"etag": '"v1"'}))
    recorder = Fetcher(settings.model_copy(update={"http_cache": False}), record_dir=tmp_path / "rec",
                       secrets=lambda: ["s3cr3t"], sleep=lambda s: None)
    with recorder:
        recorder.get_bytes("https://api.example/?op=getBill&id=2", secret_params={"key": "s3cr3t"})
    manifest = (tmp_path / "rec" / "replay_manifest.toml").read_text()
    assert "s3cr3t" not in manifest and 'url = "https://api.example/?id=2&op=getBill"' in manifest
    stored = b"".join(gzip.decompress(p.read_bytes()) for p in (tmp_path / "rec" / "files").iterdir())
    assert b"s3cr3t" not in stored and b"***" in stored
    replayer = Fetcher(settings.model_copy(update={"http_cache": False, "replay_dir": tmp_path / "rec"}),
                       sleep=lambda s: None)
    with replayer:
        body, _ = replayer.get_bytes("https://api.example/?op=getBill&id=2", secret_params={"key": "other"})
    assert b'"ok":true' in body.replace(b" ", b"")


def test_stats_count_requests_bytes_cache_hits_and_304s(settings, tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    replay = [{"url": URL, "file": "data.csv", "etag": '"e1"', "content_type": "text/csv"}]
    fetcher = Fetcher(settings.model_copy(update={"http_cache": True, "http_requests_per_minute": 1e9}),
                      transport=ReplayTransport(tmp_path, replay), sleep=lambda s: None)
    with fetcher:
        fetcher.get_bytes(URL)  # downloaded
        _, from_cache = fetcher.get_bytes(URL)  # revalidated: the server says 304
    assert from_cache
    assert fetcher.stats.as_dict() == {"requests": 2, "bytes": 8, "cache_hits": 0, "not_modified": 1}
