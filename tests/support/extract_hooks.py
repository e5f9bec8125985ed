"""Test-only extraction functions for ``ExtractConfig(function=...)`` (see ``monitor/crawl/extractpool.py``),
or for a whole crawl through ``tests.support.hooked_extraction.crawl_args``.

``hooked`` behaves like ``monitor.extract.extract_article`` except on pages whose body holds a marker:

- ``HOOK:sleep``: sleeps 60 s in Python (the worker's SIGALRM stops it: soft time cap);
- ``HOOK:hang``: blocks SIGALRM, then sleeps 60 s (like a worker stuck in C code: it must be killed);
- ``HOOK:segv``: the worker kills itself with SIGSEGV (like a page that crashes lxml);
- ``HOOK:exit``: the worker calls ``os._exit(3)``.

Never use it with ``MONITOR_EXTRACT_WORKERS=1``: the crash markers would end the crawl process itself.
"""

from __future__ import annotations

import os
import signal
import time

from monitor.extract import extract_article


def hooked(body, url, **kwargs):
    data = body if isinstance(body, bytes) else str(body).encode()
    if b"HOOK:sleep" in data:
        time.sleep(60)
    elif b"HOOK:hang" in data:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    elif b"HOOK:segv" in data:
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(10)
    elif b"HOOK:exit" in data:
        os._exit(3)
    return extract_article(body, url, **kwargs)


def cheap(body, url, **kwargs):
    """A near-free stand-in for extract_article (benchmarks: the crawl process's own ceiling in pages/s).

    The text is the page's ``<p>`` contents (tags stripped), the title its ``<title>``; no trafilatura."""
    import re
    from html import unescape

    from monitor.extract import Article, PageSignals

    html = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    title = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
    paras = [unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in re.findall(r"<p[^>]*>(.*?)</p>", html, re.S | re.I)]
    text = "\n".join(p for p in paras if p)
    return Article(url=url, title=unescape(title.group(1)).strip() if title else None, author=None, published=None,
                   language=None, text=text, word_count=len(text.split()), canonical_url=None, description=None,
                   image=None, signals=PageSignals())
