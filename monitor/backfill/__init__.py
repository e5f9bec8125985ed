"""Archive backfill: WARC files, Common Crawl News and the Wayback Machine into the same database as a crawl.

- ``warcfile``: read WARC records (FastWARC) from a local file or an http(s) URL, from an offset, skipping
  corrupt records; refuse a file that is not a WARC.
- ``select``: which records to keep (hosts of the chosen sources, HTML responses) and the page items they become.
- ``run``: the backfill run: records -> the crawl's extraction pool -> ``Writer`` with per-file checkpoints.
- ``cdx``: Wayback Machine captures through CDX indexes (cdx-toolkit) and CC-NEWS monthly file lists.

No Scrapy here (docs/backfill.md).
"""
