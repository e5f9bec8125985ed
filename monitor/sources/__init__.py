"""Stage 1, sources: what to watch.

``catalogue`` reads and validates the sources TOML into frozen ``Source`` records (``load_sources``,
``select_sources``); ``check``/``fetch``/``report`` are ``monitor sources check``; ``render`` writes tables and
``[[source]]`` TOML.  No Scrapy here.
"""
