"""Ingester throughput: articles/s from Redis into SQLite, against ``Writer.write_batch`` alone.

Baseline (same run, same records): the records written straight into a fresh database with
``Writer.write_batch`` in batches of the same size, as a local crawl's StoragePipeline does.  Then the
same records pushed as JSON messages to a throw-away redis-server and drained by ``monitor.distributed.ingester``
(``Ingester.run(until_empty=True)``) into another fresh database.  The ratio is the cost of the Redis hop
(JSON, LMOVE, acknowledgement, known-URL set).

Usage: ``python benchmarks/ingest.py [--articles 2000] [--batch-size 200]`` (needs ``redis-server``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.redis_server import RedisServer  # noqa: E402


def records(n: int):
    from monitor.store.records import ArticleRecord
    from tests.support.distributed_site import article_text

    out = []
    for i in range(n):
        title, paras = article_text(i)
        url = f"https://bench.example.kz/news/{i}.html"
        out.append(ArticleRecord(url=url, source="bench", title=title, text="\n".join(paras * 3), language="en",
                                 variants=[url + "?utm_source=rss"], extra={"hreflang": [], "via": "sitemap"}))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="ingester throughput against Writer.write_batch")
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=200)
    args = ap.parse_args(argv)

    from monitor.distributed.ingester import Ingester
    from monitor.distributed.protocol import record_to_json
    from monitor.store.db import open_writer

    recs = records(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        from monitor.topics import load_topics

        store = open_writer(tmp / "direct.db")
        store.set_topics(load_topics(None))       # the ingester tags with the bundled topics too
        t0 = time.perf_counter()
        for i in range(0, len(recs), args.batch_size):
            store.write_batch(recs[i:i + args.batch_size])
        direct = time.perf_counter() - t0
        n_direct = store.count()
        store.close()

        with RedisServer(tmp / "redis") as server:
            client = server.client()
            pipe = client.pipeline(transaction=False)
            for rec in records(args.articles):
                pipe.lpush("monitor:items", json.dumps({"v": 1, "type": "article", "run": "bench@1", "crawl": "bench",
                                                        "worker": "w", "spider": "bench", "at": "2026-01-01T00:00:00",
                                                        "record": record_to_json(rec)}))
            pipe.execute()
            ing = Ingester(server.url, tmp / "redis.db", batch_size=args.batch_size, echo=lambda m: None)
            t0 = time.perf_counter()
            summary = ing.run(until_empty=True)
            redis_s = time.perf_counter() - t0
            n_redis = ing.storage.count()
            ing.close()
            client.close()

    print(f"{args.articles} articles, batches of {args.batch_size}")
    print(f"Writer.write_batch directly  : {direct:6.2f} s  {n_direct / direct:7.1f} articles/s (baseline)")
    print(f"Redis -> monitor.distributed.ingester      : {redis_s:6.2f} s  {n_redis / redis_s:7.1f} articles/s  "
          f"ratio {(n_redis / redis_s) / (n_direct / direct):.2f}  ({summary.statuses})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
