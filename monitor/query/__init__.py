"""Stage 6, reading the database: ``reads`` (search, export, stats, digest, feed queries through the store's
read-only door), ``inputs`` (checks of what users type), ``formats`` (table, JSON, CSV, Markdown, HTML, Atom;
page text encoded for each), ``commands`` (what the CLI's reading commands call, and where ``-o`` writes),
``datasette`` (Datasette metadata for ``monitor serve``), ``coverage`` and ``charts`` (articles over time, duplicates
folded, and their SVG chart), ``story`` (one story with its editions, copies, edits and topics)."""
