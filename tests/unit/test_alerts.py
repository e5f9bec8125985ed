"""The alerts file is validated like the sources and topics files (one line naming file, rule or channel and
field; exit 2), and what an alert says keeps page text as text (Slack markup escaped, one-line e-mail subject)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from monitor.alerts.messages import Message, batch, email_message, slack_text, webhook_payload
from monitor.alerts.rules import AlertsError, load_alerts, parse_alerts

HOOK = '[[channel]]\nname = "hook"\ntype = "webhook"\nurl = "https://hooks.example.org/services/T0/B0/x"\n'
MAIL = ('[[channel]]\nname = "mail"\ntype = "email"\nhost = "smtp.example.org"\nfrom = "m@example.org"\n'
        'to = ["desk@example.org"]\nusername_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n')
RULE = '[[rule]]\nname = "kz"\nquery = "kazakhstan*"\nchannel = "hook"\n'


def parse(text, **kw):
    return parse_alerts(text, path="alerts.toml", allow_private=False, **kw)


def test_a_good_file():
    config = parse('[alerts]\ndigest_threshold = 5\nfirst_run = "2d"\n' + HOOK + MAIL + RULE +
                   '[[rule]]\nname = "li"\ntopic = "kz-us"\nsources = ["a", "b"]\nlanguages = ["EN", "pt-BR"]\n'
                   'channel = ["mail", "hook"]\n')
    assert config.digest_threshold == 5 and config.first_run_seconds == 2 * 86400
    kz, li = config.rules
    assert kz.query == "kazakhstan*" and kz.channels == ("hook",)
    assert li.topic == "kz-us" and li.languages == ("en", "pt-br") and li.channels == ("mail", "hook")
    mail = config.channels["mail"]
    assert (mail.port, mail.security) == (587, "starttls")
    assert mail.credentials({"SMTP_USER": "u", "SMTP_PASSWORD": "p"}) == ("u", "p")
    with pytest.raises(AlertsError, match="field 'password_env': environment variable SMTP_PASSWORD is not set"):
        mail.credentials({"SMTP_USER": "u"})


@pytest.mark.parametrize("text, message", [
    ("[[rule\n", r"^alerts.toml: is not valid TOML"),
    (HOOK + '[[rule]]\nname = "kz"\nchannel = "hook"\n', r"rule 'kz', field 'topic': give either a topic or a query"),
    (HOOK + '[[rule]]\nname = "kz"\ntopic = "a"\nquery = "b"\nchannel = "hook"\n', r"rule 'kz', field 'query'"),
    (HOOK + '[[rule]]\nname = "kz"\nquery = "a AND"\nchannel = "hook"\n',
     r"rule 'kz', field 'query': 'a AND' is not valid FTS5 syntax"),
    (HOOK + '[[rule]]\nname = "kz"\nquery = "a"\nchannel = "slack"\n',
     r"rule 'kz', field 'channel': no channel 'slack'; channels in the file: hook"),
    (HOOK + '[[rule]]\nname = "kz"\nquery = "a"\n', r"rule 'kz', field 'channel': is missing"),
    (HOOK + '[[rule]]\nname = "Kz!"\nquery = "a"\nchannel = "hook"\n', r"rule 'Kz!', field 'name'"),
    (HOOK + '[[rule]]\nname = "kz"\nquery = "a"\nchannel = "hook"\nlanguages = ["english"]\n',
     r"field 'languages': 'english' is not a language code"),
    (HOOK + '[[rule]]\nname = "kz"\nquery = "a"\nchannel = "hook"\ncolour = "red"\n',
     r"rule 'kz', field 'colour': unknown key"),
    (HOOK + RULE + RULE, r"rule 'kz': duplicate name"),
    (MAIL.replace('username_env = "SMTP_USER"\n', 'password = "hunter2"\n') + RULE,
     r"channel 'mail', field 'password': secrets do not belong in the file"),
    (MAIL.replace('"SMTP_PASSWORD"', '"hunter2!"') + RULE, r"field 'password_env': 'hunter2!' is not an environment"),
    (MAIL.replace('username_env = "SMTP_USER"\n', '') + RULE, r"give both username_env and password_env"),
    (MAIL.replace('host', 'security = "none"\nhost') + RULE, r"channel 'mail', field 'security': a login needs"),
    (MAIL.replace('host = "smtp.example.org"', 'host = "169.254.169.254"') + RULE, r"field 'host'.*metadata"),
    (MAIL.replace('["desk@example.org"]', '[]') + RULE, r"channel 'mail', field 'to': needs at least one"),
    (MAIL.replace('to = ', 'ca_file = "/nonexistent/ca.pem"\nto = ') + RULE, r"field 'ca_file': /nonexistent"),
    (HOOK.replace("https://hooks.example.org/services/T0/B0/x", "ftp://x.example/") + RULE,
     r"channel 'hook', field 'url': 'ftp://x.example/' is not an http\(s\) URL"),
    (HOOK.replace("hooks.example.org", "127.0.0.1:8080") + RULE,
     r"field 'url': 127.0.0.1 is a loopback address.*MONITOR_ALLOW_PRIVATE_ADDRESSES"),
    (HOOK.replace("hooks.example.org", "[::ffff:169.254.169.254]") + RULE, r"cloud metadata address"),
    (HOOK.replace('url = "https://hooks.example.org/services/T0/B0/x"', '') + RULE,
     r"channel 'hook', field 'url': give either url or url_env"),
    (HOOK.replace('"webhook"', '"pager"') + RULE, r"field 'type': 'pager' is not a channel type"),
    ('[alerts]\ndigest_threshold = -1\n' + HOOK + RULE, r"\[alerts\], field 'digest_threshold'"),
    ('[alerts]\nfirst_run = "soon"\n' + HOOK + RULE, r"\[alerts\], field 'first_run': 'soon' is not a duration"),
    ('[rules]\n', r"unknown top-level key 'rules'"),
])
def test_mistakes_name_file_rule_and_field(text, message):
    with pytest.raises(AlertsError, match=message):
        parse(text)


def test_private_webhook_allowed_with_the_setting():
    config = parse_alerts(HOOK.replace("hooks.example.org", "127.0.0.1:8080") + RULE, allow_private=True)
    assert config.channels["hook"].url.startswith("http://127.0.0.1:8080/") or \
        config.channels["hook"].url.startswith("https://127.0.0.1:8080/")
    with pytest.raises(AlertsError, match="metadata"):   # never the metadata service
        parse_alerts(HOOK.replace("hooks.example.org", "169.254.169.254") + RULE, allow_private=True)


def test_file_lookup_and_cli_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_ALERTS", raising=False)
    with pytest.raises(AlertsError, match=r"^alerts.toml: file not found \(pass --alerts FILE or set \$MONITOR_ALERTS"):
        load_alerts()
    (tmp_path / "mine.toml").write_text(HOOK, encoding="utf-8")
    monkeypatch.setenv("MONITOR_ALERTS", str(tmp_path / "mine.toml"))
    with pytest.raises(AlertsError, match="defines no \\[\\[rule\\]\\]"):
        load_alerts()
    from monitor.cli import cli

    result = CliRunner().invoke(cli, ["alert", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "mine.toml: defines no [[rule]]" in result.output


def item(n, **kw):
    return {"alert_id": n, "id": n, "story": n, "url": f"https://news.example/{n}", "source": "wire", "language": "en",
            "title": f"Story {n}", "date": "2026-12-01 10:00:00", "text": "Body text.", "topics": ["kz-us"],
            "members": {"articles": 1, "sources": ["wire"], "languages": ["en"]}, **kw}


def test_batching_threshold():
    assert [m.digest for m in batch("kz", [item(1), item(2)], 2)] == [False, False]
    [digest] = batch("kz", [item(1), item(2), item(3)], 2)
    assert digest.digest and digest.alert_ids == [1, 2, 3]
    assert [len(m.items) for m in batch("kz", [item(n) for n in range(1, 251)], 0)] == [100, 100, 50]


def test_page_text_stays_text():
    hostile = item(1, title="<!channel> & <https://evil.example|click> | x", url="javascript:alert(1)",
                   text="Line\u2028two\x1b[31m red")
    text = slack_text(Message("kz", [hostile], False))
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;https://evil.example¦click&gt;" in text
    assert "javascript:" not in text and "\x1b" not in text and "\u2028" not in text
    payload = webhook_payload(Message("kz", [hostile], False))
    assert payload["stories"][0]["url"] is None and payload["text"] == text
    em = email_message(Message("kz", [item(2, title="Hi\r\nBcc: victim@example.org")], False),
                       sender="m@example.org", to=["desk@example.org"])
    assert em["Subject"] == "[media-monitor] kz: Hi Bcc: victim@example.org" and em["Bcc"] is None


def test_bundled_example_is_valid_and_printed():
    from monitor.package_data import package_file

    path = package_file("alerts.example.toml")
    config = load_alerts(path)
    assert [r.name for r in config.rules] == ["kz-us", "critical-minerals"]
    assert {c.type for c in config.channels.values()} == {"webhook", "email"}
    from monitor.cli import cli

    result = CliRunner().invoke(cli, ["alert", "--example"])
    assert result.exit_code == 0 and result.output == path.read_text(encoding="utf-8")
    assert "password =" not in result.output


# --------------------------------------------------------------------------- properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ANY = st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(),
                st.lists(st.text(max_size=12), max_size=3), st.sampled_from(
                    ["kz-us", "hook", "mail", "starttls", "ssl", "none", "http://127.0.0.1/x", "https://a.example/",
                     "SMTP_USER", "a@b.example", "0s", "24h", "webhook", "email", "kazakhstan*", "a AND", "\x00"]))
RULE_KEYS = ["name", "topic", "query", "sources", "languages", "channel", "extra"]
CHANNEL_KEYS = ["name", "type", "url", "url_env", "host", "port", "security", "from", "to", "username_env",
                "password_env", "ca_file", "timeout", "password"]


def _toml_value(v) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)              # nan/inf: not TOML, which the loader must report as such
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(v)


def _table(kind: str, d: dict) -> str:
    return f"[[{kind}]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in d.items())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(CHANNEL_KEYS), ANY, max_size=8),
       st.dictionaries(st.sampled_from(RULE_KEYS), ANY, max_size=6),
       st.dictionaries(st.sampled_from(["digest_threshold", "first_run", "x"]), ANY, max_size=2))
def test_any_file_is_a_config_or_one_alerts_error(channel, rule, head):
    text = ("[alerts]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in head.items()) + "\n"
            + _table("channel", {"name": "hook", "type": "webhook", "url": "https://a.example/", **channel})
            + _table("rule", {"name": "r", "query": "kazakhstan*", "channel": "hook", **rule}))
    try:
        config = parse_alerts(text, path="alerts.toml", allow_private=False)
    except AlertsError as exc:
        assert str(exc).startswith("alerts.toml") and "\n" not in str(exc).strip()
        return
    assert config.rules and all(set(r.channels) <= set(config.channels) for r in config.rules)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    from monitor.store.db import open_writer
    from monitor.store.records import ArticleRecord

    d = tmp_path_factory.mktemp("alerts-cli")
    with open_writer(d / "m.db") as w:
        w.write_batch([ArticleRecord(url="https://wire.example/1", source="wire", language="en", title="Kazakhstan",
                                     text="Kazakhstan and the United States. " * 20)])
    (d / "alerts.toml").write_text(HOOK + RULE, encoding="utf-8")
    return d


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["24h", "7d", "2026-13-01", "99999w", "-1d"])),
       st.sampled_from(["alerts.toml", "missing.toml", "", "\x00", "."]), st.booleans())
def test_cli_any_since_and_file_end_in_0_1_or_2(small_db, since, alerts, quiet):
    from monitor.cli import cli

    args = ["alert", "--db", str(small_db / "m.db"), "--alerts", str(small_db / alerts) if alerts else "", "--dry-run"]
    args += ["--since", since] if since is not None else []
    args += ["-q"] if quiet else []
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 2), (args, result.output)
    assert "Traceback" not in result.output
