"""The ``[sql]`` section: what every SQL backend reads, whatever its dialect."""

from __future__ import annotations

from ncm_core.settings import PluginSettings


class SQLSettings(PluginSettings):
    """``target_metadata``: the SQLAlchemy models autogenerate and drift checks compare the
    database with, as ``module:attribute`` (what Alembic's env.py sets target_metadata to)."""

    PLUGIN_NAME = "sql"
    DEPRECATED = {"target_metadata": "target_metadata"}

    target_metadata: str | None = None
