"""Alerts: tell someone when a story appears (``monitor alert``, ``monitor schedule --alert``; docs/alerts.md).

- ``rules``: the alerts file (``alerts.toml``: ``[[rule]]``, ``[[channel]]``, ``[alerts]``) -> frozen ``Rule``,
  ``WebhookChannel``, ``EmailChannel``; ``AlertsError`` names the file, the rule or channel and the field.
- ``messages``: what is sent: one story or a digest of many, as Slack-compatible webhook JSON or an e-mail.
- ``channels``: delivery: an HTTP POST (the crawl's private-address policy) or SMTP (STARTTLS / SSL, login
  from environment variables).
- ``delivery``: ``run_alerts``: match the new articles, fold copies and editions into their story, record
  each (rule, channel, story) in ``alerts_sent`` (``monitor.store.alerts``), send, retry what failed.

No imports here: submodules stay cheap to import.
"""
