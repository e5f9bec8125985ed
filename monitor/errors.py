"""Errors the CLI turns into one clear line: what is wrong, where, how to fix it."""


class MonitorError(Exception):
    """Base class. `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(MonitorError):
    """Bad input from the user (configuration, arguments, database file): exit 2, nothing written."""

    exit_code = 2


class SourcesError(UsageError):
    """A sources file that cannot be used; names the file, the source and the field."""

    def __init__(self, message: str, *, path=None, source=None, field=None):
        self.path, self.source, self.field = path, source, field
        where = []
        if path:
            where.append(str(path))
        if source:
            where.append(f"source {source!r}")
        if field:
            where.append(f"field {field!r}")
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        super().__init__(prefix + message)


class TopicsError(UsageError):
    """A topics file that cannot be used; names the file, the topic, the query and SQLite's message."""


class DatabaseError(UsageError):
    """A database file that cannot be used (missing, not SQLite, newer schema, unwritable)."""
