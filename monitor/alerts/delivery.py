"""``run_alerts``: what `monitor alert` and `monitor schedule --alert` do.

For each rule: the articles stored since its last run (``alert_state``; a first run looks back ``first_run``,
24h by default; ``since`` looks back further) that match its topic or query, sources and languages.  For each of
its channels, an article whose story (duplicate group joined with its language editions) was already alerted
there is folded, not sent again; the rest are recorded ``pending`` in ``alerts_sent`` together with the rule's
new cursor (one transaction), then sent: one message per story, or a digest when more than
``digest_threshold`` arrive at once.  Delivered rows become ``sent``; a failure is recorded (``failed``, with
the error) and sent again at the next run together with the new ones.  ``dry_run`` reads only: it prints the
messages and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.alerts.messages import Message, batch, preview
from monitor.alerts.rules import AlertsConfig, AlertsError
from monitor.clock import utcnow


@dataclass
class ChannelReport:
    rule: str
    channel: str
    new: int = 0             # stories matched for the first time
    retried: int = 0         # stories recorded earlier and not delivered then
    folded: int = 0          # articles whose story was already alerted (copies, editions)
    sent: int = 0            # stories delivered
    failed: int = 0          # stories not delivered (recorded: retried next run)
    messages: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self, dry_run: bool = False) -> str:
        stories = self.new + self.retried
        head = f"{self.rule} -> {self.channel}: "
        if not stories:
            return head + "nothing new" + (f" ({self.folded} folded into stories already alerted)" if self.folded else "")
        parts = [f"{stories} {'story' if stories == 1 else 'stories'}"
                 + (f" ({self.retried} retried)" if self.retried else "")]
        if self.folded:
            parts.append(f"{self.folded} folded into stories already alerted")
        if dry_run:
            parts.append(f"{self.messages} message(s) would be sent")
        else:
            parts.append(f"{self.sent} sent in {self.messages} message(s)" if not self.failed else
                         f"{self.sent} sent, {self.failed} failed: {self.errors[0]}")
        return head + "; ".join(parts)


@dataclass
class AlertsReport:
    channels: list[ChannelReport] = field(default_factory=list)
    dry_run: bool = False

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.channels)

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.channels)

    @property
    def exit_code(self) -> int:
        """0 when every alert was delivered (or there was nothing to send), 1 when one failed."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        folded = sum(c.folded for c in self.channels)
        rules = len({c.rule for c in self.channels})
        if self.dry_run:
            would = sum(c.new + c.retried for c in self.channels)
            return (f"Dry run: {would} {'story' if would == 1 else 'stories'} would be sent for {rules} rule(s); "
                    "nothing sent or recorded")
        text = f"Alerts: {self.sent} {'story' if self.sent == 1 else 'stories'} sent for {rules} rule(s)"
        if self.failed:
            text += f", {self.failed} failed (recorded: retried at the next run)"
        if folded:
            text += f", {folded} folded into stories already alerted"
        return text


def _since_ts(value: str | None, now: datetime) -> str | None:
    if not value:
        return None
    from monitor.query.inputs import parse_when

    return parse_when(value, now=now, option="--since")


def run_alerts(config: AlertsConfig, db_path=None, *, dry_run: bool = False, since: str | None = None,
               echo: Callable[[str], None] = print, progress: Callable[[str], None] | None = None,
               allow_private: bool | None = None, now: datetime | None = None,
               sender: Callable | None = None) -> AlertsReport:
    """Match, record and send (see module doc).  ``echo``: where ``dry_run`` prints the messages; ``progress``:
    one line per rule and channel; ``sender(channel, messages) -> errors`` replaces the real delivery (tests)."""
    from monitor.alerts.channels import send

    now = now or utcnow()
    since_ts = _since_ts(since, now)
    first_ts = (now - timedelta(seconds=config.first_run_seconds)).strftime("%Y-%m-%d %H:%M:%S") \
        if config.first_run_seconds else None
    sender = sender or (lambda ch, msgs: send(ch, msgs, allow=allow_private))
    report = AlertsReport(dry_run=dry_run)
    if dry_run:
        from monitor.store.db import reading

        with reading(db_path) as conn:
            _check_topics(config, conn)
            for rule in config.rules:
                report.channels += _rule(config, rule, conn, None, since_ts, first_ts, dry_run, echo, progress, sender)
        return report
    from monitor.store.alerts import AlertLog
    from monitor.store.db import open_writer

    with open_writer(db_path, create=False) as writer, _one_at_a_time(writer.path):
        _check_topics(config, writer.db)
        log = AlertLog(writer)
        for rule in config.rules:
            report.channels += _rule(config, rule, writer.db, log, since_ts, first_ts, dry_run, echo, progress,
                                     sender)
    return report


@contextmanager
def _one_at_a_time(db: Path):
    """One sending run per database (flock on DB.alert.lock): two at once (an overlapping cron job, a manual run
    beside `schedule --alert`) would both send the alerts waiting for a retry."""
    import fcntl

    from monitor.errors import UsageError

    path = db.with_name(db.name + ".alert.lock")
    try:
        fh = open(path, "a+")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UsageError(f"{path}: cannot be created ({exc.strerror}); it keeps two alert runs apart") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"{db}: another `monitor alert` is sending for this database ({path}); "
                             "its alerts are not sent twice: run again when it is done") from None
        yield
    finally:
        fh.close()


def _check_topics(config: AlertsConfig, conn) -> None:
    """A rule's topic must exist in the database (a typo would match nothing, silently)."""
    from monitor.store.alerts import known_topic_names, topic_known

    for rule in config.rules:
        if rule.topic and topic_known(conn, rule.topic) is False:
            raise AlertsError(f"no topic {rule.topic!r} in the database; its topics: "
                              f"{', '.join(known_topic_names(conn))}", path=config.path, kind="rule", name=rule.name,
                              field="topic")


def _rule(config, rule, conn, log, since_ts, first_ts, dry_run, echo, progress, sender) -> list[ChannelReport]:
    from monitor.store import alerts as store

    upto = store.max_article_id(conn)
    cursor = store.rule_cursor(conn, rule.name)
    after = cursor if cursor is not None else upto
    look_back = since_ts if since_ts else (first_ts if cursor is None else None)
    matches = store.new_matches(conn, after_id=after, upto_id=upto, since=look_back, topic=rule.topic,
                                query=rule.query, sources=rule.sources, languages=rule.languages)
    plans: dict[str, tuple[ChannelReport, list[dict], list[dict]]] = {}
    for name in rule.channels:
        rep = ChannelReport(rule.name, name)
        done = store.alerted_stories(conn, rule.name, name)
        waiting = store.waiting_alerts(conn, rule.name, name)
        done |= {w["story"] for w in waiting}
        fresh = []
        for m in matches:
            if m["story"] in done:
                rep.folded += 1
                continue
            done.add(m["story"])
            fresh.append(dict(m))
        rep.new, rep.retried = len(fresh), len(waiting)
        plans[name] = (rep, waiting, fresh)
    if log is not None:
        ids = log.record(rule.name, {name: [(m["id"], m["story"]) for m in fresh]
                                     for name, (_rep, _w, fresh) in plans.items()}, upto)
        for name, (_rep, _w, fresh) in plans.items():
            for m, alert_id in zip(fresh, ids.get(name, [])):
                m["alert_id"] = alert_id
    reports = []
    for name, (rep, waiting, fresh) in plans.items():
        channel = config.channels[name]
        items = waiting + fresh
        for it in items:
            it["members"] = store.story_members(conn, it["story"])
        messages = batch(rule.name, items, config.digest_threshold, description=rule.describe())
        rep.messages = len(messages)
        if dry_run:
            for msg in messages:
                echo(preview(msg, channel))
        elif messages:
            _deliver(channel, messages, rep, log, sender)
        if progress:
            progress(rep.line(dry_run))
        reports.append(rep)
    return reports


def _deliver(channel, messages: list[Message], rep: ChannelReport, log, sender) -> None:
    try:
        errors = sender(channel, messages)
    except Exception as exc:  # noqa: BLE001 - a delivery bug must not lose the record: everything is retried
        errors = [f"delivery failed: {type(exc).__name__}: {exc}"] * len(messages)
    for msg, error in zip(messages, errors):
        if error is None:
            log.delivered(msg.alert_ids)
            rep.sent += len(msg.items)
        else:
            log.failed(msg.alert_ids, error)
            rep.failed += len(msg.items)
            rep.errors.append(error)


def scheduled_alerts(alerts_path, db_path, overrides: dict | None, log: Callable[[str], None]) -> Callable:
    """For `monitor schedule --alert`: the alerts file is checked now (a bad file stops the start, exit 2) and
    read again after each crawl (edits apply without a restart; a file broken meanwhile is logged and the last
    good one used).  Returns ``after_run(result)``, which sends the alerts after a crawl that ran and logs a
    line per rule and channel and the summary; a failed delivery is logged and retried after the next crawl."""
    from monitor.alerts.channels import allow_private
    from monitor.alerts.rules import load_alerts

    allow = allow_private(overrides)
    state = {"config": load_alerts(alerts_path, allow_private=allow)}

    def after_run(result) -> None:
        if getattr(result, "crawl_id", None) is None:
            return
        try:
            state["config"] = load_alerts(alerts_path, allow_private=allow)
        except AlertsError as exc:
            log(f"alerts file not reloaded, keeping the previous one: {exc}")
        try:
            report = run_alerts(state["config"], db_path, progress=lambda line: log(f"alert: {line}"),
                                allow_private=allow)
        except Exception as exc:  # noqa: BLE001 - alerts must not stop the crawls; recorded rows are retried
            log(f"alerts not sent: {exc}")
            return
        log(report.summary())

    return after_run
