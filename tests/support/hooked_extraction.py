"""A `monitor crawl` whose extraction workers call a test function instead of ``monitor.extract.extract_article``.

``crawl_args(FUNCTION)`` gives the ``-s`` arguments: Scrapy's own ``ITEM_PIPELINES`` with the project's
``ExtractionPipeline`` swapped for ``HookedExtractionPipeline``, and ``TEST_EXTRACT_FUNCTION`` (read only here),
the dotted path of the function (same signature as ``extract_article``; e.g. ``tests.support.extract_hooks.hooked``).
The pool sends that path to its workers with each page (``ExtractConfig.function``).  Nothing in the ``monitor``
package knows about this: no user-facing setting is a test hook.
"""

from __future__ import annotations

import json
from dataclasses import replace

from monitor.crawl.pipelines import ExtractionPipeline

PROJECT_PIPELINE = f"{ExtractionPipeline.__module__}.{ExtractionPipeline.__qualname__}"


class HookedExtractionPipeline(ExtractionPipeline):
    """The project's pipeline, its workers calling ``TEST_EXTRACT_FUNCTION``."""

    def __init__(self, crawler):
        super().__init__(crawler)
        function = crawler.settings.get("TEST_EXTRACT_FUNCTION")
        if not function:
            raise ValueError("HookedExtractionPipeline needs -s TEST_EXTRACT_FUNCTION=module.function")
        self.config = replace(self.config, function=function)


def crawl_args(function: str) -> list[str]:
    """``-s`` arguments for ``monitor crawl`` (or ``scrapy crawl``) that make the extraction call ``function``."""
    from monitor import settings

    hooked = f"{__name__}.{HookedExtractionPipeline.__qualname__}"
    if PROJECT_PIPELINE not in settings.ITEM_PIPELINES:
        raise AssertionError(f"{PROJECT_PIPELINE} is not in monitor/settings.py ITEM_PIPELINES: update this module")
    pipelines = {(hooked if path == PROJECT_PIPELINE else path): order for path, order in settings.ITEM_PIPELINES.items()}
    return ["-s", f"ITEM_PIPELINES={json.dumps(pipelines)}", "-s", f"TEST_EXTRACT_FUNCTION={function}"]
