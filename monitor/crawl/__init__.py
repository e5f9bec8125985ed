"""Stage 2, the crawl: Scrapy finds and downloads candidate article pages.

``run`` (``plan_crawl``, ``run_crawl``: the Python API of ``monitor crawl``), ``process`` (the one
``CrawlerProcess``), ``spiderloader`` (``spider_class_for``, ``SourceSpiderLoader``), ``spider`` (``NewsSpider``),
``discovery``/``sitemaps`` (pure feed, robots, link and sitemap readers), ``middlewares``/``netguard``/``addresses``
(downloader policy, the network boundary), ``urlmemory`` (what is already stored), ``pipelines`` and
``extractpool`` (extraction off the reactor, then the store), ``scrapy_compat`` (every private Scrapy access).
Only this package and ``monitor.distributed`` import Scrapy.  Nothing is imported here, so importing a
submodule stays cheap.
"""
