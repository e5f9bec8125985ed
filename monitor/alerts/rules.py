"""The alerts file: rules (what to watch) and channels (where to send it).

``alerts.toml`` (``--alerts FILE``, else ``$MONITOR_ALERTS``, else ``./alerts.toml``)::

    [alerts]                      # optional
    digest_threshold = 3          # more new stories than this for one rule and channel in one run: one digest
    first_run = "24h"             # a rule's first run looks back this far (articles stored since then)

    [[channel]]
    name = "newsroom"
    type = "webhook"              # a JSON POST with a Slack-compatible "text" field
    url_env = "NEWSROOM_HOOK"     # or url = "https://hooks.example.org/..."

    [[channel]]
    name = "desk"
    type = "email"
    host = "smtp.example.org"
    security = "starttls"         # starttls (port 587), ssl (465) or none (25, no login)
    username_env = "MONITOR_SMTP_USER"        # login: the NAMES of environment variables, never the password
    password_env = "MONITOR_SMTP_PASSWORD"
    from = "media-monitor <monitor@example.org>"
    to = ["desk@example.org"]

    [[rule]]
    name = "kz-us"
    topic = "kz-us"               # a topic of the topics file, or query = 'FTS5 query'
    sources = ["astanatimes"]     # optional
    languages = ["en", "ru"]      # optional
    channel = "newsroom"          # a channel name, or a list of them

Every mistake is one ``AlertsError`` (exit 2) naming the file, the rule or channel and the field.  Pure: no
network, no database (topic names are checked against the database by ``monitor.alerts.delivery``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from monitor.errors import UsageError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_DIGEST_THRESHOLD = 3
DEFAULT_FIRST_RUN = "24h"
MAX_TIMEOUT = 300
_SECRETS = ("password", "pass", "secret", "token", "username", "user", "login")


class AlertsError(UsageError):
    """An alerts file that cannot be used: ``FILE, rule 'x', field 'y': what is wrong``."""

    def __init__(self, message: str, *, path=None, kind: str | None = None, name=None, field: str | None = None):
        where = [str(path)] if path else []
        if kind:
            where.append(f"{kind} {name!r}" if name is not None else kind)
        if field:
            where.append(f"field {field!r}")
        super().__init__((", ".join(where) + ": " if where else "") + message)


@dataclass(frozen=True)
class WebhookChannel:
    name: str
    url: str | None = None          # None: read from url_env when sending
    url_env: str | None = None
    timeout: float = 10.0
    type: str = "webhook"

    def target(self, environ=os.environ) -> str:
        """The URL to POST to (from the file or the environment variable it names)."""
        if self.url:
            return self.url
        value = (environ.get(self.url_env or "") or "").strip()
        if not value:
            raise AlertsError(f"environment variable {self.url_env} is not set (it holds the webhook URL)",
                              kind="channel", name=self.name, field="url_env")
        return check_webhook_url(value, kind="channel", name=self.name, field="url_env", allow=True)  # sent: checked

    def describe(self) -> str:
        return f"webhook {_redact(self.url) if self.url else '$' + str(self.url_env)}"


@dataclass(frozen=True)
class EmailChannel:
    name: str
    host: str
    port: int
    security: str                   # starttls, ssl, none
    sender: str
    to: tuple[str, ...]
    username_env: str | None = None
    password_env: str | None = None
    ca_file: str | None = None
    timeout: float = 20.0
    type: str = "email"

    def credentials(self, environ=os.environ) -> tuple[str, str] | None:
        """(user, password) from the named environment variables; None when the channel has no login."""
        if not self.username_env:
            return None
        values = []
        for key in ("username_env", "password_env"):
            var = getattr(self, key)
            value = environ.get(var)
            if not value:
                raise AlertsError(f"environment variable {var} is not set (the SMTP login is read from it)",
                                  kind="channel", name=self.name, field=key)
            values.append(value)
        return values[0], values[1]

    def describe(self) -> str:
        return f"e-mail via {self.host}:{self.port} ({self.security}) to {', '.join(self.to)}"


Channel = WebhookChannel | EmailChannel


@dataclass(frozen=True)
class Rule:
    name: str
    channels: tuple[str, ...]
    topic: str | None = None
    query: str | None = None
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def describe(self) -> str:
        what = f"topic {self.topic}" if self.topic else f"query {self.query!r}"
        if self.sources:
            what += f", sources {', '.join(self.sources)}"
        if self.languages:
            what += f", languages {', '.join(self.languages)}"
        return what


@dataclass(frozen=True)
class AlertsConfig:
    path: Path | None
    rules: tuple[Rule, ...]
    channels: dict
    digest_threshold: int = DEFAULT_DIGEST_THRESHOLD
    first_run_seconds: int = 24 * 3600

    def rule_channels(self, rule: Rule) -> list[Channel]:
        return [self.channels[c] for c in rule.channels]


def resolve_alerts_path(path: str | os.PathLike | None = None) -> Path:
    """--alerts FILE, else $MONITOR_ALERTS, else ./alerts.toml."""
    return Path(path or os.environ.get("MONITOR_ALERTS") or "alerts.toml")


def _redact(url: str) -> str:
    """A webhook URL for messages: scheme, host and port only (the path of a Slack hook is its secret)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…" if parts.path not in ("", "/") else url
    except ValueError:
        return "(bad URL)"


def check_webhook_url(url, *, path=None, kind="channel", name=None, field="url", allow: bool | None = None) -> str:
    """An http(s) URL with a host, not on a metadata address; an internal address literal is refused unless
    MONITOR_ALLOW_PRIVATE_ADDRESSES (names are checked on their resolved address when sending)."""
    from monitor.alerts.channels import address_refusal

    err = lambda m: AlertsError(m, path=path, kind=kind, name=name, field=field)  # noqa: E731
    if not isinstance(url, str) or not url.strip():
        raise err("must be an http(s) URL")
    url = url.strip()
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise err(f"is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise err(f"{_redact(url)!r} is not an http(s) URL with a host")
    why = address_refusal(host, resolve=False, allow=allow)
    if why:
        raise err(why)
    return url


def _string(raw: dict, key: str, where: dict, *, required=False) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise AlertsError("is missing", **where, field=key)
        return None
    if not isinstance(value, str) or not value.strip():
        raise AlertsError(f"must be a non-empty string, got {value!r}", **where, field=key)
    return value.strip()


def _strings(raw: dict, key: str, where: dict) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise AlertsError("must be a string or a list of strings", **where, field=key)
    return tuple(dict.fromkeys(v.strip() for v in value))


def _number(raw: dict, key: str, where: dict, default, lo, hi):
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise AlertsError(f"must be a number from {lo} to {hi}, got {value!r}", **where, field=key)
    return value


def _unknown(raw: dict, known: tuple, where: dict) -> None:
    for key in raw:
        if key in known:
            continue
        if key.lower() in _SECRETS:
            raise AlertsError(f"secrets do not belong in the file: name the environment variable that holds it "
                              f"({key}_env = \"MONITOR_SMTP_{key.upper()}\")" if key in ("password", "username")
                              else "secrets do not belong in the file: put it in an environment variable",
                              **where, field=key)
        raise AlertsError(f"unknown key; known keys: {', '.join(known)}", **where, field=key)


def _env_name(raw: dict, key: str, where: dict) -> str | None:
    value = _string(raw, key, where)
    if value is not None and not ENV_NAME_RE.match(value):
        raise AlertsError(f"{value!r} is not an environment variable name (it names the variable, e.g. "
                          "MONITOR_SMTP_PASSWORD; the value itself never goes in the file)", **where, field=key)
    return value


WEBHOOK_KEYS = ("name", "type", "url", "url_env", "timeout")
EMAIL_KEYS = ("name", "type", "host", "port", "security", "from", "to", "username_env", "password_env", "ca_file",
              "timeout")
RULE_KEYS = ("name", "topic", "query", "sources", "languages", "channel")


def _channel(raw, path, index: int, allow: bool | None = None) -> Channel:
    if not isinstance(raw, dict):
        raise AlertsError("each [[channel]] must be a table", path=path)
    label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{index + 1}"
    where = {"path": path, "kind": "channel", "name": label}
    name = _string(raw, "name", where, required=True)
    if not NAME_RE.match(name):
        raise AlertsError(f"{name!r} may only contain a-z, 0-9, '_' and '-'", **where, field="name")
    kind = _string(raw, "type", where, required=True)
    timeout = float(_number(raw, "timeout", where, 10 if kind == "webhook" else 20, 1, MAX_TIMEOUT))
    if kind == "webhook":
        _unknown(raw, WEBHOOK_KEYS, where)
        url, url_env = raw.get("url"), _env_name(raw, "url_env", where)
        if (url is None) == (url_env is None):
            raise AlertsError("give either url or url_env (the name of an environment variable holding the URL)",
                              **where, field="url")
        if url is not None:
            url = check_webhook_url(url, **where, field="url", allow=allow)
        return WebhookChannel(name=name, url=url, url_env=url_env, timeout=timeout)
    if kind != "email":
        raise AlertsError(f"{kind!r} is not a channel type; use 'webhook' or 'email'", **where, field="type")
    _unknown(raw, EMAIL_KEYS, where)
    host = _string(raw, "host", where, required=True)
    from monitor.alerts.channels import address_refusal

    if address_refusal(host, resolve=False, metadata_only=True):
        raise AlertsError(f"{host} is a cloud metadata address", **where, field="host")
    security = (_string(raw, "security", where) or "starttls").lower()
    if security not in SECURITY_PORTS:
        raise AlertsError(f"{security!r}: use starttls, ssl or none", **where, field="security")
    port = int(_number(raw, "port", where, SECURITY_PORTS[security], 1, 65535))
    sender = _string(raw, "from", where, required=True)
    to = _strings(raw, "to", where)
    if not to:
        raise AlertsError("needs at least one address", **where, field="to")
    for address in (sender, *to):
        if "@" not in address or any(c in address for c in "\r\n"):
            raise AlertsError(f"{address!r} is not an e-mail address", **where, field="from" if address == sender else "to")
    user_env, pass_env = _env_name(raw, "username_env", where), _env_name(raw, "password_env", where)
    if bool(user_env) != bool(pass_env):
        raise AlertsError("give both username_env and password_env, or neither (no login)", **where,
                          field="password_env" if user_env else "username_env")
    if user_env and security == "none":
        raise AlertsError("a login needs security = 'starttls' or 'ssl' (the password would cross the network in "
                          "clear)", **where, field="security")
    ca_file = _string(raw, "ca_file", where)
    if ca_file is not None:
        ca = Path(ca_file).expanduser()
        if not ca.is_absolute() and path:
            ca = Path(path).parent / ca
        if not ca.is_file():
            raise AlertsError(f"{ca}: no such file", **where, field="ca_file")
        ca_file = str(ca)
    return EmailChannel(name=name, host=host, port=port, security=security, sender=sender, to=to,
                        username_env=user_env, password_env=pass_env, ca_file=ca_file, timeout=timeout)


def _rule(raw, path, index: int, channels: dict) -> Rule:
    if not isinstance(raw, dict):
        raise AlertsError("each [[rule]] must be a table", path=path)
    label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{index + 1}"
    where = {"path": path, "kind": "rule", "name": label}
    _unknown(raw, RULE_KEYS, where)
    name = _string(raw, "name", where, required=True)
    if not NAME_RE.match(name):
        raise AlertsError(f"{name!r} may only contain a-z, 0-9, '_' and '-'", **where, field="name")
    topic, query = _string(raw, "topic", where), _string(raw, "query", where)
    if (topic is None) == (query is None):
        raise AlertsError("give either a topic or a query (an FTS5 query, as for `monitor search`)", **where,
                          field="query" if topic else "topic")
    if topic is not None and not NAME_RE.match(topic):
        raise AlertsError(f"{topic!r} is not a topic name (a-z, 0-9, '_', '-')", **where, field="topic")
    if query is not None:
        from monitor.store.schema import fts_query_error

        message = fts_query_error(query)
        if message:
            raise AlertsError(f"{query!r} is not valid FTS5 syntax: {message} (quote phrases and hyphenated words "
                              "with double quotes; AND, OR, NOT must be upper case)", **where, field="query")
    languages = tuple(x.lower() for x in _strings(raw, "languages", where))
    for lang in languages:
        if not LANG_RE.match(lang):
            raise AlertsError(f"{lang!r} is not a language code (en, ru, kk, pt-br ...)", **where, field="languages")
    wanted = _strings(raw, "channel", where)
    if not wanted:
        raise AlertsError("is missing: name a [[channel]] (or a list of them)", **where, field="channel")
    for c in wanted:
        if c not in channels:
            known = ", ".join(channels) or "(none: add a [[channel]] table)"
            raise AlertsError(f"no channel {c!r}; channels in the file: {known}", **where, field="channel")
    return Rule(name=name, channels=wanted, topic=topic, query=query, sources=_strings(raw, "sources", where),
                languages=languages)


def parse_alerts(text: str, *, path=None, allow_private: bool | None = None) -> AlertsConfig:
    """Validate an alerts file's text; ``allow_private``: MONITOR_ALLOW_PRIVATE_ADDRESSES (None: read it)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AlertsError(f"is not valid TOML: {exc}", path=path) from None
    for key in data:
        if key not in ("alerts", "rule", "channel"):
            raise AlertsError(f"unknown top-level key {key!r}; write [[rule]], [[channel]] and an optional [alerts]",
                              path=path)
    settings = data.get("alerts", {})
    if not isinstance(settings, dict):
        raise AlertsError("[alerts] must be a table", path=path)
    where = {"path": path, "kind": "[alerts]"}
    _unknown(settings, ("digest_threshold", "first_run"), where)
    threshold = _number(settings, "digest_threshold", where, DEFAULT_DIGEST_THRESHOLD, 0, 10_000)
    if not isinstance(threshold, int):
        raise AlertsError(f"must be a whole number, got {threshold!r}", **where, field="digest_threshold")
    first_run = _string(settings, "first_run", where) or DEFAULT_FIRST_RUN
    from monitor.durations import duration_seconds

    try:
        first_seconds = duration_seconds(first_run)
    except ValueError as exc:
        raise AlertsError(str(exc), **where, field="first_run") from None
    if first_seconds is None:
        raise AlertsError(f"{first_run!r} is not a duration; write e.g. 24h, 7d, 0s", **where, field="first_run")
    raw_channels, raw_rules = data.get("channel", []), data.get("rule", [])
    for key, value in (("channel", raw_channels), ("rule", raw_rules)):
        if not isinstance(value, list):
            raise AlertsError(f"'{key}' must be an array of tables ([[{key}]])", path=path)
    channels: dict = {}
    for i, raw in enumerate(raw_channels):
        ch = _channel(raw, path, i, allow_private)
        if ch.name in channels:
            raise AlertsError("duplicate name; every channel needs its own", path=path, kind="channel", name=ch.name)
        channels[ch.name] = ch
    rules: dict[str, Rule] = {}
    for i, raw in enumerate(raw_rules):
        rule = _rule(raw, path, i, channels)
        if rule.name in rules:
            raise AlertsError("duplicate name; every rule needs its own", path=path, kind="rule", name=rule.name)
        rules[rule.name] = rule
    return AlertsConfig(path=Path(path) if path else None, rules=tuple(rules.values()), channels=channels,
                        digest_threshold=threshold, first_run_seconds=first_seconds)


def load_alerts(path: str | os.PathLike | None = None, *, allow_private: bool | None = None) -> AlertsConfig:
    """Read and validate the alerts file (``--alerts``, ``$MONITOR_ALERTS``, ``./alerts.toml``)."""
    p = resolve_alerts_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AlertsError("file not found (pass --alerts FILE or set $MONITOR_ALERTS; docs/alerts.md has an "
                          "example)", path=p) from None
    except IsADirectoryError:
        raise AlertsError("is a directory, not an alerts file", path=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertsError(f"cannot be read: {exc}", path=p) from None
    config = parse_alerts(text, path=p, allow_private=allow_private)
    if not config.rules:
        raise AlertsError("defines no [[rule]]; nothing to alert on", path=p)
    return config
