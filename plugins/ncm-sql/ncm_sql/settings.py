"""The ``[sql]`` section: what every SQL backend reads, whatever its dialect."""

from __future__ import annotations

import math

from pydantic import field_validator

from ncm_core.settings import PluginSettings


class SQLSettings(PluginSettings):
    """``target_metadata``: the SQLAlchemy models autogenerate and drift checks compare the
    database with, as ``module:attribute`` (what Alembic's env.py sets target_metadata to).

    ``ddl_lock_timeout``: the longest a step waits for a lock (PostgreSQL's lock_timeout,
    MySQL's lock_wait_timeout) before it gives up, so that a migration queued behind a long
    query never stalls every session queued behind it; where the step can be rolled back it
    is tried again, ``ddl_lock_retries`` times in all, with a growing pause. 0 waits forever.
    ``statement_timeout``: the longest any statement of a step may run (0: no limit)."""

    PLUGIN_NAME = "sql"
    DEPRECATED = {"target_metadata": "target_metadata"}

    target_metadata: str | None = None
    ddl_lock_timeout: float = 5.0
    ddl_lock_retries: int = 5
    statement_timeout: float = 0.0

    @field_validator("ddl_lock_timeout", "statement_timeout")
    @classmethod
    def _seconds(cls, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("must be a finite number of seconds, 0 or more")
        return seconds

    @field_validator("ddl_lock_retries")
    @classmethod
    def _tries(cls, tries: int) -> int:
        if tries < 1:
            raise ValueError("must be 1 or more (the first try counts)")
        return tries
