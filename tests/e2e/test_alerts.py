"""`monitor alert` against real receivers started here: an HTTP server on 127.0.0.1 that records the webhook
POSTs, and aiosmtpd (STARTTLS with a throw-away certificate, login required).  The database is written through
the store's writer (no crawl: fast), so each test says exactly which articles, copies and editions exist."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitor.alerts.delivery import run_alerts
from monitor.alerts.rules import AlertsError, load_alerts
from monitor.store.db import open_writer
from monitor.store.records import ArticleRecord
from tests.support.helpers import free_port, rows, run_monitor

WORDS = ("harbour grain tariff council river bridge winter budget railway school valley copper museum court "
         "festival drought market pension clinic airport wheat forest reform tunnel orchestra glacier ferry "
         "census vaccine library stadium border canal senate mayor charter satellite pipeline").split()


def text(seed: int, keyword: str = "lithium") -> str:
    rng = random.Random(seed)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "." for _ in range(12)]
    sentences.insert(3, f"The {keyword} deal was signed in Astana.")
    return " ".join(sentences)


def article(n: int, *, keyword="lithium", source="wire", language="en", body=None, **kw) -> ArticleRecord:
    return ArticleRecord(url=f"https://{source}.example/news/{n}", source=source, language=language,
                         title=kw.pop("title", f"Story {n} about {keyword}"), text=body or text(n, keyword), **kw)


def store(db, *records):
    with open_writer(db) as w:
        return [r.article_id for r in w.write_batch(list(records))]


class Receiver:
    """A webhook receiver: records each POST (JSON body); answers ``status``."""

    def __init__(self):
        self.posts: list[dict] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.status == 200:
                    outer.posts.append(json.loads(body))
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if outer.status == 200 else b"receiver is down")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/T0/B0/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _private_ok(monkeypatch):
    # the receivers listen on 127.0.0.1, which webhooks may reach only with this setting (as the crawl)
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_ADDRESSES", "true")


def write_alerts(path, url, *, threshold=3, rule_extra="", extra=""):
    path.write_text(f"""
[alerts]
digest_threshold = {threshold}

[[channel]]
name = "hook"
type = "webhook"
url = "{url}"
{extra}
[[rule]]
name = "lithium"
query = "lithium"
channel = "hook"
{rule_extra}
""", encoding="utf-8")
    return path


def run(tmp_path, db, **kw):
    return run_alerts(load_alerts(tmp_path / "alerts.toml"), db, progress=None, **kw)


def test_each_story_once_copies_and_editions_folded(tmp_path, receiver):
    db = tmp_path / "m.db"
    first, second, _other = store(db, article(1), article(2), article(3, keyword="uranium"))
    write_alerts(tmp_path / "alerts.toml", receiver.url)
    report = run(tmp_path, db)
    assert report.exit_code == 0 and report.sent == 2
    assert [p["stories"][0]["article_id"] for p in receiver.posts] == [first, second]
    post = receiver.posts[0]
    assert post["rule"] == "lithium" and post["digest"] is False and post["count"] == 1
    assert "<https://wire.example/news/1|Story 1 about lithium>" in post["text"]

    assert run(tmp_path, db).sent == 0 and len(receiver.posts) == 2          # nothing new: nothing sent
    # a copy of story 1 on another outlet, and a Russian edition of story 2 (hreflang): folded, not sent
    [copy, edition] = store(db, article(11, source="mirror", body=text(1)),
                            article(12, language="ru", title="Литий: история 2", body=text(12, "lithium литий"),
                                    extra={"hreflang": [("en", "https://wire.example/news/2")]}))
    assert rows(db, "SELECT duplicate_of FROM articles WHERE id = ?", [copy])[0]["duplicate_of"] == first
    report = run(tmp_path, db)
    assert report.sent == 0 and sum(c.folded for c in report.channels) == 2 and len(receiver.posts) == 2
    # a new story is sent; the story it is in grows to its size in the message
    [new] = store(db, article(4))
    assert run(tmp_path, db).sent == 1
    assert receiver.posts[-1]["stories"][0]["article_id"] == new
    sent = rows(db, "SELECT article_id, status, attempts FROM alerts_sent ORDER BY id")
    assert sent == [{"article_id": a, "status": "sent", "attempts": 1} for a in (first, second, new)]
    assert edition not in {r["article_id"] for r in sent}


def test_failed_delivery_is_recorded_and_retried(tmp_path, receiver):
    db = tmp_path / "m.db"
    [first] = store(db, article(1))
    write_alerts(tmp_path / "alerts.toml", receiver.url)
    receiver.status = 500
    report = run(tmp_path, db)
    assert report.exit_code == 1 and report.failed == 1 and receiver.posts == []
    [row] = rows(db, "SELECT status, attempts, error FROM alerts_sent")
    assert row["status"] == "failed" and row["attempts"] == 1 and "HTTP 500" in row["error"]
    # meanwhile a copy of it arrives and a new story: the copy folds into the waiting one
    [_copy, second] = store(db, article(21, source="mirror", body=text(1)), article(2))
    receiver.status = 200
    report = run(tmp_path, db)
    assert report.exit_code == 0 and report.sent == 2
    assert sorted(p["stories"][0]["article_id"] for p in receiver.posts) == [first, second]
    assert rows(db, "SELECT article_id, status, attempts FROM alerts_sent ORDER BY id") == [
        {"article_id": first, "status": "sent", "attempts": 2}, {"article_id": second, "status": "sent", "attempts": 1}]
    assert run(tmp_path, db).sent == 0 and len(receiver.posts) == 2


def test_many_stories_at_once_make_one_digest(tmp_path, receiver):
    db = tmp_path / "m.db"
    ids = store(db, *(article(n) for n in range(1, 7)))
    write_alerts(tmp_path / "alerts.toml", receiver.url, threshold=3)
    report = run(tmp_path, db)
    assert report.sent == 6 and report.channels[0].messages == 1
    [post] = receiver.posts
    assert post["digest"] is True and post["count"] == 6
    assert [s["article_id"] for s in post["stories"]] == ids
    assert post["text"].startswith("*media-monitor · lithium*: 6 new stories")
    assert post["text"].count("\n• <https://wire.example/news/") == 6
    # three at a time stay separate messages
    store(db, *(article(n) for n in range(7, 10)))
    assert run(tmp_path, db).channels[0].messages == 3 and len(receiver.posts) == 4


def test_rule_filters_topic_sources_languages(tmp_path, receiver):
    from monitor.topics import Topic

    db = tmp_path / "m.db"
    with open_writer(db) as w:
        w.set_topics([Topic("minerals", "", "lithium OR cobalt")])
        ids = [r.article_id for r in w.write_batch([article(1), article(2, source="other"),
                                                    article(3, language="ru"), article(4, keyword="uranium")])]
    write_alerts(tmp_path / "alerts.toml", receiver.url).write_text(
        (tmp_path / "alerts.toml").read_text().replace('query = "lithium"', 'topic = "minerals"\n'
                                                       'sources = ["wire"]\nlanguages = ["en"]'))
    assert run(tmp_path, db).sent == 1
    assert [p["stories"][0]["article_id"] for p in receiver.posts] == [ids[0]]
    assert receiver.posts[0]["stories"][0]["topics"] == ["minerals"]
    # a topic the database does not know is refused, naming the rule and field
    (tmp_path / "alerts.toml").write_text((tmp_path / "alerts.toml").read_text().replace('"minerals"', '"mineral"'))
    with pytest.raises(AlertsError, match=r"rule 'lithium', field 'topic': no topic 'mineral'.*minerals"):
        run(tmp_path, db)


def test_private_webhook_refused_without_the_setting(tmp_path, receiver, monkeypatch):
    db = tmp_path / "m.db"
    store(db, article(1))
    write_alerts(tmp_path / "alerts.toml", receiver.url)
    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_ADDRESSES")
    with pytest.raises(AlertsError, match="127.0.0.1 is a loopback address.*MONITOR_ALLOW_PRIVATE_ADDRESSES"):
        load_alerts(tmp_path / "alerts.toml")
    # a URL from the environment is checked when sent: refused, recorded, nothing lost
    (tmp_path / "alerts.toml").write_text((tmp_path / "alerts.toml").read_text().replace(
        f'url = "{receiver.url}"', 'url_env = "TEST_HOOK_URL"'))
    monkeypatch.setenv("TEST_HOOK_URL", receiver.url.replace("127.0.0.1", "localhost"))
    report = run(tmp_path, db)
    assert report.exit_code == 1 and receiver.posts == []
    assert "loopback address" in rows(db, "SELECT error FROM alerts_sent")[0]["error"]
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_ADDRESSES", "true")
    assert run(tmp_path, db).sent == 1 and len(receiver.posts) == 1


def test_cli_dry_run_then_send(tmp_path, receiver):
    db = tmp_path / "m.db"
    store(db, article(1), article(2))
    alerts = write_alerts(tmp_path / "alerts.toml", receiver.url)
    env = {"MONITOR_ALLOW_PRIVATE_ADDRESSES": "true", "MONITOR_ALERTS": str(alerts)}
    dry = run_monitor("alert", "--db", db, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "rule lithium -> channel hook" in dry.stdout and "Story 2 about lithium" in dry.stdout
    assert "Dry run: 2 stories would be sent" in dry.stderr and receiver.posts == []
    assert rows(db, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'alerts_sent'")[0]["n"] == 0 or \
        rows(db, "SELECT count(*) AS n FROM alerts_sent")[0]["n"] == 0
    sent = run_monitor("alert", "--db", db, env=env)
    assert sent.returncode == 0, sent.stderr
    assert "lithium -> hook: 2 stories; 2 sent in 2 message(s)" in sent.stderr and len(receiver.posts) == 2
    receiver.status = 503
    store(db, article(3))
    failed = run_monitor("alert", "--db", db, env=env)
    assert failed.returncode == 1 and "1 failed (recorded: retried at the next run)" in failed.stderr
    bad = run_monitor("alert", "--db", db, "--alerts", tmp_path / "missing.toml", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("Error: ") and "missing.toml" in bad.stderr


# --------------------------------------------------------------------------- e-mail (aiosmtpd)

@pytest.fixture
def smtp_server(tmp_path, request):
    """aiosmtpd on 127.0.0.1 that requires STARTTLS before login and a login before mail (user 'alerts',
    password 's3cret'); a self-signed certificate made with openssl for 127.0.0.1.  Parametrised with "ssl":
    TLS from the first byte instead (SMTPS)."""
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult
    import ssl

    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    class Handler:
        def __init__(self):
            self.messages, self.logins = [], []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
            return "250 OK"

    handler = Handler()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"alerts" and auth_data.password == b"s3cret"
        encrypted = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        handler.logins.append((auth_data.login.decode(), ok, encrypted))
        return AuthResult(success=ok, handled=False)   # handled=False: aiosmtpd answers 535 itself

    port = free_port()
    if getattr(request, "param", "starttls") == "ssl":
        # aiosmtpd's auth_require_tls looks at STARTTLS only: on a TLS-from-the-start server it would hide AUTH
        # (the authenticator still records whether the session was encrypted)
        tls = {"ssl_context": context, "auth_require_tls": False}
    else:
        tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                                     auth_required=True, **tls)
    controller.start()
    handler.port, handler.cert = port, cert
    yield handler
    controller.stop()


def write_email_alerts(path, smtp, *, threshold=3, security="starttls", timeout=20):
    path.write_text(f"""
[alerts]
digest_threshold = {threshold}

[[channel]]
name = "desk"
type = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "{security}"
timeout = {timeout}
ca_file = "{smtp.cert}"
username_env = "TEST_SMTP_USER"
password_env = "TEST_SMTP_PASSWORD"
from = "media-monitor <monitor@example.org>"
to = ["desk@example.org", "editor@example.org"]

[[rule]]
name = "lithium"
query = "lithium"
channel = "desk"
""", encoding="utf-8")
    return path


def test_email_over_starttls_with_login_from_environment(tmp_path, smtp_server, monkeypatch):
    db = tmp_path / "m.db"
    [first] = store(db, article(1, title="Lithium deal <b>signed</b>\nSubject: injected"))
    write_email_alerts(tmp_path / "alerts.toml", smtp_server)
    monkeypatch.setenv("TEST_SMTP_USER", "alerts")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    report = run(tmp_path, db)
    assert report.exit_code == 1 and smtp_server.messages == []
    assert smtp_server.logins == [("alerts", False, True)]          # the login came after STARTTLS
    assert "SMTP login" in rows(db, "SELECT error FROM alerts_sent")[0]["error"]

    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    report = run(tmp_path, db)
    assert report.exit_code == 0 and report.sent == 1
    [(sender, rcpts, content)] = smtp_server.messages
    assert sender == "monitor@example.org" and rcpts == ["desk@example.org", "editor@example.org"]
    assert "Subject: [media-monitor] lithium: Lithium deal <b>signed</b> Subject: injected" in content
    assert "https://wire.example/news/1" in content and "X-Media-Monitor-Rule: lithium" in content
    assert rows(db, "SELECT article_id, status FROM alerts_sent") == [{"article_id": first, "status": "sent"}]
    assert "s3cret" not in (tmp_path / "alerts.toml").read_text()


@pytest.mark.parametrize("smtp_server", ["ssl"], indirect=True)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_over_ssl(tmp_path, smtp_server, monkeypatch):
    db = tmp_path / "m.db"
    store(db, article(1))
    write_email_alerts(tmp_path / "alerts.toml", smtp_server, security="ssl")
    monkeypatch.setenv("TEST_SMTP_USER", "alerts")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    assert run(tmp_path, db).sent == 1
    assert smtp_server.logins == [("alerts", True, True)] and len(smtp_server.messages) == 1
    # STARTTLS against a server that speaks TLS from the first byte: a failure, recorded
    write_email_alerts(tmp_path / "alerts.toml", smtp_server, security="starttls", timeout=1)
    store(db, article(2))
    report = run(tmp_path, db)
    assert report.failed == 1 and "SMTP" in report.channels[0].errors[0]


def test_first_run_window_and_since(tmp_path, receiver):
    db = tmp_path / "m.db"
    store(db, article(1), article(2))
    alerts = write_alerts(tmp_path / "alerts.toml", receiver.url)
    alerts.write_text(alerts.read_text().replace("[alerts]\n", '[alerts]\nfirst_run = "0s"\n'))
    assert run(tmp_path, db).sent == 0                     # a first run with first_run = "0s" starts from now
    store(db, article(3))
    assert run(tmp_path, db).sent == 1                     # then what is new
    assert run(tmp_path, db, since="1d").sent == 2         # --since looks back: the two older ones
    assert run(tmp_path, db, since="1d").sent == 0         # ... once
    assert [p["stories"][0]["title"] for p in receiver.posts] == ["Story 3 about lithium", "Story 1 about lithium",
                                                                  "Story 2 about lithium"]


def test_email_digest_and_unset_password_variable(tmp_path, smtp_server, monkeypatch):
    db = tmp_path / "m.db"
    store(db, *(article(n) for n in range(1, 6)))
    write_email_alerts(tmp_path / "alerts.toml", smtp_server, threshold=2)
    monkeypatch.setenv("TEST_SMTP_USER", "alerts")
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    report = run(tmp_path, db)
    assert report.failed == 5 and "TEST_SMTP_PASSWORD is not set" in report.channels[0].errors[0]
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    assert run(tmp_path, db).sent == 5
    [(_s, _r, content)] = smtp_server.messages
    assert "Subject: [media-monitor] lithium: 5 new stories" in content
    assert all(f"Story {n} about lithium" in content for n in range(1, 6))


# --------------------------------------------------------------------------- monitor schedule --alert

def test_scheduler_sends_alerts_after_each_crawl(tmp_path, receiver):
    """The scheduler's after_run hook (wired by --alert): each crawl's new stories are alerted right after it."""
    from monitor.alerts.delivery import scheduled_alerts
    from monitor.ops.schedule import RunResult, Scheduler, Trigger
    from monitor.sources.catalogue import Source

    db = tmp_path / "m.db"
    alerts = write_alerts(tmp_path / "alerts.toml", receiver.url)
    lines: list[str] = []

    class Clock:
        t = 1_000_000.0

        def now(self):
            return self.t

        def wait_until(self, t, stop):
            self.t = max(self.t, t)

    def runner(names):        # a "crawl" that stores one new matching story per run
        n = len(receiver.posts) + 1
        store(db, article(n))
        return RunResult(returncode=0, crawl_id=n, status="finished",
                         per_source={"wire": {"articles_new": 1, "finish_reason": "finished"}})

    sched = Scheduler(trigger=Trigger(every=3600), load_sources=lambda: [Source(name="wire", url="https://w.example/")],
                      runner=runner, open_store=lambda: open_writer(db), clock=Clock(), log=lines.append, max_runs=3,
                      after_run=scheduled_alerts(alerts, db, None, lines.append))
    assert sched.run() == 3
    assert [p["stories"][0]["title"] for p in receiver.posts] == ["Story 1 about lithium", "Story 2 about lithium",
                                                                   "Story 3 about lithium"]
    assert sum("alert: lithium -> hook: 1 story; 1 sent in 1 message(s)" in line for line in lines) == 3
    # a file broken meanwhile: the last good one is used
    alerts.write_text("[[rule]\n")
    store(db, article(9))
    sched.after_run(RunResult(returncode=0, crawl_id=9, status="finished"))
    assert any("alerts file not reloaded" in line for line in lines) and len(receiver.posts) == 4


@pytest.mark.slow
def test_schedule_alert_against_a_fixture_site(tmp_path, receiver):
    from tests.support.fixtureserver import FixtureServer, Site
    from tests.support.helpers import FAST_SETTINGS, write_sources
    from tests.support.sites import build_news_site

    db, log = tmp_path / "m.db", tmp_path / "schedule.log"
    alerts = write_alerts(tmp_path / "alerts.toml", receiver.url, threshold=10)
    alerts.write_text(alerts.read_text().replace('query = "lithium"', 'query = "the"'))
    env = {"MONITOR_ALLOW_PRIVATE_ADDRESSES": "true"}
    bad = run_monitor("schedule", "--alert", "--alerts", tmp_path / "none.toml", "--db", db, env=env)
    assert bad.returncode == 2 and "none.toml: file not found" in bad.stderr
    with FixtureServer(Site()) as server:
        site = build_news_site(server.url, n_articles=3, with_feed="rss2", with_sitemap=None)
        server.site.update(site)
        sources = write_sources(tmp_path / "s.toml", [site.source("one", declare_feeds=True)])
        result = run_monitor("schedule", "--every", "1s", "--max-runs", "2", "--sources", sources, "--db", db,
                             "--log-file", log, "--alert", "--alerts", alerts, *FAST_SETTINGS,
                             "-s", "MONITOR_EXTRACT_WORKERS=1", "-s", "MONITOR_POLL_MIN_INTERVAL=1", env=env)
    text = log.read_text()
    assert result.returncode == 0, result.stderr[-3000:] + text[-3000:]
    stored = rows(db, "SELECT id FROM articles ORDER BY id")
    assert len(stored) == 3
    # the first crawl's 3 stories in one run of the alerts; the second crawl brought nothing: nothing sent
    assert sorted(s["article_id"] for p in receiver.posts for s in p["stories"]) == [r["id"] for r in stored]
    assert "Alerts: 3 stories sent for 1 rule(s)" in text and "Alerts: 0 stories sent for 1 rule(s)" in text


# --------------------------------------------------------------------------- README section "Alerts"

def readme_alerts_section() -> tuple[str, list[list[str]]]:
    import shlex

    from tests.support.helpers import REPO_ROOT

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Alerts\n"):]
    section = section[:section.index("\n### ", 1)]
    toml = section[section.index("```toml\n") + 8:]
    block = section[section.index("```bash\n") + 8:]
    return toml[:toml.index("```")], [shlex.split(line, comments=True) for line in block[:block.index("```")].splitlines()
                                      if line.strip()]


def test_readme_alerts_example_runs(tmp_path, receiver, smtp_server):
    """The README's alerts.toml and commands as written; only the SMTP host is pointed at the test's server."""
    from monitor.topics import load_topics

    toml, commands = readme_alerts_section()
    assert [argv[:2] for argv in commands] == [["monitor", "alert"]] * 3
    assert 'host = "smtp.example.org"' in toml
    (tmp_path / "alerts.toml").write_text(toml.replace(
        'host = "smtp.example.org"',
        f'host = "127.0.0.1"\nport = {smtp_server.port}\nca_file = "{smtp_server.cert}"'), encoding="utf-8")
    with open_writer(tmp_path / "demo.db") as w:
        w.set_topics(load_topics())
        w.write_batch([article(1, keyword="Washington", title="Kazakhstan and the United States talk"),
                       article(2, source="mirror", body=text(1, "Washington"), title="Kazakhstan, US talk"),  # a copy
                       article(3, language="ru", body=text(3, "Washington США"), title="Казахстан и США",
                               extra={"hreflang": [("en", "https://wire.example/news/1")]}),   # its edition
                       article(4, title="Lithium mine opens"),
                       article(5, language="ru", keyword="литий", title="Литий"),
                       article(6, language="kk", keyword="lithium", title="Литий (kk)")])     # not en/ru
    env = {"MONITOR_ALLOW_PRIVATE_ADDRESSES": "true", "NEWSROOM_WEBHOOK_URL": receiver.url,
           "MONITOR_SMTP_USER": "alerts", "MONITOR_SMTP_PASSWORD": "s3cret", "MONITOR_ALERTS": ""}
    results = [run_monitor(*argv[1:], cwd=tmp_path, env=env) for argv in commands]
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    dry, sent, again = results
    assert "Dry run: 5 stories would be sent for 2 rule(s)" in dry.stderr and "Subject: [media-monitor]" in dry.stdout
    assert "kz-us -> newsroom: 1 story; 2 folded into stories already alerted; 1 sent" in sent.stderr
    assert "critical-minerals -> desk: 2 stories; 2 sent" in sent.stderr
    assert "Alerts: 5 stories sent for 2 rule(s)" in sent.stderr
    assert len(receiver.posts) == 3 and len(smtp_server.messages) == 2
    assert "Alerts: 0 stories sent" in again.stderr and len(receiver.posts) == 3


def test_one_sending_run_per_database(tmp_path, receiver):
    import fcntl

    db = tmp_path / "m.db"
    store(db, article(1))
    write_alerts(tmp_path / "alerts.toml", receiver.url)
    with open(tmp_path / "m.db.alert.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        from monitor.errors import UsageError

        with pytest.raises(UsageError, match="another `monitor alert` is sending"):
            run(tmp_path, db)
        assert run(tmp_path, db, dry_run=True).channels[0].new == 1      # a dry run reads only: no lock
    assert receiver.posts == [] and run(tmp_path, db).sent == 1
