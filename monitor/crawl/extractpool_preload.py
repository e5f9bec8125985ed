"""Imported once by the extraction pool's forkserver (``monitor.crawl.extractpool.PRELOAD``), never elsewhere.

Importing it extracts one small page, which loads what the first extraction would otherwise load in
every new worker (trafilatura's lazy parts, the py3langid model, datasketch/scipy for the MinHash
permutations: about 2.5 s together).  Workers are forked from the forkserver, so each starts warm and
shares these pages of memory copy-on-write.
"""

import signal

# Ctrl-C reaches the whole process group: the forkserver ignores SIGINT only once its preload is done, and
# a forkserver killed while warming up leaves the pool unable to start workers (the crawl stops gracefully)
signal.signal(signal.SIGINT, signal.SIG_IGN)

from monitor.crawl.extractpool import ExtractConfig, extract_page  # noqa: E402

_PAGE = ("<html lang='en'><head><title>Warm-up</title></head><body><article><h1>Warm-up</h1><p>"
         + "The extraction workers read this paragraph once before the crawl starts. " * 8
         + "</p></article></body></html>")

extract_page({"body": _PAGE.encode(), "url": "http://127.0.0.1/warm-up", "request_urls": ["http://127.0.0.1/warm-up"],
              "source": "warm-up", "content_type": "text/html; charset=utf-8"}, ExtractConfig(timeout=0))

import gc  # noqa: E402

gc.collect()
gc.freeze()   # workers' garbage collections then leave the preloaded objects (shared copy-on-write) alone
