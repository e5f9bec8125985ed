"""Stage 4, deduplication: ``urls`` (canonical URLs and their variants) and ``fingerprints`` (content hash,
MinHash signatures and LSH band keys for near duplicates).  Pure: no Scrapy, no SQLite."""
