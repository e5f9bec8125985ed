"""Datasette metadata for ``monitor serve``: titles, descriptions, column help, licensing note,
full-text search on articles and canned queries (latest-per-topic, stories-by-reach, coverage, source-health).

``build_metadata(db_name, has_story_links=...)`` returns the dict Datasette takes as ``metadata=``;
``python -m monitor.query.datasette [DBNAME]`` prints it as JSON for ``datasette serve --metadata``.
"""

from __future__ import annotations

import json
import sys

from monitor.query.coverage import COVERAGE_SQL

DATE = "COALESCE(datetime(a.published), datetime(a.fetched_at))"

LICENSE_NOTE = (
    "Articles are the copyrighted work of their publishers. This database keeps extracted text for "
    "private monitoring and research: quote briefly, link to the original URL, do not republish full texts."
)

ARTICLE_COLUMNS = {
    "id": "Article id (rowid of the full-text index articles_fts).",
    "url": "Canonical URL of the article (tracking parameters removed); other URLs seen are in article_urls.",
    "source": "Name of the outlet in the sources file (sources.toml).",
    "title": "Headline as extracted from the page.",
    "author": "Byline, when the page states one.",
    "published": "Publication time as stated by the page (ISO 8601, may carry a UTC offset).",
    "language": "ISO 639-1 language code of the text (detected or declared).",
    "text": "Main text extracted by trafilatura (no menus, sidebars or comments); what search and topics match.",
    "word_count": "Words in text.",
    "content_hash": "Hash of the normalised text: equal hashes are exact duplicates.",
    "duplicate_of": "Set when this article repeats another one (exact or near duplicate): id of the first "
                    "article of its duplicate group.",
    "fetched_at": "When the page was (last) fetched, UTC.",
    "description": "Meta description / standfirst of the page.",
    "image": "Lead image URL (og:image).",
    "crawl_id": "The crawl (crawls.id) that stored the article.",
    "modified_at": "When the stored text last changed (earlier texts are in article_versions).",
}


def canned_queries(has_story_links: bool = True) -> dict:
    story = ("COALESCE(sl.story_id, sg.story_id, COALESCE(a.duplicate_of, a.id))" if has_story_links
             else "COALESCE(a.duplicate_of, a.id)")
    joins = ("LEFT JOIN story_links sl ON sl.article_id = a.id\n"
             "  LEFT JOIN story_links sg ON sg.article_id = COALESCE(a.duplicate_of, a.id)" if has_story_links else "")
    return {
        "latest-per-topic": {
            "title": "Latest articles per topic",
            "description": "The 10 newest articles of every topic (duplicates left out), newest first.",
            "sql": f"""WITH ranked AS (
  SELECT t.topic, a.id, a.title, a.url, a.source, a.language, {DATE} AS date,
         ROW_NUMBER() OVER (PARTITION BY t.topic ORDER BY {DATE} DESC, a.id DESC) AS n
  FROM article_topics t JOIN articles a ON a.id = t.article_id
  WHERE a.duplicate_of IS NULL
)
SELECT topic, date, source, language, title, url, id FROM ranked
WHERE n <= 10 ORDER BY topic, date DESC""",
        },
        "stories-by-reach": {
            "title": "Stories by reach (last 7 days)",
            "description": "Stories of the last 7 days (a duplicate group plus its language editions) ranked by "
                           "how many sources carried them.",
            "sql": f"""WITH arts AS (
  SELECT a.id, a.source, a.language, {DATE} AS date, {story} AS story
  FROM articles a
  {joins}
  WHERE {DATE} >= datetime('now', '-7 days')
)
SELECT story,
       (SELECT title FROM articles WHERE id = story) AS title,
       (SELECT url FROM articles WHERE id = story) AS url,
       count(DISTINCT source) AS sources,
       count(*) AS articles,
       group_concat(DISTINCT language) AS languages,
       group_concat(DISTINCT source) AS source_names,
       min(date) AS first_seen,
       max(date) AS last_seen
FROM arts GROUP BY story
ORDER BY sources DESC, articles DESC, last_seen DESC
LIMIT 100""",
        },
        "coverage": {
            "title": "Coverage over time",
            "description": "Articles per day or week per topic or per source, duplicates folded (a duplicate group "
                           "counts once, as its first article in the window): the series `monitor stats --chart` "
                           "draws. Parameters (all optional): by = topic or source; interval = day or week (weeks "
                           "start on Monday); since, until = YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS' UTC (default: the "
                           "last 30 days); topic, source = names, several separated by commas.",
            "sql": COVERAGE_SQL,
        },
        "source-health": {
            "title": "Source health",
            "description": "Per source: articles stored, articles of the last 7 days, the newest article, fetch "
                           "errors of the last 7 days and the last crawl that included it. Silent sources first.",
            "sql": f"""WITH src AS (
  SELECT source FROM articles
  UNION SELECT source FROM fetch_errors WHERE source IS NOT NULL
  UNION SELECT j.value FROM crawls c, json_each(c.sources) j WHERE json_valid(c.sources)
)
SELECT s.source,
  (SELECT count(*) FROM articles a WHERE a.source = s.source) AS articles,
  (SELECT count(*) FROM articles a WHERE a.source = s.source
     AND {DATE} >= datetime('now', '-7 days')) AS articles_7d,
  (SELECT max({DATE}) FROM articles a WHERE a.source = s.source) AS newest_article,
  (SELECT count(*) FROM fetch_errors e WHERE e.source = s.source
     AND datetime(e.at) >= datetime('now', '-7 days')) AS errors_7d,
  (SELECT max(datetime(c.started_at)) FROM crawls c, json_each(c.sources) j
     WHERE json_valid(c.sources) AND j.value = s.source) AS last_crawl
FROM src s
ORDER BY newest_article IS NOT NULL, newest_article, s.source""",
        },
    }


def build_metadata(db_name: str = "monitor", *, has_story_links: bool = True) -> dict:
    return {
        "title": "media-monitor",
        "description": "News about Kazakhstan and the United States, crawled from the configured outlets into one "
                       "SQLite file. Search articles with SQLite FTS5 syntax (the same as `monitor search`), e.g. "
                       "kazakhstan* AND (\"united states\" OR сша).",
        "license": LICENSE_NOTE,
        "source": "News outlets listed in the media-monitor sources file",
        "about": "media-monitor",
        "databases": {
            db_name: {
                "title": "media-monitor articles",
                "description": "Articles, their topic tags, duplicate groups, language editions and crawl health.",
                "license": LICENSE_NOTE,
                "queries": canned_queries(has_story_links),
                "tables": {
                    "articles": {
                        "title": "Articles",
                        "description": "One row per stored article. Search uses FTS5 syntax over title and text: "
                                       "phrases in double quotes, prefixes with *, AND/OR/NOT in upper case.",
                        "fts_table": "articles_fts",
                        "fts_pk": "id",
                        "searchmode": "raw",
                        "sort_desc": "id",
                        "label_column": "title",
                        "facets": ["source", "language"],
                        "columns": ARTICLE_COLUMNS,
                    },
                    "article_topics": {
                        "title": "Topic tags",
                        "description": "Which topics (topics table, topics TOML file) each article matches.",
                        "facets": ["topic"],
                        "columns": {"article_id": "articles.id", "topic": "Topic name (topics.name)."},
                    },
                    "topics": {
                        "title": "Topics",
                        "description": "Topic definitions last applied: name, description and the FTS5 query.",
                        "columns": {"query": "FTS5 MATCH query over title and text.",
                                    "updated_at": "When this definition was set.",
                                    "retagged_at": "Last `monitor retag` over the whole database."},
                    },
                    "article_urls": {
                        "title": "Article URLs",
                        "description": "Every URL seen for an article (canonical, AMP, with tracking parameters, ...).",
                        "columns": {"kind": "canonical (the article's URL), redirect (redirected to it when fetched), "
                                            "variant (another fetched form) or alias (seen, not requested)."},
                    },
                    "story_links": {
                        "title": "Language editions",
                        "description": "Articles that are editions of one story in other languages.",
                        "columns": {"story_id": "Id of the story's first article.",
                                    "via": "How the link was found: first, hreflang, og_image."},
                    },
                    "article_versions": {
                        "title": "Earlier versions",
                        "description": "Previous title and text of articles whose text changed on a re-fetch.",
                    },
                    "crawls": {
                        "title": "Crawls",
                        "description": "One row per crawl run with its counts; sources is a JSON list.",
                        "sort_desc": "id",
                    },
                    "fetch_errors": {
                        "title": "Fetch errors",
                        "description": "Pages that could not be fetched or extracted, with the reason.",
                        "facets": ["source", "reason"],
                        "sort_desc": "id",
                    },
                    "article_fingerprints": {"hidden": True},
                    "lsh_buckets": {"hidden": True},
                    "fetch_state": {"hidden": True},
                    "_sqlite_migrations": {"hidden": True},
                },
            }
        },
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(build_metadata(sys.argv[1] if len(sys.argv) > 1 else "monitor"), ensure_ascii=False, indent=2))
