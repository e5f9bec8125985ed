"""Per-site spider modules, installed as the package ``monitor_spiders``.

The generic ``monitor.crawl.spider.NewsSpider`` handles every source in the sources file; a module here is
only for a site that truly needs custom code: subclass ``NewsSpider``, override only what differs, and
name the class in the source's TOML entry (``spider = "monitor_spiders.mysite.MySiteSpider"``).

The folder is ``spiders/`` (where Scrapy users look; ``scrapy genspider`` writes here), but the package is
installed under the name ``monitor_spiders`` (``package_dir`` in setup.py, ``SPIDER_MODULES`` in
monitor/settings.py): a top-level package called ``spiders`` in site-packages would clash with another
project's.  So dotted paths start with ``monitor_spiders.``, never ``spiders.``.

Modules:

- ``timesca``: The Times of Central Asia, whose newest articles come from its WordPress REST API (the feed
  holds only ten).

Each module has a saved fixture in ``tests/support/spider_fixtures/<module>/`` (the site's answers, written
for the tests) and is crawled on it by ``tests/e2e/test_site_spiders.py``, loaded through a sources file as
users load it.  A new module without a fixture fails that test.
"""
