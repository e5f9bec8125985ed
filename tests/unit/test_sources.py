import pytest

from monitor.errors import SourcesError
from monitor.durations import parse_duration
from monitor.sources.catalogue import load_sources, parse_sources, select_sources

GOOD = """
[[source]]
name = "wire"
url = "https://wire.example/"
feeds = ["https://wire.example/feed/"]
tags = ["kz", "EN-language"]
every = "1h"
article_pattern = "/\\\\d{4}/\\\\d{2}/"

[[source]]
name = "gov"
url = "https://gov.example/"
tags = ["government"]
"""


def test_parses_frozen_records():
    wire, gov = parse_sources(GOOD)
    assert wire.feeds == ("https://wire.example/feed/",)
    assert wire.tags == ("kz", "en-language")
    assert wire.every_seconds == 3600
    assert wire.article_regex.search("https://wire.example/2026/11/slug")
    assert not wire.needs_discovery and gov.needs_discovery
    assert gov.domain == "gov.example"
    with pytest.raises(AttributeError):
        wire.name = "other"


@pytest.mark.parametrize("text, field, words", [
    ("[[source]]\nname = 'a'\n", "url", "missing"),
    ("[[source]]\nname = 'a'\nurl = 'https://a.example/'\nfeedz = []\n", "feedz", "unknown key"),
    ("[[source]]\nname = 'a'\nurl = 'https://a.example/'\narticle_pattern = '(['\n", "article_pattern", "regular expression"),
    ("[[source]]\nname = 'A b'\nurl = 'https://a.example/'\n", "name", "a-z"),
    ("[[source]]\nname = 'a'\nurl = 'ftp://a.example/'\n", "url", "http"),
    ("[[source]]\nname = 'a'\nurl = 'https://a.example/'\nfeeds = ['/feed']\n", "feeds", "absolute"),
    ("[[source]]\nname = 'a'\nurl = 'https://a.example/'\nevery = 'often'\n", "every", "duration"),
    ("[[source]]\nname = 'a'\nurl = 'https://a.example/'\n[[source]]\nname = 'a'\nurl = 'https://b.example/'\n",
     "name", "duplicate"),
])
def test_bad_sources_name_the_field(text, field, words):
    with pytest.raises(SourcesError) as info:
        parse_sources(text, path="s.toml")
    msg = str(info.value)
    assert info.value.field == field
    assert f"field {field!r}" in msg and "s.toml" in msg and words in msg


def test_toml_syntax_error_names_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[[source]\nname = ", encoding="utf-8")
    with pytest.raises(SourcesError, match="bad.toml.*not valid TOML"):
        load_sources(p)


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(SourcesError, match="file not found.*--sources"):
        load_sources(tmp_path / "nope.toml")


def test_env_variable_replaces_bundled(tmp_path, monkeypatch):
    p = tmp_path / "s.toml"
    p.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("MONITOR_SOURCES", str(p))
    assert [s.name for s in load_sources()] == ["wire", "gov"]


def test_select_by_name_and_tag():
    sources = parse_sources(GOOD)
    assert [s.name for s in select_sources(sources, tags=["kz"])] == ["wire"]
    assert [s.name for s in select_sources(sources, names=["gov"])] == ["gov"]
    with pytest.raises(SourcesError, match="unknown source 'nope'.*wire, gov"):
        select_sources(sources, names=["nope"])


def test_bundled_catalogue_is_valid():
    sources = load_sources()
    assert sources and len({s.name for s in sources}) == len(sources)


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("2h", 7200), ("1d", 86400), (" 45 s", 45)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_one_duration_reading_for_sources_schedule_and_queries():
    from monitor.durations import duration_seconds

    assert duration_seconds("2W") == parse_duration("2w") == 1_209_600
    assert duration_seconds("0h") == 0 and duration_seconds("soon") is None and duration_seconds(None) is None
    for bad, message in [("0m", "longer than zero"), ("1y", "not a duration"), ("", "not a duration")]:
        with pytest.raises(ValueError, match=message):
            parse_duration(bad)


def test_one_toml_writer_round_trips_sources_and_plain_entries():
    import dataclasses

    from monitor.sources.render import render_sources, source_to_toml, sources_toml

    wire, gov = parse_sources(GOOD)
    off = dataclasses.replace(gov, enabled=False, description='Ministry "news" – ünïcode')
    assert parse_sources(render_sources([wire, off], "toml")) == [wire, off]
    assert "enabled = false" in source_to_toml(off) and "enabled" not in source_to_toml(wire)
    entries = [{"name": "a", "url": "https://a.example/", "sitemaps": ["https://a.example/s.xml"]},
               {"name": "b", "url": "https://b.example/", "enabled": False}]
    text = sources_toml(entries)
    assert text.endswith("\n\n[[source]]\nname = \"b\"\nurl = \"https://b.example/\"\nenabled = false\n")
    assert [(s.name, s.sitemaps, s.enabled) for s in parse_sources(text)] == [
        ("a", ("https://a.example/s.xml",), True), ("b", (), False)]
