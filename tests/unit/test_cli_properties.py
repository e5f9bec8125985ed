"""Property-based test of the whole CLI (issue 15, acceptance 2): every command, driven through click's CliRunner
with generated option values (huge, negative, NaN, unicode, NUL, SQL and FTS5 syntax, dates at the edges of
the calendar), against a small database, ends with exit 0, 1 or 2 and never with a traceback.

Commands that start something long (crawl, schedule, serve, ingest, demo, sources check) get inputs that make
them stop before they start: a sources file whose only source is disabled, a database in a missing folder, a
Redis port nothing listens on; for those the only outcome allowed is a refusal (exit 2) and nothing created.
"""

from __future__ import annotations

import shutil
import string

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.cli import cli
from monitor.config import RANGES
from monitor.store.db import open_writer
from tests.support.query_corpus import build

PROPS = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                        HealthCheck.data_too_large])

NUMBERS = ["0", "-1", "1", "2", "20", "65535", "65536", "99999999999999999999", "1e20", "1e400", "-1e400", "nan",
           "NaN", "inf", "-inf", "0x10", "1_000", "١٢", "3.5", "-0", "9" * 40, "", " ", "1e-400", "0.0001"]
WHENS = ["999999w", "5217w", "5218w", "99999999999999999999w", "0s", "-5h", "24h", "7D", " 2 w ", "1e3d",
         "0001-01-01", "9999-12-31", "0000-00-00", "2024-02-30", "0001-01-01T00:00+01:00",
         "9999-12-31T23:59:59-01:00", "2024-05-01T10:00Z", "now", "yesterday", "24h ago"]
SQL = ["'; DROP TABLE articles; --", "1 OR 1=1", "\" OR \"\"=\"", "x'); DELETE FROM articles; --", "%", "_",
       "*", "NULL", "articles", "kz-us"]
FTS = ["a* OR " * 50, "NEAR(a b c, 1)", "NEAR(", "\"", "title:", "text:x", "-x", "x -y", "AND", "OR NOT", "(((",
       "^x", "x*y", "{title text}: x", "kazakh*", "\"united states\"", "minerals OR минерал*", "ақш", "'",
       "NEAR(" + " ".join(["w*"] * 40) + ", 3)", "x" * 6000, " OR ".join(["w"] * 600)]
WEIRD = ["\x00", "a\x00b", "\u202e", "😀", "\ufeff", "\n", "\r\n", "\t", "\x1b[31m", "🇰🇿", "Ω", "ﬁ", "İ", " ",
         "-", "--", "-h", "=", "==", "@", "../../etc/passwd", "/dev/null", "C:\\x", "..", ".", "~"]

text = st.one_of(st.text(max_size=30), st.text(alphabet=string.printable, max_size=30))
value = st.one_of(st.sampled_from(NUMBERS + WHENS + SQL + FTS + WEIRD), text,
                  st.integers(-10 ** 25, 10 ** 25).map(str), st.floats().map(repr))
query = st.one_of(st.sampled_from(FTS + SQL + WEIRD), text, st.lists(st.sampled_from(FTS + SQL + WEIRD + ["x"]),
                                                                      min_size=1, max_size=4).map(" ".join))
SETTING_NAMES = sorted(RANGES) + ["USER_AGENT", "LOG_LEVEL", "DEPTH_PRIORITY", "ROBOTSTXT_OBEY", "MONITOR_NOPE",
                                  "MONITOR_POLL_ADAPTIVE", "MONITOR_SCHEDULE_EVERY", "lower", "A-B", ""]
setting = st.one_of(st.tuples(st.sampled_from(SETTING_NAMES), value).map(lambda t: f"{t[0]}={t[1]}"), value)


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-props")
    with open_writer(d / "good.db") as storage:
        build(storage)
    shutil.copy(d / "good.db", d / "retag.db")
    (d / "off.toml").write_text('[[source]]\nname = "x"\nurl = "http://127.0.0.1:9/"\nenabled = false\n',
                                encoding="utf-8")
    (d / "ok.toml").write_text('[[source]]\nname = "x"\nurl = "http://127.0.0.1:9/"\ntags = ["kz"]\n',
                               encoding="utf-8")
    (d / "empty.toml").write_text("", encoding="utf-8")
    (d / "topics.toml").write_text('[[topic]]\nname = "kz"\nquery = "kazakh*"\n', encoding="utf-8")
    (d / "bad.toml").write_text("[[topic]\n", encoding="utf-8")
    (d / "out").mkdir()
    return d


def outputs(d):
    return st.sampled_from(["-", str(d / "out" / "file.txt"), str(d / "out"), str(d / "missing" / "x"), "/dev/null",
                            str(d / "out" / "a\x00b"), str(d / "out" / "😀.md"), ""])


def options(draw, pairs, flags=()):
    """Some of the ``pairs`` (option, strategy), in any order, and some of the ``flags``."""
    args = []
    for opt, strategy in pairs:
        for _ in range(draw(st.integers(0, 2 if opt in ("-s", "--topic", "--source", "--language", "--tag") else 1))):
            args += [opt, draw(strategy)]
    args += [f for f in flags if draw(st.booleans())]
    return args


def commands(d):
    good, fresh = str(d / "good.db"), str(d / "missing-folder" / "fresh.db")
    fmt = lambda *choices: st.one_of(st.sampled_from(choices), value)  # noqa: E731
    filters = [("--topic", st.one_of(st.sampled_from(["kz-us", "energy"]), value)),
               ("--source", st.one_of(st.sampled_from(["astanatimes", "wire"]), value)),
               ("--language", st.one_of(st.sampled_from(["en", "kk", "EN-gb"]), value)),
               ("--since", value), ("--until", value)]
    return {
        "search": lambda draw: ["search", draw(query), "--db", good] + options(
            draw, filters + [("--limit", value), ("--sort", fmt("rank", "date")),
                             ("--format", fmt("table", "json", "csv"))], ["--include-duplicates", "--raw-csv"]),
        "export": lambda draw: ["export", "--db", good] + options(
            draw, filters + [("-q", query), ("--format", fmt("jsonl", "csv")), ("-o", outputs(d))],
            ["--include-duplicates", "--raw-csv"]),
        "stats": lambda draw: ["stats", "--db", good] + options(
            draw, [("--days", value), ("--silent-after", value), ("--format", fmt("table", "json"))]),
        "digest": lambda draw: ["digest", "--db", good] + options(
            draw, [("--since", value), ("--until", value), ("--topic", st.one_of(st.just("kz-us"), value)),
                   ("--max-stories", value), ("--format", fmt("md", "html", "json")), ("-o", outputs(d))]),
        "feed": lambda draw: ["feed", "--db", good, "--topic", draw(st.one_of(st.just("kz-us"), value))] + options(
            draw, [("--limit", value), ("--self-url", value), ("-o", outputs(d))]),
        "retag": lambda draw: ["retag", "--db", str(d / "retag.db")] + options(
            draw, [("--topics", st.sampled_from([str(d / n) for n in ("topics.toml", "empty.toml", "bad.toml",
                                                                      "nope.toml")] + ["\x00", ""]))]),
        "sources": lambda draw: ["sources", "--sources", str(d / draw(st.sampled_from(["ok.toml", "off.toml"])))]
        + options(draw, [("--format", fmt("table", "json", "toml")), ("--tag", value)]),
        "health": lambda draw: ["health", "--db", good] + options(
            draw, [("--format", fmt("table", "json")), ("-s", setting), ("--tag", value),
                   ("--sources", st.sampled_from([str(d / "ok.toml"), str(d / "nope.toml")]))]),
        # below: commands that must stop before they start anything
        "sources check": lambda draw: ["sources", "check", "--sources", str(d / "off.toml")] + options(
            draw, [("--timeout", value), ("--concurrency", value), ("--format", fmt("table", "json")),
                   ("--tag", value)], ["--suggest", "-q"]),
        "crawl": lambda draw: ["crawl", "--sources", str(d / "off.toml"), "--db", fresh] + options(
            draw, [("-s", setting), ("--max-articles", value), ("--tag", value),
                   ("--log-file", st.sampled_from([str(d / "out" / "crawl.log"), str(d / "nope" / "c.log"),
                                                   str(d / "out"), "\x00"]))], ["--refresh", "-q"]),
        "schedule": lambda draw: ["schedule", "--sources", str(d / "off.toml"), "--db", fresh] + options(
            draw, [("--every", value), ("--cron", st.one_of(st.sampled_from(["*/5 * * * *", "61 * * * *"]), value)),
                   ("-s", setting), ("--max-runs", value)], ["-q"]),
        "serve": lambda draw: ["serve", "--db", str(d / "missing.db")] + options(
            draw, [("--port", value), ("--host", value)]),
        "ingest": lambda draw: ["ingest", "--redis", "redis://127.0.0.1:9/0", "--db", fresh, "--until-empty"] + options(
            draw, [("--idle-exit", value), ("--batch-size", value), ("--prefix", value)]),
        "demo": lambda draw: ["demo", "--db", fresh] + options(draw, [("--port", value)], ["-q"]),
    }


MUST_NOT_START = {"sources check", "crawl", "schedule", "serve", "ingest", "demo"}


@pytest.mark.parametrize("command", ["search", "export", "stats", "digest", "feed", "retag", "sources", "health",
                                     "sources check", "crawl", "schedule", "serve", "ingest", "demo"])
def test_any_option_values_end_in_exit_0_1_or_2_without_a_traceback(place, command):
    build_args = commands(place)[command]

    @PROPS
    @given(st.data())
    def check(data):
        args = build_args(data.draw)
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{args!r} raised {result.exception!r}"
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
        assert "Traceback" not in result.output, (args, result.output)
        if command in MUST_NOT_START:
            assert result.exit_code in ((0, 2) if command == "sources check" else (2,)), (args, result.output)
            assert not (place / "missing-folder").exists()

    check()


def test_top_level_options():
    for args in (["--version"], ["--help"], ["-h"], ["nosuchcommand"], ["search"], ["--db"], []):
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output
