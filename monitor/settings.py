"""Scrapy settings for media-monitor, and the one table of every ``MONITOR_*`` setting.

``scrapy.cfg`` points Scrapy here (``default = monitor.settings``); ``monitor crawl`` loads the same
module, so ``scrapy crawl NAME`` and ``monitor crawl NAME`` behave alike.  Every value can be
overridden with ``-s NAME=VALUE`` on either command.  The README mirrors this table.
"""

BOT_NAME = "media-monitor"

# --- where spiders come from: one spider per configured source (monitor.crawl.spiderloader) ---
# per-site spider classes: the folder spiders/, installed as the package monitor_spiders (setup.py), so a
# top-level `spiders` of another project cannot clash with it; `scrapy genspider` writes into spiders/
SPIDER_MODULES = ["monitor_spiders"]
NEWSPIDER_MODULE = "monitor_spiders"
SPIDER_LOADER_CLASS = "monitor.crawl.spiderloader.SourceSpiderLoader"

# --- politeness ---
USER_AGENT = "media-monitor/0.1 (+https://github.com/media-monitor/media-monitor; news monitoring crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# a page that never answers costs at most DOWNLOAD_TIMEOUT x (RETRY_TIMES + 1) + MONITOR_RETRY_BACKOFF
# = 14 + 2 + 14 = 30 s (Scrapy's defaults, 180 s and 2 retries, would hold a slot for about 9 minutes)
DOWNLOAD_TIMEOUT = 14
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # 20 MiB (Scrapy's default is 1 GiB): real news pages reach 3 MB, 90 % of it inline script; also the raw-body guard before extraction
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 1   # 5xx, timeouts, broken connections; a page missed now is a candidate again in the next crawl
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# items of one callback processed at once (Scrapy: 100, and it starts that many asyncio tasks for every response,
# ~10 % of the crawl process's CPU); a page gives one item
CONCURRENT_ITEMS = 8
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {
    "monitor.crawl.pipelines.ExtractionPipeline": 300,
    "monitor.crawl.pipelines.StoragePipeline": 800,
    "monitor.crawl.pipelines.DropInternalItems": 900,   # feed exports (-O items.jsonl) see only stored articles
}
EXTENSIONS = {
    "monitor.crawl.extensions.CrawlProgress": 500,
    # stored articles and conditional-GET validators for the spider (SQLite; Redis in a distributed crawl)
    "monitor.crawl.urlmemory.UrlMemory": 100,
}
# monitor/crawl/middlewares.py (docs/reliability.md): Retry-After and back-off around RetryMiddleware (550),
# bodies mislabelled as compressed (before HttpCompression, 590), redirect loops (before Redirect, 600)
DOWNLOADER_MIDDLEWARES = {
    "monitor.crawl.middlewares.RetryPolicyMiddleware": 560,
    "monitor.crawl.middlewares.MislabelledEncodingMiddleware": 595,
    "monitor.crawl.middlewares.RedirectGuardMiddleware": 610,
    # the network boundary (docs/security.md): every request and redirect hop checked on its resolved address,
    # before RobotsTxtMiddleware (100) would ask the refused host for its robots.txt
    "monitor.crawl.netguard.NetGuardMiddleware": 50,
    # Scrapy's meta refresh check without decoding every whole page (docs/performance.md)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "monitor.crawl.middlewares.QuickMetaRefreshMiddleware": 580,
}
# monitor.distributed.workers.RedisAddon: does nothing unless MONITOR_REDIS_URL is set (then: scrapy-redis + Redis items)
ADDONS = {
    "monitor.distributed.workers.RedisAddon": 0,
    # render = "browser" sources (monitor/crawl/browser.py): scrapy-playwright and the system Chromium for their
    # crawlers only; does nothing for the other sources
    "monitor.crawl.browser.BrowserAddon": 10,
}

# --- media-monitor's own settings (MONITOR_*): default and what it does ---
MONITOR_DB = "monitor.db"                 # SQLite file (also --db, $MONITOR_DB)
MONITOR_SOURCES = ""                      # sources TOML; empty = bundled monitor/sources.toml (also --sources, $MONITOR_SOURCES)
MONITOR_TOPICS = ""                       # topics TOML; empty = bundled monitor/topics.toml (also --topics, $MONITOR_TOPICS)
MONITOR_CRAWL_ID = 0                      # crawls.id of the run (set by `monitor crawl`; 0 = open one per spider)
MONITOR_MAX_ARTICLES = 0                  # stop a spider after this many stored articles (0 = no limit; also --max-articles)
MONITOR_REFRESH = False                   # re-fetch articles already stored (also --refresh)
MONITOR_MAX_REFETCHES = 200               # stored articles re-fetched per source and crawl because their sitemap lastmod is newer than fetched_at (guards against sitemaps stamping every entry with the current time; --refresh ignores it; docs/dedup.md)
MONITOR_MAX_DEPTH = 2                     # link-following depth from the home page and section pages
MONITOR_MAX_PAGES_PER_SOURCE = 500        # most pages requested per source by link-following (trap guard)
MONITOR_MAX_SECTION_PAGES = 5             # most pagination pages followed per section
MONITOR_MAX_FEED_ENTRIES = 2000           # most entries read from one feed
MONITOR_API_PAGES = 2                     # pages a per-site spider reads from a site's article-list API per crawl (spiders/, e.g. timesca's WordPress post list; 0 = none)
MONITOR_MAX_SITEMAP_URLS = 50000          # most URLs read from one sitemap file
MONITOR_QUEUED_REQUESTS = 200             # article requests in Scrapy's scheduler at once; further candidates (a sitemap's thousands) wait in the crawl's frontier and are handed over as it drains (0 = all at once; monitor/crawl/frontier.py)
MONITOR_FRONTIER_MEMORY = 2000            # candidates the frontier keeps in memory; the rest wait in a temporary file beside the database
MONITOR_MAX_SITEMAP_DEPTH = 3             # sitemap index nesting followed
MONITOR_SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # sitemaps are parsed while they download and cut after this many bytes of XML (gzip: uncompressed); replaces DOWNLOAD_MAXSIZE for sitemaps
MONITOR_SITEMAP_MAX_AGE_DAYS = 0          # skip sitemap entries whose lastmod is older (0 = keep all)
MONITOR_EXTRACT_MAX_BYTES = 2_000_000     # pages whose HTML without scripts, styles, svg and comments is larger are recorded as too_large, not extracted (0 = no cap)
MONITOR_EXTRACT_MAX_ELEMENTS = 30_000     # pages whose HTML without scripts, styles, svg and comments has more elements are recorded as too_large (trafilatura's time follows the element count more than the bytes; 0 = no cap)
MONITOR_EXTRACT_TIMEOUT = 20              # seconds one extraction may take before it is recorded as an error
MONITOR_EXTRACT_WORKERS = 0               # extraction worker processes (0 = one per core; 1 = inline in the crawl process; docs/performance.md)
MONITOR_EXTRACT_QUEUE = 0                 # pages handed to the workers at once (0 = 2 x workers); the rest wait in Scrapy's scraper
MONITOR_EXTRACT_MAX_TASKS_PER_CHILD = 200 # pages a worker extracts before it is replaced by a fresh one (0 = never; a fresh worker's first pages cost ~30 % more)
MONITOR_MIN_TEXT_CHARS = 250              # shorter main text is rejected as too_short
MONITOR_BATCH_SIZE = 50                   # articles written per SQLite transaction
MONITOR_BATCH_SECONDS = 5.0               # ... or after this many seconds, whichever comes first
MONITOR_ARTICLE_ITEMS = False             # `monitor crawl` too passes each stored article on as an ArticleItem after StoragePipeline (`scrapy crawl` always does)
MONITOR_SQLITE_CACHE_MB = 32              # page cache of the crawl's SQLite writer, in MB (0 = SQLite's default 2 MB)
MONITOR_ALLOWED_DOMAINS = ""              # extra comma-separated domains a source may follow links to
MONITOR_BROWSER_PATH = ""                 # Chromium for render = "browser" sources (empty: the first of chromium, chromium-browser, google-chrome on PATH; never a browser Playwright downloads; docs/sources.md)
MONITOR_BROWSER_PAGES = 4                 # render = "browser": pages one source renders at once (one Chromium and one browser context per such source)
MONITOR_BROWSER_TIMEOUT = 30.0            # render = "browser": seconds a page may take to load in the browser before it is recorded as a timeout
MONITOR_BROWSER_SETTLE = 3.0              # render = "browser": after the load event, seconds the page's scripts get to finish their own requests (network idle; 0 = read the page at once)
MONITOR_ALLOW_PRIVATE_ADDRESSES = False    # let crawls, `sources check` and alert webhooks reach loopback, private, link-local ... addresses (refused unless a source's own URL is on one; metadata addresses stay refused; docs/security.md)
MONITOR_RETRY_AFTER_MAX = 120.0           # most seconds a 429/503 Retry-After is waited for (the host is paused); longer: not retried, recorded as rate_limited
MONITOR_RETRY_BACKOFF = 2.0               # seconds before the first retry of a 5xx answer, timeout or broken connection; doubles per retry (0 = retry at once)
MONITOR_RETRY_BACKOFF_MAX = 60.0          # longest back-off before a retry, in seconds
MONITOR_PROGRESS_INTERVAL = 10.0          # seconds between progress lines (a line is printed only when its counts changed)
MONITOR_STOP_TIMEOUT = 3.0                # first Ctrl-C/SIGTERM: seconds the pages in flight get before the crawl stops at once (docs/reliability.md)
MONITOR_CHECK_TIMEOUT = 15.0              # `monitor sources check`: seconds per HTTP request (also --timeout)
MONITOR_CHECK_CONCURRENCY = 6             # `monitor sources check`: sources checked at the same time (also --concurrency)
MONITOR_NEAR_DUP_THRESHOLD = 0.7          # estimated Jaccard similarity (word 3-shingles, MinHash) from which a text is a near duplicate (monitor/dedup/fingerprints.py)
MONITOR_LSH_MEMORY = 20_000               # articles whose near-duplicate band rows wait in memory (about 0.7 MB per 1,000) before they are merged into the file in key order
MONITOR_REDIS_URL = ""                    # redis://HOST:PORT/DB: share the crawl through Redis, push articles there (also --redis, $MONITOR_REDIS_URL; docs/scaling.md)
MONITOR_REDIS_CRAWL = "default"           # crawl key: workers with the same key split one crawl (also --crawl-key)
MONITOR_REDIS_PREFIX = "monitor"          # prefix of every Redis key media-monitor uses (crawlers and `monitor ingest --prefix`)
MONITOR_REDIS_HEARTBEAT = 2.0             # seconds between a worker's heartbeats / in-flight acknowledgements in Redis
MONITOR_REDIS_WORKER_TIMEOUT = 60.0       # seconds without heartbeat after which a worker's in-flight requests are re-queued
MONITOR_REDIS_WORKER = ""                 # worker id in Redis (empty: HOST:PID)
MONITOR_SCHEDULE_EVERY = "30m"            # `monitor schedule` wakes up this often when neither --every nor --cron is given (docs/scheduling.md)
MONITOR_POLL_ADAPTIVE = True              # `monitor schedule`: poll quiet sources less often, busy ones more often
MONITOR_POLL_MIN_INTERVAL = 900           # adaptive polling: shortest interval in seconds a busy source is halved down to
MONITOR_POLL_MAX_INTERVAL = 86400         # adaptive polling: longest interval in seconds a quiet source is doubled up to
MONITOR_POLL_EMPTY_RUNS = 3               # adaptive polling: scheduled crawls in a row with nothing new before the interval doubles
MONITOR_POLL_BUSY_RUNS = 3                # adaptive polling: scheduled crawls in a row with new articles before the interval halves
MONITOR_HEALTH_MAX_FAILURES = 3           # `monitor health`: a source whose last N crawls failed is unhealthy
MONITOR_HEALTH_EMPTY_RUNS = 3             # `monitor health`: empty crawls in a row before a source can be flagged silent
MONITOR_HEALTH_EXPECTED_NEW = 5.0         # `monitor health`: ... and only when its history predicts at least this many new articles meanwhile
MONITOR_HEALTH_HISTORY_DAYS = 30          # `monitor health`: days of crawls read for a source's history
MONITOR_QUERY_TIMEOUT = 30.0              # reading commands (search, export per batch of rows, stats, digest, feed): seconds one query may run before it is stopped with a message (0 = no limit; also $MONITOR_QUERY_TIMEOUT; docs/security.md)
MONITOR_QUERY_MAX_CHARS = 5000            # longest FTS5 query `monitor search` and `export -q` accept, in characters (the bundled topics' longest is about 2,600; also $MONITOR_QUERY_MAX_CHARS)
MONITOR_QUERY_MAX_TERMS = 500             # most words in one such query, operators (AND, OR, NOT, NEAR) not counted (also $MONITOR_QUERY_MAX_TERMS)
MONITOR_SEARCH_THREADS = 0                # `monitor search`: threads that rank the hits of a query matching ~50,000+ articles at once, each over a range of ids (0 = one per CPU core, at most 4, where SQLite's memory statistics are off: `monitor` turns them off on Linux; 1 = one thread; also $MONITOR_SEARCH_THREADS; docs/querying.md)
