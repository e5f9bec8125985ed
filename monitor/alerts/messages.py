"""What an alert says: one story, or a digest of many, as webhook JSON and as an e-mail.

An item is an article row of ``monitor.store.alerts`` (id, url, source, language, title, date, text, topics,
story) with ``members`` (the story's articles, sources and languages now).  Page text is a stranger's: in the
webhook's Slack ``text`` the characters Slack reads as markup (``& < >``) are escaped and links are http(s)
only; in e-mail it is plain text (no HTML part) with control characters dropped, and the subject is one line.
Pure functions, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import quote, urlsplit

from monitor import __version__

DIGEST_MAX_STORIES = 100          # a digest with more is split in several messages
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class Message:
    """One message for one channel: the stories it shows and the ``alerts_sent`` ids it delivers."""

    rule: str
    items: list[dict]
    digest: bool
    alert_ids: list[int] = field(default_factory=list)
    description: str = ""


def batch(rule: str, items: list[dict], threshold: int, *, description: str = "") -> list[Message]:
    """One message per story, or, when there are more than ``threshold``, digests of up to
    DIGEST_MAX_STORIES stories."""
    if len(items) <= threshold:
        return [Message(rule, [it], False, [it["alert_id"]] if it.get("alert_id") else [], description)
                for it in items]
    out = []
    for i in range(0, len(items), DIGEST_MAX_STORIES):
        chunk = items[i:i + DIGEST_MAX_STORIES]
        out.append(Message(rule, chunk, True, [it["alert_id"] for it in chunk if it.get("alert_id")], description))
    return out


def _one_line(text) -> str:
    return " ".join(_CONTROL.sub(" ", str(text or "")).split())


def _summary(item: dict, max_chars: int = 300) -> str:
    text = _one_line(item.get("description") or "") or _one_line((item.get("text") or "")[:max_chars * 3])
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] + " …"
    return text


def _safe_url(url) -> str | None:
    try:
        if url and urlsplit(url).scheme.lower() in ("http", "https"):
            return quote(url, safe="!#$%&'*+,/:;=?@[]~-._")
    except ValueError:
        pass
    return None


def _slack(text) -> str:
    """Text for a Slack message: & < > escaped (Slack's only markup characters in plain text), one line."""
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(item: dict) -> str:
    return _one_line(item.get("title")) or _summary(item, 90) or "(no title)"


def _date(item: dict) -> str:
    return f"{item['date'][:16]} UTC" if item.get("date") else ""


def _extent(item: dict) -> str:
    """'3 articles from 2 sources in en, ru' when the story has more than this article."""
    m = item.get("members") or {}
    n = m.get("articles", 1)
    if n <= 1:
        return ""
    out = f"{n} articles from {len(m.get('sources', []))} source{'s' if len(m.get('sources', [])) != 1 else ''}"
    langs = m.get("languages") or []
    return out + (f" in {', '.join(langs)}" if len(langs) > 1 else "")


def _meta(item: dict) -> str:
    parts = [_one_line(item.get("source")), _one_line(item.get("language") or "?"), _date(item), _extent(item)]
    return " · ".join(p for p in parts if p)


def _link_slack(item: dict) -> str:
    url = _safe_url(item.get("url"))
    title = _slack(_title(item)).replace("|", "¦")
    return f"<{url}|{title}>" if url else title


def slack_text(msg: Message) -> str:
    head = f"*media-monitor · {_slack(msg.rule)}*"
    if not msg.digest:
        item = msg.items[0]
        lines = [f"{head}: {_link_slack(item)}", _slack(_meta(item))]
        summary = _summary(item)
        if summary:
            lines.append("> " + _slack(summary))
        return "\n".join(lines)
    lines = [f"{head}: {len(msg.items)} new stories"]
    lines += [f"• {_link_slack(it)} — {_slack(_meta(it))}" for it in msg.items]
    return "\n".join(lines)


def story_fields(item: dict) -> dict:
    m = item.get("members") or {}
    return {"story": item.get("story"), "article_id": item.get("id"), "title": _title(item),
            "url": _safe_url(item.get("url")) and item.get("url"), "source": item.get("source"),
            "language": item.get("language"), "date": item.get("date"), "summary": _summary(item),
            "topics": list(item.get("topics") or []), "articles": m.get("articles", 1),
            "sources": m.get("sources", [item.get("source")]), "languages": m.get("languages", [])}


def webhook_payload(msg: Message) -> dict:
    """The JSON body: ``text`` for Slack (and Mattermost, Rocket.Chat, Teams workflows ...), structured fields
    for any other receiver."""
    return {"text": slack_text(msg), "rule": msg.rule, "description": msg.description, "digest": msg.digest,
            "count": len(msg.items), "stories": [story_fields(it) for it in msg.items],
            "generator": f"media-monitor {__version__}"}


def email_subject(msg: Message) -> str:
    if msg.digest:
        return f"[media-monitor] {msg.rule}: {len(msg.items)} new stories"
    subject = f"[media-monitor] {msg.rule}: {_title(msg.items[0])}"
    return subject if len(subject) <= 150 else subject[:149].rsplit(" ", 1)[0] + " …"


def email_body(msg: Message) -> str:
    lines = [f"New for alert rule {msg.rule}" + (f" ({msg.description})" if msg.description else "") + ":", ""]
    for i, it in enumerate(msg.items, 1):
        lines.append(f"{i}. {_title(it)}")
        lines.append(f"   {_meta(it)}")
        url = _safe_url(it.get("url"))
        if url:
            lines.append(f"   {url}")
        summary = _summary(it)
        if summary:
            lines.append(f"   {summary}")
        if it.get("topics"):
            lines.append(f"   topics: {', '.join(_one_line(t) for t in it['topics'])}")
        lines.append("")
    lines += ["-- ", f"media-monitor {__version__}, alert rule {msg.rule}. Articles belong to their publishers."]
    return "\n".join(lines) + "\n"


def email_message(msg: Message, *, sender: str, to) -> EmailMessage:
    em = EmailMessage()
    em["Subject"] = email_subject(msg)
    em["From"] = sender
    em["To"] = ", ".join(to)
    em["Date"] = formatdate(localtime=False, usegmt=True)
    em["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    em["X-Media-Monitor-Rule"] = msg.rule
    em.set_content(email_body(msg))
    return em


def preview(msg: Message, channel) -> str:
    """What ``--dry-run`` prints for one message."""
    kind = "digest of " if msg.digest else ""
    head = f"--- rule {msg.rule} -> channel {channel.name} ({channel.describe()}): {kind}{len(msg.items)} " \
           f"{'story' if len(msg.items) == 1 else 'stories'}"
    if channel.type == "email":
        return f"{head}\nSubject: {email_subject(msg)}\n\n{email_body(msg)}"
    return f"{head}\n{slack_text(msg)}\n"
