"""Subscriptions (#13): the CLI, validation (no header injection), opaque tokens, filters judged on the bill
as it is now, windows in the subscriber's own time zone."""

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.test_exports import make_bill
from tracker import db as database
from tracker.cli import app
from tracker.deliver.subscriptions import (SubscriptionError, add_subscriber, current_window, event_heads,
                                           find_subscriber, matches, unsubscribe)
from tracker.models import StatusChange, Subscriber

runner = CliRunner()


def test_cli_add_list_pause_remove(settings):
    result = runner.invoke(app, ["subscribe", "add", "Policy@Example.org", "--states", "va,co", "--relevance",
                                 "core", "--statuses", "enacted", "--statuses", "vetoed", "--frequency", "weekly",
                                 "--timezone", "America/New_York", "--federal"])
    assert result.exit_code == 0, result.output
    assert "added #1 Policy@Example.org (weekly, America/New_York): states va,co; statuses enacted,vetoed; " \
           "relevance core; federal" in result.output
    again = runner.invoke(app, ["subscribe", "add", "policy@example.org", "--bills", "va-2024-SB487"])
    assert "updated #1" in again.output and "bills va-2024-SB487" in again.output
    listed = runner.invoke(app, ["subscribe", "list"])
    assert "#1\tpolicy@example.org\tdaily\tUTC\tactive\tlast sent never\tbills va-2024-SB487" in listed.output
    assert runner.invoke(app, ["subscribe", "pause", "1"]).exit_code == 0
    assert "\tpaused\t" in runner.invoke(app, ["subscribe", "list"]).output
    assert runner.invoke(app, ["subscribe", "pause", "policy@example.org", "--resume"]).exit_code == 0
    assert "\tactive\t" in runner.invoke(app, ["subscribe", "list"]).output
    assert runner.invoke(app, ["subscribe", "remove", "policy@example.org"]).exit_code == 0
    assert runner.invoke(app, ["subscribe", "remove", "policy@example.org"]).exit_code == 1
    assert "no subscribers" in runner.invoke(app, ["subscribe", "list"]).output


@pytest.mark.parametrize("args, message", [
    (["a@b.org\r\nBcc: victim@example.org"], "not an email"),
    (["not-an-address"], "not an email"),
    (["a@b.org", "--timezone", "Mars/Olympus"], "time zone"),
    (["a@b.org", "--statuses", "signed"], "unknown status"),
    (["a@b.org", "--relevance", "maybe"], "unknown relevance"),
    (["a@b.org", "--states", "virginia"], "two letters"),
    (["a@b.org", "--frequency", "hourly"], "daily or weekly"),
])
def test_bad_subscriptions_are_refused(settings, args, message):
    result = runner.invoke(app, ["subscribe", "add", *args])
    assert result.exit_code == 2 and message in result.output


def test_token_is_opaque_and_unsubscribe_pauses(sqlite_url):
    engine = database.get_engine(sqlite_url)
    with database.session_scope(engine) as db:
        first, _ = add_subscriber(db, email="one@example.org")
        second, _ = add_subscriber(db, email="two@example.org")
        assert first.token != second.token and len(first.token) >= 32 and "one" not in first.token
        token = first.token
        add_subscriber(db, email="one@example.org", states=["va"])  # an update keeps the token
        assert find_subscriber(db, "ONE@example.org").token == token
    with database.session_scope(engine) as db:
        assert unsubscribe(db, token) and not unsubscribe(db, "") and not unsubscribe(db, "guess")
        assert find_subscriber(db, "one@example.org").paused and not find_subscriber(db, "two@example.org").paused


def test_a_new_subscriber_starts_after_the_stored_events(sqlite_url):
    engine = database.get_engine(sqlite_url)
    with database.session_scope(engine) as db:
        bill = make_bill(db)
        db.add(StatusChange(bill_id=bill.id, new_status="introduced", new_label="introduced"))
        db.flush()
        subscriber, _ = add_subscriber(db, email="late@example.org")
        assert subscriber.cursor == event_heads(db) and subscriber.cursor["status_change"] >= 1


def test_matches_uses_the_bill_as_it_is_now(sqlite_url):
    engine = database.get_engine(sqlite_url)
    with database.session_scope(engine) as db:
        bill = make_bill(db, relevance="not_ai", topics=())
        watcher = Subscriber(email="w@example.org", token="t1", relevance=["core"], topics=["hiring"],
                             states=["va"])
        follower = Subscriber(email="f@example.org", token="t2", bills=[bill.key])
        status_watcher = Subscriber(email="s@example.org", token="t3", statuses=["enacted"])
        assert not matches(watcher, bill) and matches(follower, bill)
        bill.ai_relevance, bill.topics = "core", ["hiring", "high-risk"]  # reclassified: matches from now on
        assert matches(watcher, bill)
        assert matches(status_watcher, bill, status="enacted") and not matches(status_watcher, bill)
        other = make_bill(db, "HB 9")
        assert not matches(follower, other)  # following named bills only
        assert matches(Subscriber(email="all@example.org", token="t4"), other)  # no filters: everything


@pytest.mark.parametrize("frequency, tz, now, window", [
    ("daily", "UTC", "2026-12-02T07:00:00+00:00", "daily:2026-12-02"),
    ("daily", "UTC", "2026-12-02T06:59:00+00:00", "daily:2026-12-01"),
    ("daily", "America/Los_Angeles", "2026-12-02T10:00:00+00:00", "daily:2026-12-01"),  # 02:00 there
    ("daily", "Pacific/Auckland", "2026-12-02T20:00:00+00:00", "daily:2026-12-03"),  # 09:00 the next day
    ("weekly", "UTC", "2026-12-07T07:30:00+00:00", "weekly:2026-W50"),  # Monday
    ("weekly", "UTC", "2026-12-07T06:00:00+00:00", "weekly:2026-W49"),
    ("weekly", "America/New_York", "2026-12-13T23:00:00+00:00", "weekly:2026-W50"),
])
def test_windows_follow_the_subscriber_time_zone(frequency, tz, now, window):
    subscriber = Subscriber(email="x@example.org", token="t", frequency=frequency, timezone=tz)
    assert current_window(subscriber, datetime.fromisoformat(now).astimezone(UTC)) == window


def test_bad_values_raise_subscription_error(sqlite_url):
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        with pytest.raises(SubscriptionError):
            add_subscriber(db, email="x@example.org", frequency="monthly")


def test_relevance_defaults_to_core_unless_following_named_bills(sqlite_url):
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        assert add_subscriber(db, email="a@example.org")[0].relevance == ["core"]  # DOMAIN.md §3: others opt in
        assert add_subscriber(db, email="b@example.org", relevance=["any"])[0].relevance == []
        assert add_subscriber(db, email="c@example.org", bills=["va-2024-SB487"])[0].relevance == []
        assert add_subscriber(db, email="d@example.org", relevance=["core,adjacent"])[0].relevance == ["core",
                                                                                                      "adjacent"]


def test_the_one_click_unsubscribe_endpoint(sqlite_url):
    """RFC 8058 against a real server on 127.0.0.1: POST pauses, GET only shows a button, unknown is 404."""
    import threading

    import httpx

    from tracker.deliver.unsubscribe import make_unsubscribe_server

    engine = database.get_engine(sqlite_url)
    with database.session_scope(engine) as db:
        token = add_subscriber(db, email="one@example.org")[0].token
    server = make_unsubscribe_server(engine, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/unsubscribe"
    try:
        page = httpx.get(base, params={"token": token})
        assert page.status_code == 200 and 'method="post"' in page.text
        with database.session_scope(engine) as db:
            assert not find_subscriber(db, "one@example.org").paused  # a link scanner's GET changes nothing
        hostile = httpx.get(base, params={"token": '"><script>alert(1)</script>'})
        assert hostile.status_code == 200 and "<script>" not in hostile.text  # escaped into the form
        done = httpx.post(base, params={"token": token}, content="List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200 and "no more digests" in done.text
        with database.session_scope(engine) as db:
            assert find_subscriber(db, "one@example.org").paused
        assert httpx.post(base, params={"token": "no-such-token"}).status_code == 404
        assert httpx.get(base).status_code == 404 and httpx.get(base.replace("unsubscribe", "x")).status_code == 404
    finally:
        server.shutdown()
        server.server_close()
