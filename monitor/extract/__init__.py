"""Extraction: one downloaded page -> an ``Article`` or a typed ``Rejection``.  Pure: no Scrapy, no I/O.

The public names, for the crawl (``monitor.crawl``), ``monitor sources check`` and the benchmarks; the modules
behind them are described in ``monitor.extract.article``.  Importing this package loads only the standard
library: lxml, trafilatura and py3langid are imported on the first extraction.
"""

from monitor.extract.article import extract_article
from monitor.extract.decoding import decode_body
from monitor.extract.maintext import strip_boilerplate
from monitor.extract.markup import page_signals
from monitor.extract.normalize import detect_language, normalize_language, normalize_published
from monitor.extract.results import ARTICLE_TYPES, Article, PageSignals, RejectReason, Rejection

__all__ = ["ARTICLE_TYPES", "Article", "PageSignals", "RejectReason", "Rejection", "decode_body", "detect_language",
           "extract_article", "normalize_language", "normalize_published", "page_signals", "strip_boilerplate"]
