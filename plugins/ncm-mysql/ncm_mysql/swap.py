"""A MySQL/MariaDB restore: loaded beside the live database, then swapped in with ONE RENAME TABLE.

MySQL commits every DDL statement on its own, so a restore cannot be one transaction. The
dump is loaded into a side database, ``<db>_ncm_restore_<id>``, which nothing else uses; the
live database is not touched until the client has loaded the whole archive and exited 0.
Then (:func:`swap_in`):

1. the side database's views, triggers, routines and events are read with ``SHOW CREATE``
   (the side database as the default one, so their references come out unqualified), and
   its triggers are dropped;
2. ``<db>_ncm_restore_<id>_old`` is created, and the live tables' triggers are dropped: MySQL
   refuses to move a table with triggers to another database, and InnoDB's foreign key
   names are unique per database, so the old tables cannot stay beside the restored ones;
3. ONE ``RENAME TABLE`` moves every live table to the ``_old`` database, every live view
   aside within the live database (``ncm_old_<id>_<n>``; a view cannot change database), and
   every restored table in. The statement is atomic however many tables it names: other
   sessions see all the old tables or all the restored ones, history and audit included;
4. the backup's views and triggers are created, then the old routines and events are
   replaced by the backup's, one statement at a time;
5. the side database, the old views and the ``_old`` database are dropped.

So the tables and their rows are swapped atomically; triggers, views, routines and events are
not: from step 2 to the end of step 4 the tables lack some of them. Everything that only reads
(the names to drop, the RENAME statement) is done before step 2, so the window holds only the
trigger drops, the RENAME and the creates. Before step 2 the
statements that undo it (the live triggers' CREATE) and those of step 4 are written to a
table in the ``_old`` database (:func:`_write_plan`). A restore killed before step 2 leaves the
live database as it was; killed after, the tables are all as they were or all the backup's,
and the next command that takes the migration lock (:func:`sweep`) undoes the swap (before the
RENAME) or finishes it (after), from that plan, then drops what the killed restore left; a
live restore holds that lock, so its databases are never taken for leftovers.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pymysql.err import MySQLError

from ncm_mysql.dump import quote_ident
from ncm_mysql.names import OLD, side_prefix

log = logging.getLogger("ncm")
ERRORS = (sa.exc.DBAPIError, MySQLError)  # the server's errors, through SQLAlchemy or the driver's cursor


@dataclass
class SideRestore:
    """One restore of ``database``: its id, its side databases, and how far it got."""

    database: str
    restore_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    stage: str = "loading"  # then "unguarded" (live triggers dropped), then "swapped"

    @property
    def side(self) -> str:
        return side_prefix(self.database) + self.restore_id

    @property
    def old(self) -> str:
        return f"{self.side}_old"

    def state(self, side_dropped: bool) -> str:
        """What the live database holds if the restore stops now, in words for the user."""
        if self.stage == "swapped":
            return (f"{self.database} has the backup's tables and rows; some of its views, triggers, routines "
                    "or events may be missing until the next command that takes the migration lock creates them")
        if self.stage == "unguarded":
            return (f"{self.database} has its tables and rows as they were; its triggers, dropped for the swap, "
                    "are put back by the next command that takes the migration lock")
        left = "removed" if side_dropped else "dropped by the next restore or run"
        return f"{self.database} is as it was (the dump was loading into {self.side}, {left})"


async def _execute(conn: Any, statement: str) -> list[tuple[Any, ...]]:
    """Run ``statement`` as it is, on the driver's own cursor with no parameters, so that a
    ``%`` in a view's or a routine's body is not taken for a placeholder; return its rows."""
    raw = await conn.get_raw_connection()
    async with raw.driver_connection.cursor() as cursor:
        await cursor.execute(statement)
        return list(await cursor.fetchall()) if cursor.description else []


async def _names(conn: Any, sql: str, **params: str) -> list[str]:
    return [row[0] for row in await conn.execute(sa.text(sql), params)]


async def create_side(conn: Any, database: str, side: str) -> None:
    """The side database, with the live one's default character set and collation."""
    row = (await conn.execute(sa.text("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                                      "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :db"),
                              {"db": database})).first()
    await _execute(conn, f"CREATE DATABASE {quote_ident(side)} CHARACTER SET {row[0]} COLLATE {row[1]}")


async def sweep(conn: Any, database: str) -> None:
    """Finish or undo the swap of a restore killed past step 2 (its ``_old`` database holds the
    plan), then drop what killed restores of ``database`` left, with one warning each; called
    under the migration lock."""
    prefix = side_prefix(database)
    sides = [name for name in await _names(conn, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
             if name.startswith(prefix)]
    for side in sorted(sides, key=lambda name: not name.endswith("_old")):
        if side.endswith("_old") and await _names(
                conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db AND TABLE_NAME = :t",
                db=side, t=PLAN):
            log.warning("%s: a restore was interrupted while it swapped the backup's tables in; %s", database,
                        await _finish(conn, database, side))
        try:
            await drop_side(conn, side)
        except ERRORS as exc:
            log.warning("could not drop %s, left by an interrupted restore of %s: %s", side, database, exc)
            continue
        log.warning("dropped %s, left by an interrupted restore of %s", side, database)
    aside = await _names(conn, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :db", db=database)
    aside = [name for name in aside if OLD.fullmatch(name)]
    for name in aside:
        await _execute(conn, f"DROP VIEW IF EXISTS {quote_ident(database)}.{quote_ident(name)}")
    if aside:
        log.warning("dropped %d view(s) ncm_old_* in %s, left by an interrupted restore", len(aside), database)


async def drop_side(conn: Any, side: str) -> None:
    """Drop a side database, foreign keys between its tables notwithstanding."""
    await _execute(conn, "SET SESSION FOREIGN_KEY_CHECKS = 0")
    try:
        await _execute(conn, f"DROP DATABASE IF EXISTS {quote_ident(side)}")
    finally:
        await _execute(conn, "SET SESSION FOREIGN_KEY_CHECKS = 1")


@dataclass
class Definitions:
    """The side database's objects that cannot be renamed into another database: views'
    CREATE statements, and the others' (sql_mode, CREATE statement), in creation order."""

    views: list[str] = field(default_factory=list)
    triggers: list[tuple[str, str]] = field(default_factory=list)
    routines: list[tuple[str, str]] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)


async def _show_create(conn: Any, kind: str, name: str, mode_column: int, sql_column: int) -> tuple[str, str]:
    row = (await _execute(conn, f"SHOW CREATE {kind} {quote_ident(name)}"))[0]
    return row[mode_column], row[sql_column]


async def read_definitions(conn: Any, side: str) -> Definitions:
    """What :func:`swap_in` recreates, read from ``side`` (made the connection's default)."""
    await _execute(conn, f"USE {quote_ident(side)}")
    found = Definitions()
    for name in await _names(conn, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :db", db=side):
        found.views.append((await _execute(conn, f"SHOW CREATE VIEW {quote_ident(name)}"))[0][1])
    for name in await _names(conn, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :db "
                                   "ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER", db=side):
        found.triggers.append(await _show_create(conn, "TRIGGER", name, 1, 2))
    for kind, name in await conn.execute(sa.text(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = :db "
            "AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION') ORDER BY 1, 2"), {"db": side}):
        found.routines.append(await _show_create(conn, kind, name, 1, 2))
    for name in await _names(conn, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = :db", db=side):
        found.events.append(await _show_create(conn, "EVENT", name, 1, 3))
    return found


async def swap_in(conn: Any, restore: SideRestore) -> None:
    """Steps 1-5 of the module's docstring, on an autocommit connection (``restore.stage``
    follows along); the caller disposes of the connection afterwards, since its default
    database has changed. Everything that only reads is done before step 2, and the drops of
    what is left over after step 4, so that the window without triggers or views holds only
    the statements that must be in it."""
    database, side = restore.database, restore.side
    definitions = await read_definitions(conn, side)
    await _drop_triggers(conn, side)
    await _execute(conn, f"CREATE DATABASE {quote_ident(restore.old)}")
    live = [(name, kind) for name, kind in await conn.execute(sa.text(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db"), {"db": database})]
    restored = await _names(conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db "
                                  "AND TABLE_TYPE <> 'VIEW'", db=side)
    views_aside = [(name, f"ncm_old_{restore.restore_id}_{n}") for n, (name, kind) in enumerate(live) if kind == "VIEW"]
    rename = rename_statement(restore, [name for name, kind in live if kind != "VIEW"], views_aside, restored)
    triggers = await _trigger_drops(conn, database)
    programs = await _program_drops(conn, database)
    await _execute(conn, f"USE {quote_ident(database)}")
    live_triggers = [await _show_create(conn, "TRIGGER", name, 1, 2) for name in await _names(
        conn, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :db", db=database)]
    await _write_plan(conn, restore.old, live_triggers, programs, definitions)
    restore.stage = "unguarded"
    for statement in triggers:
        await _execute(conn, statement)
    await _execute(conn, rename)
    restore.stage = "swapped"
    await _create_programs(conn, programs, definitions)
    await drop_side(conn, side)
    for _, name in views_aside:
        await _execute(conn, f"DROP VIEW IF EXISTS {quote_ident(name)}")
    await drop_side(conn, restore.old)


PLAN = "ncm_restore_plan"
"""The table in the ``_old`` database that says how to finish or undo a swap a kill cut short."""
EXISTS = {1050, 1304, 1359, 1537}  # a view, routine, trigger or event of that name exists already


async def _write_plan(conn: Any, old: str, live_triggers: list[tuple[str, str]], drops: list[str],
                      definitions: Definitions) -> None:
    """Before step 2: the statements that put the live triggers back ("undo", for a kill before
    the RENAME) and those of step 4 ("redo", for a kill after it), for :func:`sweep`."""
    table = f"{quote_ident(old)}.{PLAN}"
    await _execute(conn, f"CREATE TABLE {table} (seq INT PRIMARY KEY, phase VARCHAR(4) NOT NULL, "
                         "sql_mode TEXT, statement LONGTEXT NOT NULL)")
    redo = [(None, v) for v in definitions.views] + definitions.triggers + [(None, d) for d in drops]
    rows = [("undo", mode, statement) for mode, statement in live_triggers]
    rows += [("redo", mode, statement) for mode, statement in redo + definitions.routines + definitions.events]
    if rows:
        await conn.execute(sa.text(f"INSERT INTO {table} VALUES (:seq, :phase, :mode, :statement)"),
                           [{"seq": n, "phase": phase, "mode": mode, "statement": statement}
                            for n, (phase, mode, statement) in enumerate(rows)])


async def _finish(conn: Any, database: str, old: str) -> str:
    """Finish (after the RENAME) or undo (before it) the swap a killed restore left, from its
    plan; statements already done are skipped. Returns what it did, in words."""
    side = old.removesuffix("_old")
    swapped = not (await _names(conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db "
                                      "AND TABLE_TYPE <> 'VIEW'", db=side))
    phase = "redo" if swapped else "undo"
    await _execute(conn, f"USE {quote_ident(database)}")
    rows = await conn.execute(sa.text(f"SELECT sql_mode, statement FROM {quote_ident(old)}.{PLAN} "
                                      "WHERE phase = :phase ORDER BY seq"), {"phase": phase})
    for mode, statement in rows.all():
        if mode is not None:
            await conn.execute(sa.text("SET SESSION sql_mode = :mode"), {"mode": mode})
        try:
            await _execute(conn, statement)
        except MySQLError as exc:
            if exc.args[0] not in EXISTS:
                raise
    return ("finished swapping the backup in: its views, triggers, routines and events are back" if swapped
            else "undid the swap before it began: the live triggers are back")


async def _trigger_drops(conn: Any, database: str) -> list[str]:
    db = quote_ident(database)
    return [f"DROP TRIGGER IF EXISTS {db}.{quote_ident(name)}" for name in await _names(
        conn, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :db", db=database)]


async def _drop_triggers(conn: Any, database: str) -> None:
    for statement in await _trigger_drops(conn, database):
        await _execute(conn, statement)


def rename_statement(restore: SideRestore, tables: list[str], views_aside: list[tuple[str, str]],
                     restored: list[str]) -> str:
    """The one RENAME TABLE: live tables to the ``_old`` database, live views aside, restored tables in."""
    db, side, old = (quote_ident(name) for name in (restore.database, restore.side, restore.old))
    pairs = [f"{db}.{quote_ident(name)} TO {old}.{quote_ident(name)}" for name in tables]
    pairs += [f"{db}.{quote_ident(name)} TO {db}.{quote_ident(new)}" for name, new in views_aside]
    pairs += [f"{side}.{quote_ident(name)} TO {db}.{quote_ident(name)}" for name in restored]
    return "RENAME TABLE " + ", ".join(pairs) if pairs else "DO 0"


async def _program_drops(conn: Any, database: str) -> list[str]:
    """The statements that drop the live routines and events (the backup's replace them)."""
    routines = [f"DROP {kind} IF EXISTS {quote_ident(name)}" for kind, name in await conn.execute(sa.text(
        "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = :db "
        "AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')"), {"db": database})]
    events = [f"DROP EVENT IF EXISTS {quote_ident(name)}" for name in await _names(
        conn, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = :db", db=database)]
    return routines + events


async def _create_programs(conn: Any, drops: list[str], definitions: Definitions) -> None:
    """Create the backup's views and triggers (what the tables lack after the rename) first,
    then replace the routines and events (a view that reads another view waits until that
    one exists)."""
    await _create_views(conn, definitions.views)
    for mode, statement in definitions.triggers:
        await conn.execute(sa.text("SET SESSION sql_mode = :mode"), {"mode": mode})
        await _execute(conn, statement)
    for statement in drops:
        await _execute(conn, statement)
    for mode, statement in definitions.routines + definitions.events:
        await conn.execute(sa.text("SET SESSION sql_mode = :mode"), {"mode": mode})
        await _execute(conn, statement)


async def _create_views(conn: Any, statements: list[str]) -> None:
    pending = list(statements)
    while pending:
        failed: list[str] = []
        error: Exception | None = None
        for statement in pending:
            try:
                await _execute(conn, statement)
            except MySQLError as exc:
                failed.append(statement)
                error = exc
        if len(failed) == len(pending) and error is not None:
            raise error
        pending = failed
