"""monitor.config: the one way settings are read outside a Scrapy crawler (defaults, -s overrides, types)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from monitor import settings
from monitor.config import parse_overrides, setting
from monitor.errors import UsageError


def test_default_comes_from_the_settings_module():
    assert setting("MONITOR_CHECK_TIMEOUT") == settings.MONITOR_CHECK_TIMEOUT
    assert setting("USER_AGENT") == settings.USER_AGENT
    assert setting("MONITOR_CHECK_TIMEOUT", {"OTHER": "1"}) == settings.MONITOR_CHECK_TIMEOUT
    with pytest.raises(AttributeError):
        setting("MONITOR_NO_SUCH_THING")


@pytest.mark.parametrize("name, raw, expected", [
    ("MONITOR_HEALTH_MAX_FAILURES", "7", 7),
    ("MONITOR_HEALTH_EXPECTED_NEW", "2.5", 2.5),
    ("MONITOR_POLL_ADAPTIVE", "off", False),
    ("MONITOR_POLL_ADAPTIVE", "Yes", True),
    ("MONITOR_POLL_ADAPTIVE", False, False),
    ("MONITOR_SCHEDULE_EVERY", "2h", "2h"),
])
def test_override_is_cast_to_the_type_of_the_default(name, raw, expected):
    value = setting(name, {name: raw})
    assert value == expected and type(value) is type(expected)


def test_override_of_the_wrong_type_is_a_usage_error():
    with pytest.raises(UsageError, match="MONITOR_HEALTH_MAX_FAILURES takes a number"):
        setting("MONITOR_HEALTH_MAX_FAILURES", {"MONITOR_HEALTH_MAX_FAILURES": "many"})


def test_parse_overrides_checks_names_and_types():
    assert parse_overrides(["MONITOR_HEALTH_MAX_FAILURES=4", "MONITOR_POLL_ADAPTIVE=false", "FOO_BAR=x y"]) == {
        "MONITOR_HEALTH_MAX_FAILURES": "4", "MONITOR_POLL_ADAPTIVE": "false", "FOO_BAR": "x y"}
    assert parse_overrides(None) == {}
    for pair, message in [("no equals sign", "NAME=VALUE"), ("lower=1", "NAME=VALUE"),
                          ("MONITOR_NO_SUCH_THING=1", "no such media-monitor setting"),
                          ("MONITOR_HEALTH_MAX_FAILURES=2.5", "whole number"),
                          ("MONITOR_HEALTH_EXPECTED_NEW=lots", "takes a number"),
                          ("MONITOR_POLL_ADAPTIVE=maybe", "true or false")]:
        with pytest.raises(UsageError, match=message):
            parse_overrides([pair])


def test_parse_overrides_knows_other_defaults_only_when_given():
    scrapy_like = SimpleNamespace(DOWNLOAD_DELAY=0.0, REACTOR_THREADPOOL_MAXSIZE=10)
    # a Scrapy setting monitor/settings.py does not set: not known without Scrapy's defaults, so not checked
    assert parse_overrides(["REACTOR_THREADPOOL_MAXSIZE=five"]) == {"REACTOR_THREADPOOL_MAXSIZE": "five"}
    assert parse_overrides(["REACTOR_THREADPOOL_MAXSIZE=5"], scrapy_like) == {"REACTOR_THREADPOOL_MAXSIZE": "5"}
    with pytest.raises(UsageError, match="REACTOR_THREADPOOL_MAXSIZE takes a whole number"):
        parse_overrides(["REACTOR_THREADPOOL_MAXSIZE=five"], scrapy_like)
    with pytest.raises(UsageError, match="DOWNLOAD_DELAY takes a number"):   # monitor/settings.py's default wins
        parse_overrides(["DOWNLOAD_DELAY=fast"], scrapy_like)
