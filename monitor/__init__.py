"""media-monitor: watch news sites for stories on Kazakhstan and the United States, keep them in SQLite."""

__version__ = "0.1.0"
