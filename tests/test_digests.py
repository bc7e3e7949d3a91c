"""Email digests (#13) against a real SMTP server on 127.0.0.1 (aiosmtpd, started here): content, headers,
the CSV attachment, escaping, caps, "no changes", exactly-once across a crash between acceptance and the
cursor update, a refusing server, a server that is down, a filter matching nothing, a real ingest."""

import csv
import email
import email.policy
import io
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import shared_file
from tests.test_exports import make_bill
from tracker import db as database
from tracker.cli import app
from tracker.deliver import digests
from tracker.deliver.digests import message_id, send_due
from tracker.deliver.subscriptions import add_subscriber, event_heads
from tracker.models import (BillEvent, DigestOutbox, FederalInstrument, InstrumentChange, LawEvent, ScrapeRun,
                            StatusChange, Subscriber)

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)  # pinned "today": never the wall clock
runner = CliRunner()


class Recorder:
    def __init__(self):
        self.received = []
        self.reply = "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.received.append(envelope)
        return self.reply

    def messages(self):
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.received]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture
def engine(sqlite_url):
    return database.get_engine(sqlite_url)


def smtp_settings(port: int, **extra):
    from tracker.config import Settings

    values = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
              "digest_from": "Statehouse AI Tracker <digests@example.org>",
              "dashboard_url": "https://tracker.example.org", **extra}
    return Settings(_env_file=None, **values)


def subscribe(engine, email_address="staff@example.org", **filters) -> Subscriber:
    with database.session_scope(engine) as db:
        return add_subscriber(db, email=email_address, **filters)[0]


def change(db, bill, new, *, on, fingerprint=None, cause="Passed Senate", first=False, old="in_committee"):
    row = StatusChange(bill_id=bill.id, old_status=old, new_status=new, old_label=old, new_label=new,
                       action_date=on, cause=cause, basis="state", source_id="va-lis",
                       source_url=bill.source_url + "/history", fetched_at=NOW - timedelta(hours=3),
                       fingerprint=fingerprint or f"{bill.key}:{new}:{on}", first_sighting=first,
                       detected_at=NOW - timedelta(hours=2))
    db.add(row)
    db.flush()
    return row


def fill(engine):
    """One of each event kind, plus what must never be reported."""
    with database.session_scope(engine) as db:
        sb1 = make_bill(db, "SB 1", status="passed_origin")
        sb2 = make_bill(db, "SB 2", title="<script>alert(1)</script> \x1b[31mred\x1b[0m \u202eAI deepfakes")
        sb3 = make_bill(db, "SB 3")
        co = make_bill(db, "SB 4", state="co", session="2026A")
        change(db, sb1, "passed_origin", on=date(2026, 11, 30), fingerprint="fp-a")
        change(db, sb2, "passed_committee", on=date(2026, 12, 1), cause="Reported <b>favorably</b>")
        change(db, sb3, "passed_origin", on=date(2026, 12, 20), cause="Scheduled for third reading")  # future
        change(db, sb1, "passed_origin", on=date(2026, 11, 30), fingerprint="fp-a")  # the same change again
        db.add(BillEvent(bill_id=co.id, kind="relevance", old_value=None, new_value="core",
                         reason="a new AI bill: matched artificial intelligence", fingerprint="rel-co"))
        db.add(BillEvent(bill_id=co.id, kind="conflict", old_value=None, new_value="targets eo:14179",
                         reason="new conflict: named by the order", fingerprint="conf-co",
                         source_url="javascript:alert(1)"))
        db.add(BillEvent(bill_id=sb1.id, kind="lifecycle", new_value="proposed:delayed", reason="waiting",
                         fingerprint="prop"))
        db.add(BillEvent(bill_id=sb1.id, kind="lifecycle", old_value="pending_effective", new_value="delayed",
                         reason="law delayed by va-2026-HB5 until 2027-07-01 (2026-11-01, confidence H)",
                         fingerprint="life-sb1", source_url="https://lis.example.gov/va/HB5"))
        db.add(LawEvent(event_key="sb1:repealed", bill_id=sb1.id, event="repealed", confidence="L",
                        origin="detected", review_status="proposed"))
        instrument = FederalInstrument(key="eo:14179", kind="executive_order", title="Removing Barriers",
                                       confidence="H", source_id="seed", source_url="https://www.federalregister.gov/x")
        db.add(instrument)
        db.flush()
        db.add(InstrumentChange(instrument_id=instrument.id, change="insert", new_status="signed"))


def attachment_rows(message):
    part = next(p for p in message.iter_attachments() if p.get_filename().endswith(".csv"))
    return list(csv.DictReader(io.StringIO(part.get_content().lstrip("\ufeff"))))


def test_digest_content_headers_and_attachment(engine, smtp):
    subscriber = subscribe(engine, federal=True)
    fill(engine)
    settings = smtp_settings(smtp.port)
    report = send_due(engine, settings, now=NOW)
    assert (report.sent, report.failed) == (1, 0)
    [message] = smtp.messages()
    assert message["Subject"] == ("AI legislation daily digest 2026-12-02: 2 status changes, 1 new or reclassified "
                                  "bill, 1 conflict, 1 law lifecycle event, 1 federal change")
    assert message["To"] == "staff@example.org" and message["From"] == "Statehouse AI Tracker <digests@example.org>"
    assert message["Message-ID"] == message_id(subscriber, "daily:2026-12-02", settings)
    assert message["List-Id"] == "Statehouse AI Tracker digests <digests.example.org>"
    assert message["List-Unsubscribe"].startswith(
        f"<https://tracker.example.org/unsubscribe?token={subscriber.token}>, <mailto:digests@example.org?")
    assert "staff" not in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "\x1b" not in part and "\u202e" not in part
        assert "va-2024-SB3" not in part  # a future-dated action is never a change
        assert "repealed" not in part and "proposed" not in part  # unconfirmed lifecycle proposals
        assert "javascript:" not in part
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; red AI deepfakes" in html
    assert "[31m" not in text and "<script>alert(1)</script> red AI deepfakes" in text
    assert "Reported &lt;b&gt;favorably&lt;/b&gt;" in html
    assert '<a href="https://tracker.example.org/bills?bill=va-2024-SB1">' in html
    assert "== Status changes (2) ==" in text and "\nVA\n" in text and "\nCO\n" in text
    assert "- SB 1 (va-2024-SB1): Artificial intelligence; high-risk\n  in_committee -> passed_origin on 2026-11-30" \
        in text
    assert "Source: https://lis.example.gov/va/SB1/history" in text
    assert "pending_effective -> delayed" in text and "law delayed by va-2026-HB5 until 2027-07-01" in text
    rows = attachment_rows(message)
    assert [(r["section"], r["bill_key"]) for r in rows] == [
        ("status", "va-2024-SB1"), ("status", "va-2024-SB2"), ("new", "co-2026A-SB4"), ("conflicts", "co-2026A-SB4"),
        ("lifecycle", "va-2024-SB1"), ("federal", "eo:14179")]
    assert rows[1]["title"].startswith("<script>")  # the CSV carries the text, minus control characters
    with database.session_scope(engine) as db:
        stored = db.get(Subscriber, subscriber.id)
        assert stored.cursor == event_heads(db) and stored.last_sent_at is not None
        outbox = db.execute(select(DigestOutbox)).scalar_one()
        assert (outbox.status, outbox.items, outbox.attempts) == ("sent", 6, 1)
        run = db.execute(select(ScrapeRun).where(ScrapeRun.kind == "digest")).scalar_one()
        assert run.status == "ok" and run.inserted == 1
    # The same window again: nothing new is sent.
    assert send_due(engine, settings, now=NOW + timedelta(hours=5)).skipped == 1
    assert len(smtp.received) == 1


def test_digest_on_sqlite_and_postgresql(db_url, smtp):
    engine = database.get_engine(db_url)
    subscribe(engine, federal=True)
    fill(engine)
    settings = smtp_settings(smtp.port)
    assert send_due(engine, settings, now=NOW).sent == 1
    assert send_due(engine, settings, now=NOW).skipped == 1
    [message] = smtp.messages()
    assert len(attachment_rows(message)) == 6 and message["Subject"].endswith("1 federal change")


def test_no_changes_digest_and_a_filter_matching_nothing(engine, smtp):
    subscribe(engine, "nobody@example.org", states=["zz"])
    fill(engine)
    send_due(engine, smtp_settings(smtp.port), now=NOW)
    [message] = smtp.messages()
    assert message["Subject"] == "AI legislation daily digest 2026-12-02: no changes"
    assert "No changes matched your subscription" in message.get_body(("plain",)).get_content()
    assert attachment_rows(message) == []


def test_long_sections_are_capped_with_a_link(engine, smtp):
    subscribe(engine)
    with database.session_scope(engine) as db:
        for n in range(13):
            change(db, make_bill(db, f"HB {n}"), "passed_committee", on=date(2026, 12, 1))
    send_due(engine, smtp_settings(smtp.port), now=NOW)
    [message] = smtp.messages()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.count("\n- HB ") == 10 and "... and 3 more: https://tracker.example.org/changes?state=va" in text
    assert "and 3 more</a>" in message.get_body(("html",)).get_content()
    assert len(attachment_rows(message)) == 13  # the attachment has every row


def test_filters_use_the_bill_at_send_time(engine, smtp):
    subscribe(engine, relevance=["core"], states=["va"])
    subscribe(engine, "follower@example.org", bills=["va-2024-HB7"])
    settings = smtp_settings(smtp.port)
    with database.session_scope(engine) as db:
        bill = make_bill(db, "HB 7", relevance="not_ai", topics=())
        change(db, bill, "passed_committee", on=date(2026, 12, 1))
    send_due(engine, settings, now=NOW)
    by_to = {m["To"]: m for m in smtp.messages()}
    assert by_to["staff@example.org"]["Subject"].endswith("no changes")
    assert "1 status change" in by_to["follower@example.org"]["Subject"]  # followed by key: every change
    with database.session_scope(engine) as db:  # reclassified as AI: reported from then on
        bill = db.execute(select(digests.Bill).where(digests.Bill.key == "va-2024-HB7")).scalar_one()
        bill.ai_relevance = "core"
        db.add(BillEvent(bill_id=bill.id, kind="relevance", old_value="not_ai", new_value="core",
                         reason="now an AI bill", fingerprint="hb7-core"))
    smtp.received.clear()
    send_due(engine, settings, now=NOW + timedelta(days=1))
    by_to = {m["To"]: m for m in smtp.messages()}
    assert by_to["staff@example.org"]["Subject"].endswith("1 new or reclassified bill")


def _events(message) -> set[str]:
    return {row["event"] for row in attachment_rows(message)}


def test_a_crash_after_acceptance_resends_the_same_digest_and_skips_nothing(engine, smtp, monkeypatch):
    subscriber = subscribe(engine, federal=True)
    fill(engine)
    settings = smtp_settings(smtp.port)
    real, calls = digests._mark_sent, []

    def crash_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("killed between the server's 250 and the cursor update")
        return real(*args, **kwargs)

    monkeypatch.setattr(digests, "_mark_sent", crash_once)
    with pytest.raises(RuntimeError):
        send_due(engine, settings, now=NOW)
    with database.session_scope(engine) as db:
        assert db.get(Subscriber, subscriber.id).cursor == {name: 0 for name in event_heads(db)}
    report = send_due(engine, settings, now=NOW + timedelta(minutes=30))
    assert (report.sent, report.retried) == (1, 1)
    first, second = smtp.received
    assert first.content == second.content  # the same bytes, the same Message-ID: clients fold them
    with database.session_scope(engine) as db:
        bill = make_bill(db, "HB 99")
        change(db, bill, "passed_committee", on=date(2026, 12, 2))
    send_due(engine, settings, now=NOW + timedelta(days=1))
    messages = smtp.messages()
    assert len(messages) == 3 and len({m["Message-ID"] for m in messages}) == 2
    earlier, later = _events(messages[0]), _events(messages[2])
    assert len(earlier) == 6 and not earlier & later and len(later) == 1
    assert "va-2024-HB99" in messages[2].get_body(("plain",)).get_content()


def test_a_refusing_server_is_recorded_and_retried(engine, smtp):
    subscriber = subscribe(engine)
    fill(engine)
    settings = smtp_settings(smtp.port)
    smtp.reply = "554 5.7.1 Message refused"
    report = send_due(engine, settings, now=NOW)
    assert (report.sent, report.failed) == (0, 1) and "554" in report.errors[0]
    with database.session_scope(engine) as db:
        row = db.execute(select(DigestOutbox)).scalar_one()
        assert row.status == "failed" and "554" in row.last_error and row.attempts == 1
        assert db.get(Subscriber, subscriber.id).cursor["status_change"] == 0
        run = db.execute(select(ScrapeRun).where(ScrapeRun.kind == "digest")).scalar_one()
        assert run.status == "failed" and "554" in run.message
    assert digests.failures(engine)[0][:3] == ("staff@example.org", "daily:2026-12-02", 1)
    smtp.reply = "250 OK"
    report = send_due(engine, settings, now=NOW + timedelta(hours=1))
    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    [message] = smtp.messages()
    assert message["Message-ID"] == row.message_id
    with database.session_scope(engine) as db:
        assert len(db.execute(select(DigestOutbox)).scalars().all()) == 1  # never a second digest for the window
    assert digests.failures(engine) == []


def test_a_server_that_is_down_blocks_newer_digests_until_delivered(engine, smtp, caplog):
    subscribe(engine)
    fill(engine)
    down = smtp_settings(_free_port(), smtp_username="tracker", smtp_password="hunter2-secret")
    report = send_due(engine, down, now=NOW)
    assert report.failed == 1 and "Connection" in report.errors[0]
    with database.session_scope(engine) as db:
        row = db.execute(select(DigestOutbox)).scalar_one()
        run = db.execute(select(ScrapeRun).where(ScrapeRun.kind == "digest")).scalar_one()
        assert "hunter2" not in row.last_error and "hunter2" not in run.message
        bill = make_bill(db, "HB 50")
        change(db, bill, "passed_committee", on=date(2026, 12, 2))
    assert send_due(engine, down, now=NOW + timedelta(days=1)).failed == 1  # the old one again; no new one built
    with database.session_scope(engine) as db:
        assert len(db.execute(select(DigestOutbox)).scalars().all()) == 1
    assert "hunter2" not in caplog.text
    report = send_due(engine, smtp_settings(smtp.port), now=NOW + timedelta(days=1))
    assert (report.sent, report.retried) == (2, 1)
    old, new = smtp.messages()
    assert old["Subject"].startswith("AI legislation daily digest 2026-12-02")
    assert new["Subject"] == "AI legislation daily digest 2026-12-03: 1 status change"
    assert not _events(old) & _events(new)


def test_real_ingest_reaches_the_digest(settings, smtp):
    path = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    engine = database.get_engine(settings.database_url)
    database.upgrade(settings.database_url)
    subscribe(engine, states=["va"])
    result = runner.invoke(app, ["ingest", "va-lis", str(path), "--fetched-at", "2026-08-01"])
    assert result.exit_code == 0, result.output
    send_due(engine, smtp_settings(smtp.port), now=NOW)
    [message] = smtp.messages()
    rows = attachment_rows(message)
    new = [r for r in rows if r["section"] == "new"]
    assert len(new) == 9 and {r["state"] for r in rows} == {"va"}
    sb487 = next(r for r in new if r["bill_key"] == "va-2024-SB487")
    assert sb487["new"] == "enacted/signed" and sb487["source_url"].startswith("https://legacylis.virginia.gov")
    assert message["Subject"].startswith("AI legislation daily digest 2026-12-02: 9 new or reclassified bills")


def test_cli_preview_and_send(settings, tmp_path):
    assert runner.invoke(app, ["subscribe", "add", "cli@example.org"]).exit_code == 0
    html = tmp_path / "digest.html"
    result = runner.invoke(app, ["digest", "preview", "cli@example.org", "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert "no changes" in result.stdout and "List-Unsubscribe: <http://localhost:8501/unsubscribe?token=" in \
        result.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert runner.invoke(app, ["digest", "preview", "who@example.org"]).exit_code == 1
    assert runner.invoke(app, ["digest", "send"]).exit_code == 2  # no TRACKER_SMTP_HOST
    dry = runner.invoke(app, ["digest", "send", "--dry-run"])
    assert dry.exit_code == 0 and "would send cli@example.org: AI legislation daily digest" in dry.output
    with database.session_scope(database.get_engine(settings.database_url)) as db:
        assert db.execute(select(DigestOutbox)).first() is None  # a dry run stores nothing


def test_scheduler_adds_digest_jobs_only_with_an_smtp_host(settings):
    from tracker.schedule import build_scheduler

    database.upgrade(settings.database_url)
    without = build_scheduler(settings, blocking=False)
    assert not [job for job in without.get_jobs() if job.id.startswith("digest:")]
    with_host = build_scheduler(settings.model_copy(update={"smtp_host": "127.0.0.1"}), blocking=False)
    assert sorted(j.id for j in with_host.get_jobs() if j.id.startswith("digest:")) == ["digest:daily",
                                                                                          "digest:weekly"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(engine, certificate, monkeypatch, security):
    """STARTTLS or implicit TLS with a certificate the client verifies, then AUTH: the password reaches the
    server only over TLS (the server requires it)."""
    import ssl

    from aiosmtpd.smtp import AuthResult

    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        encrypted = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        logins.append((auth_data.login, auth_data.password, encrypted))
        return AuthResult(success=auth_data.password == b"hunter2-secret")

    recorder = Recorder()
    tls = ({"tls_context": server_context, "require_starttls": True} if security == "starttls"
           else {"ssl_context": server_context})
    # Implicit TLS: the whole connection is encrypted, which aiosmtpd's auth_require_tls (STARTTLS) ignores.
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator,
                            auth_require_tls=security == "starttls", **tls)
    controller.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(digests.ssl, "create_default_context", lambda *a, **k: client_context)
        subscribe(engine)
        settings = smtp_settings(controller.port, smtp_security=security, smtp_username="tracker",
                                 smtp_password="hunter2-secret")
        assert send_due(engine, settings, now=NOW).sent == 1
        assert logins == [(b"tracker", b"hunter2-secret", True)] and len(recorder.received) == 1
    finally:
        controller.stop()
