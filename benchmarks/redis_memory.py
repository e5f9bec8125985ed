"""What a distributed crawl keeps in Redis, measured with ``INFO memory`` on a throw-away redis-server.

- fingerprints: N request fingerprints added to one set exactly as scrapy-redis's ``RFPDupeFilter`` does
  (``SADD key sha1-hex``), default N = 1,000,000;
- queue: M queued article requests (scrapy-redis priority queue: pickled ``Request.to_dict`` in a sorted set);
- known URLs: M article URLs in the ``{prefix}:known`` hash (URL -> "ARTICLE_ID FETCHED_AT").

Usage: ``python benchmarks/redis_memory.py [--fingerprints N] [--requests M]`` (needs ``redis-server``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.redis_server import RedisServer  # noqa: E402


def used(client) -> int:
    return int(client.info("memory")["used_memory"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fingerprints", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=100_000)
    args = ap.parse_args(argv)

    from scrapy import Request
    from scrapy_redis import picklecompat
    from scrapy_redis.dupefilter import RFPDupeFilter

    results = {}
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        r = server.client()
        df = RFPDupeFilter(r, key="bench:dupefilter")
        base = used(r)
        pipe = r.pipeline(transaction=False)
        for i in range(args.fingerprints):
            pipe.sadd("bench:dupefilter", df.request_fingerprint(Request(f"https://news.example.kz/2026/01/{i}/story-{i}.html")))
            if i % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()
        fp_bytes = used(r) - base
        assert r.scard("bench:dupefilter") == args.fingerprints
        results["fingerprints"] = {"n": args.fingerprints, "bytes": fp_bytes,
                                   "bytes_each": round(fp_bytes / args.fingerprints, 1),
                                   "MiB_per_million": round(fp_bytes / args.fingerprints * 1e6 / 2**20, 1)}

        # queued requests: the shape NewsSpider._request gives an article request
        base = used(r)
        for i in range(args.requests):
            d = {"url": f"https://news.example.kz/2026/01/{i}/story-{i}.html", "callback": "parse_article",
                 "errback": "on_error", "headers": {}, "method": "GET", "body": b"", "cookies": {},
                 "meta": {"role": "article"}, "encoding": "utf-8", "priority": 0, "dont_filter": False,
                 "flags": [], "cb_kwargs": {"via": "sitemap", "hints": {"lastmod": "2026-01-01"},
                                            "require_signals": False}}
            pipe.zadd("bench:requests", {picklecompat.dumps(d): 0})
            if i % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()
        q_bytes = used(r) - base
        results["queue"] = {"n": args.requests, "bytes_each": round(q_bytes / args.requests, 1),
                            "MiB_per_million": round(q_bytes / args.requests * 1e6 / 2**20, 1)}

        base = used(r)
        for i in range(args.requests):
            pipe.hset("bench:known", f"https://news.example.kz/2026/01/{i}/story-{i}.html",
                      f"{1_000_000 + i} 2026-01-01T00:00:00+00:00")
            if i % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()
        k_bytes = used(r) - base
        results["known_urls"] = {"n": args.requests, "bytes_each": round(k_bytes / args.requests, 1),
                                 "MiB_per_million": round(k_bytes / args.requests * 1e6 / 2**20, 1)}
        results["redis_version"] = r.info("server")["redis_version"]
        r.close()
    for name, v in results.items():
        print(f"{name}: {v}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
