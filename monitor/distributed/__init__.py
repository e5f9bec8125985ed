"""Distributed crawls through Redis: ``workers`` (scrapy-redis workers: ``RedisAddon``, ``run_worker``),
``ingester`` (the single Redis -> SQLite writer, ``monitor ingest``) and ``protocol`` (what both agree on:
key names, message version, records as JSON)."""
