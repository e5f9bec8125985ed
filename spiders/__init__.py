"""Per-site spider modules.

The generic ``monitor.crawl.spider.NewsSpider`` handles every source in the sources file; a module here is
only for a site that truly needs custom code: subclass ``NewsSpider``, override what differs, and
name the class in the source's TOML entry (``spider = "spiders.mysite.MySiteSpider"``).
"""
