"""Delivery: a webhook POST or an e-mail over SMTP.  Each ``send_*`` returns one error line per message (None:
delivered); nothing raises for a delivery problem, so one bad channel cannot stop the others.

Webhooks pass the crawl's address policy (``monitor.crawl.addresses``, docs/security.md): the host is
resolved and refused when it is loopback, private, link-local ... unless ``MONITOR_ALLOW_PRIVATE_ADDRESSES``
(the cloud metadata address never); redirects are not followed (a redirect could lead anywhere).  SMTP hosts
are not held to it: the mail relay is usually on the machine or the local network, named by the operator;
only the metadata address is refused.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request

from monitor import __version__
from monitor.alerts.messages import Message, email_message, webhook_payload
from monitor.crawl.addresses import blocked_reason, is_metadata, parse_host_address, resolve_blocking


def allow_private(overrides: dict | None = None) -> bool:
    """MONITOR_ALLOW_PRIVATE_ADDRESSES from ``-s`` overrides, else from the environment."""
    from monitor.config import env_setting, setting

    if overrides and "MONITOR_ALLOW_PRIVATE_ADDRESSES" in overrides:
        return bool(setting("MONITOR_ALLOW_PRIVATE_ADDRESSES", overrides))
    return bool(env_setting("MONITOR_ALLOW_PRIVATE_ADDRESSES"))


def address_refusal(host: str, *, resolve: bool = True, metadata_only: bool = False,
                    allow: bool | None = None) -> str | None:
    """Why an alert may not be sent to ``host`` (None: it may).  ``resolve``: look the name up (else only an
    address literal is judged); ``metadata_only``: refuse only the metadata service; ``allow``: the
    MONITOR_ALLOW_PRIVATE_ADDRESSES value (None: read it)."""
    literal = parse_host_address(host)
    addresses = [literal] if literal is not None else (resolve_blocking(host) if resolve else [])
    for a in addresses:
        if is_metadata(a):
            return f"{host} ({a}) is a cloud metadata address (never allowed)"
    if metadata_only:
        return None
    if allow is None:
        allow = allow_private()
    if allow:
        return None
    for a in addresses:
        why = blocked_reason(a)
        if why:
            shown = host if host.strip("[]") == str(a) else f"{host} ({a})"
            return (f"{shown} is a {why} address; webhooks may not reach internal addresses unless "
                    "MONITOR_ALLOW_PRIVATE_ADDRESSES=true (docs/alerts.md)")
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):   # noqa: D102 - refuse every redirect
        return None


def send_webhook(channel, messages: list[Message], *, allow: bool | None = None, environ=None) -> list[str | None]:
    """POST each message's JSON to the channel's URL; 2xx is delivered."""
    import os
    from urllib.parse import urlsplit

    try:
        url = channel.target(environ if environ is not None else os.environ)
    except Exception as exc:   # noqa: BLE001 - an unset url_env: every message fails, recorded for a retry
        return [str(exc)] * len(messages)
    host = urlsplit(url).hostname or ""
    opener = urllib.request.build_opener(_NoRedirect())
    errors: list[str | None] = []
    for msg in messages:
        why = address_refusal(host, allow=allow)
        if why:
            errors.append(f"not sent: {why}")
            continue
        body = json.dumps(webhook_payload(msg), ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": f"media-monitor/{__version__}"})
        try:
            with opener.open(req, timeout=channel.timeout) as resp:
                resp.read(65536)
            errors.append(None)
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                detail = exc.read(300).decode("utf-8", "replace").strip()
            except OSError:
                pass
            what = f"redirect to {exc.headers.get('Location')} not followed" if 300 <= exc.code < 400 else ""
            errors.append(f"HTTP {exc.code}" + (f": {what or ' '.join(detail.split())[:200]}" if what or detail else ""))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            errors.append(f"cannot reach {host}: {reason}")
    return errors


def send_email(channel, messages: list[Message], *, environ=None) -> list[str | None]:
    """Send each message over one SMTP connection (STARTTLS, SSL or plain; login from the environment)."""
    import os

    if not messages:
        return []
    refused = address_refusal(channel.host, metadata_only=True)
    if refused:
        return [f"not sent: {refused}"] * len(messages)
    try:
        login = channel.credentials(environ if environ is not None else os.environ)
    except Exception as exc:   # noqa: BLE001 - an unset variable: recorded for a retry
        return [str(exc)] * len(messages)
    context = ssl.create_default_context(cafile=channel.ca_file) if channel.security != "none" else None
    where = f"{channel.host}:{channel.port}"
    try:
        if channel.security == "ssl":
            smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout, context=context)
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return [f"cannot connect to SMTP server {where}: {exc}"] * len(messages)
    errors: list[str | None] = []
    try:
        smtp.ehlo()
        if channel.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if login:
            _login(smtp, *login)
        for msg in messages:
            try:
                refused_to = smtp.send_message(email_message(msg, sender=channel.sender, to=channel.to))
                errors.append(f"refused recipients: {', '.join(refused_to)}" if refused_to else None)
            except smtplib.SMTPRecipientsRefused as exc:
                errors.append(f"SMTP server {where} refused every recipient: {', '.join(exc.recipients)}")
            except smtplib.SMTPResponseException as exc:
                errors.append(f"SMTP server {where} refused the message: {exc.smtp_code} {_text(exc.smtp_error)}")
    except smtplib.SMTPAuthenticationError as exc:
        errors += [f"SMTP login at {where} failed: {exc.smtp_code} {_text(exc.smtp_error)}"] * (len(messages) - len(errors))
    except smtplib.SMTPNotSupportedError as exc:
        errors += [f"SMTP server {where}: {exc}"] * (len(messages) - len(errors))
    except (OSError, smtplib.SMTPException) as exc:   # ssl.SSLError is an OSError
        errors += [f"SMTP with {where} failed: {exc}"] * (len(messages) - len(errors))
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return errors


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """One login attempt: PLAIN when the server offers it (inside TLS), else smtplib's own choice.  smtplib's
    ``login`` tries every mechanism in turn after a refusal, which costs a lockout counter (or a hang) per try."""
    mechanisms = (smtp.esmtp_features.get("auth") or "").upper().split()
    if "PLAIN" not in mechanisms:
        smtp.login(user, password)
        return
    smtp.user, smtp.password = user, password
    smtp.auth("PLAIN", smtp.auth_plain)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def send(channel, messages: list[Message], *, allow: bool | None = None) -> list[str | None]:
    if channel.type == "webhook":
        return send_webhook(channel, messages, allow=allow)
    return send_email(channel, messages)
