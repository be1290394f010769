"""What a backend's capture hands the rules: each operation of a migration's up step, in the
backend's terms made common (a MongoDB collection is a ``table``, a field a ``column``), and
the scope it runs in (which tables already hold data, whether it runs in a transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ncm_core.migration import Migration

KINDS = (
    "create_table", "drop_table", "rename_table", "truncate", "drop_schema",
    "add_column", "drop_column", "rename_column", "alter_column",
    "create_index", "drop_index", "add_constraint", "update", "delete", "set_validator",
    "set", "not_analysed",
)
"""The operation kinds rules read. ``details`` holds what a kind needs, by these keys:

- ``add_column``: ``nullable`` (bool), ``default`` (the server default's SQL or None), ``type``
- ``alter_column``: ``nullable`` (False: made NOT NULL), ``type`` and ``existing_type``
  (SQL type names; absent when unchanged or unknown), ``existing_nullable``
- ``create_index``/``drop_index``: ``name``, ``unique``, ``concurrently``, ``hidden`` (MongoDB)
- ``add_constraint``: ``constraint`` (unique, foreign_key, check, primary_key), ``not_valid``
- ``rename_table``/``rename_column``: ``new_name``
- ``update``/``delete``: ``where`` (whether it has a filter), ``batched`` (inside ``ctx.batches``)
- ``set_validator`` (MongoDB collMod): ``action`` (error, warn), ``level``
- ``set`` (a session setting, ``SET lock_timeout = '2s'``): ``name``, ``value``
- ``not_analysed``: ``reason``
"""


@dataclass
class Operation:
    """One operation. ``source`` is how the migration wrote it (``op.drop_table('users')``,
    a SQL statement), shown beside the finding; ``line`` is that call's line in the file."""

    kind: str
    table: str | None = None
    column: str | None = None
    line: int | None = None
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scope:
    """Where a migration's operations run. ``existing`` are the tables (collections) that are
    there before this migration: read from the live schema when the database was reachable
    (``live``), else those earlier migrations of the set create. A table this migration
    creates is not existing: it is empty, so locking and data rules do not apply to it."""

    migration: Migration
    database_type: str
    existing: set[str]
    transactional: bool
    live: bool = False
    fresh: set[str] = field(default_factory=set)
    """Tables this migration (or an earlier one of this plan) creates: dropping or renaming one
    of them loses nothing that is deployed."""
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    """The live tables' columns with their SQL types (when ``live``)."""

    settings: dict[str, str] = field(default_factory=dict)
    """The session settings (``SET name = value``) the migration made so far."""
    flagged: set[str] = field(default_factory=set)
    """The codes of ``once_per_migration`` rules already reported for this migration."""

    def column_type(self, table: str | None, column: str | None) -> str | None:
        """A live column's type: what an ``alter_column`` changes it from when it does not say."""
        return self.columns.get(table or "", {}).get(column or "")

    @property
    def data_migration(self) -> bool:
        return self.migration.type == "data"

    def exists(self, table: str | None) -> bool:
        return table is not None and table in self.existing

    def may_hold_data(self, table: str | None) -> bool:
        """Whether dropping or renaming ``table`` may lose what is deployed: with the live
        schema, whether it is there; without it, unless this plan creates it (a table no
        migration creates may have been made by hand)."""
        return self.exists(table) if self.live else table not in self.fresh
