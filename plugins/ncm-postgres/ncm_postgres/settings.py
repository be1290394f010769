"""The ``[postgresql]`` section: the schema that holds the migrations and the history."""

from __future__ import annotations

from pydantic import Field

from ncm_core.settings import PluginSettings


class PostgresSettings(PluginSettings):
    """``schema`` becomes every connection's search_path, the history table's schema and
    the scope of the lock, of backups and of restores. (The field is ``schema_name`` because
    pydantic's BaseModel has a ``schema`` attribute; the key users write is ``schema``.)"""

    PLUGIN_NAME = "postgresql"
    DEPRECATED = {"database_schema": "schema"}

    schema_name: str | None = Field(default=None, alias="schema")
