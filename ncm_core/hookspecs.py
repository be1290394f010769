"""Every hook an ncm plugin may implement: the plugin author's manual.

A plugin is a module (or object) with functions named after these specs and decorated with
``ncm_core.hookimpl``; it is found through the entry-point group ``ncm``::

    [project.entry-points.ncm]
    myplugin = "ncm_myplugin"

There are two kinds of hook.

*Registration hooks* (``ncm_register_*``) return a list of classes. Each class carries a
``PLUGIN_NAME``; the core collects them from every plugin, and two classes with one name
is an error naming both plugins. The built-in migration types and validators are
registered through these same hooks, so a third party's class is treated exactly like ncm's.
``ncm_register_commands`` is the exception: it adds commands to the ``App`` it is given.

*Lifecycle hooks* (``ncm_before_run`` ...) are called around the work, for notifications,
metrics and audit. They receive the live objects; they must not change the plan. An
exception raised by a lifecycle hook fails the run the way a failing migration would
(before_*) or is reported after the fact (after_*, on_failure, on_refused), so keep them cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from cyclopts import App
    from pydantic import BaseModel

    from ncm_core.backend import Backend
    from ncm_core.backup import BackupStore
    from ncm_core.formats.interface import MigrationFormat
    from ncm_core.lint.interface import LintRule
    from ncm_core.migration import Migration
    from ncm_core.reader import HistoryReader
    from ncm_core.runner import MigrationRunner
    from ncm_core.types.interface import MigrationKind
    from ncm_core.validators.interface import Validator

PROJECT = "ncm"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ncm_register_backends(scheme: str | None) -> list[type[Backend]]:
    """Return the database backends this plugin provides.

    Each is a subclass of :class:`ncm_core.backend.Backend` with ``PLUGIN_NAME``,
    ``DATABASE_TYPE`` and ``URL_SCHEMES`` (e.g. ``("postgresql+asyncpg", "postgresql")``).
    The runner picks the backend whose scheme matches ``database_url``. A backend implements
    the required methods of ``Backend`` and, optionally, the capability protocols of
    :mod:`ncm_core.capabilities` (backups, audit log, models, Alembic adoption, lock holder).

    ``scheme`` is the (lower-case) URL scheme a run needs a backend for, or None when ncm
    wants them all (``ncm plugins``). Return nothing for a scheme you do not handle and
    import your backend only when you do: then a run never imports a driver it does not
    use (pymongo alone costs a SQLite run a tenth of a second). A hookimpl may also leave
    the argument out and always return its classes.

    A backend brings the templates ``ncm create`` writes for it: ``TEMPLATES`` names a
    package holding one ``<type>.py.tmpl`` per migration type, and ``TEMPLATE_FAMILY``
    which of a type's own ``templates`` apply to it (``sql``, ``mongodb``).
    """


@hookspec
def ncm_register_history_readers(scheme: str | None) -> list[type[HistoryReader]]:
    """Return history readers (subclasses of :class:`ncm_core.reader.HistoryReader`): a
    short way for ``ncm status`` to read a backend's history, lock holder and noted step
    with the bare driver, without importing the backend (SQLAlchemy and Alembic cost a SQL
    backend more than the rest of the command).

    ``scheme`` is as for :func:`ncm_register_backends`; import the reader's driver only for
    a scheme you handle. ``PLUGIN_NAME`` is the backend's name. ``read()`` returns None
    whenever it cannot be sure (an option of the URL it does not understand, a history
    table of another layout, any error): the runner then builds the backend and asks it, so
    a reader never changes what ``status`` says, only how soon. Optional: without one, the
    backend is asked.
    """


@hookspec
def ncm_register_migration_formats() -> list[type[MigrationFormat]]:
    """Return migration file formats (subclasses of :class:`ncm_core.formats.interface.MigrationFormat`).

    A format claims files of the migration directory by ``suffixes`` (``(".sql",)``) and its
    ``claims(path)`` (a name pattern, such as Flyway's ``V1__slug.sql``), and turns them into
    :class:`~ncm_core.migration.Migration` objects in ``load(path, config)``: version,
    description, checksum, type, ``depends_on``, ``transactional``, and a
    :class:`~ncm_core.step.Step` per direction that a backend runs by its form (Python code in
    one of its four forms, or ``StepForm.SQL`` statements that SQL backends run through
    Alembic's ``op``, so the journal, dry runs and ``ncm run --sql`` see them one by one).
    Called whenever the migration directory is read; a file whose suffix no format reads is
    skipped with a warning, one with a format's suffix that no format claims is an error.
    Built in: ``python``; ncm-sql adds ``sql`` (dbmate and goose) and ``flyway``.
    """


@hookspec
def ncm_register_migration_types() -> list[type[MigrationKind]]:
    """Return migration types (subclasses of :class:`ncm_core.types.interface.MigrationKind`).

    A type has a ``PLUGIN_NAME`` (the value of ``type = "..."`` in a migration file and of
    ``ncm create --type``), optionally its own templates for ``ncm create`` per backend
    family (``templates = {"sql": "..."}``, used before the backend's ``TEMPLATES``), and
    defaults such as whether its migrations run inside a transaction. Built in: schema,
    data, index, seed; their templates ship with the backends.
    """


@hookspec
def ncm_register_backup_stores() -> list[type[BackupStore]]:
    """Return backup stores (subclasses of :class:`ncm_core.backup.BackupStore`).

    A store decides where backup archives and their manifests go (the local directory
    store is built in; a third party adds S3 and the like).
    """


@hookspec
def ncm_register_validators() -> list[type[Validator]]:
    """Return validators (subclasses of :class:`ncm_core.validators.interface.Validator`).

    ``ncm validate`` runs every registered validator over the migration set and the
    history; a problem of severity ``error`` makes it exit non-zero. A validator reads the
    project's settings from ``self.config``, set before ``check`` is called.
    """


@hookspec
def ncm_register_lint_rules() -> list[type[LintRule]]:
    """Return lint rules (subclasses of :class:`ncm_core.lint.interface.LintRule`), one class per code.

    ``PLUGIN_NAME`` is the rule's code (``DS102``): stable across releases, what users put in
    ``# ncm: allow DS102 -- reason`` and in ``[lint.severity]``. ``ncm lint`` (and ``ncm run``
    where lint on run is on) calls ``check(operation, scope)`` for every operation of the
    ``kinds`` it names, on the backends of its ``database_types``; what it returns is the
    finding's message. Built in: the DS, BC and MF rules; the SQL plugins add LK (locking)
    and the MongoDB plugin MG rules, through this same hook.
    """


@hookspec
def ncm_register_settings() -> list[type[BaseModel]]:
    """Return the settings sections this plugin owns: pydantic models (usually subclasses of
    :class:`ncm_core.settings.PluginSettings`) whose ``PLUGIN_NAME`` is the section's name.

    A section ``mysql`` is read from ``[tool.ncm.mysql]`` in pyproject.toml, ``[mysql]`` in
    ncm.toml, ``MIGRATION_MYSQL_<FIELD>`` and ``MigrationConfig(mysql={...})``, with the
    core's precedence (keyword arguments > environment > files > defaults); its SecretStr
    fields are masked like the core's password. The plugin reads it back validated with
    ``config.section("mysql")`` (the model's defaults when nothing sets it). An unknown key
    in the section is a configuration error naming the section; a section no installed plugin
    declares is skipped with a warning. A ``DEPRECATED`` ClassVar (``{"mysql_charset":
    "charset"}``) keeps former top-level names working, with a DeprecationWarning.

    Keep the module that defines the model light (pydantic only): sections are collected
    whenever a configuration holds one, before any backend is chosen.
    """


@hookspec
def ncm_register_commands(app: App) -> None:
    """Add commands to ``ncm``: call ``app.command`` on the cyclopts ``App`` given.

    Called once when the CLI is built, before the command line is parsed, so the commands
    show in ``ncm --help``. Register by import path with a help line,
    ``app.command("myplugin.commands:report", name="report", help="...")``: cyclopts then
    imports that module only when the command runs, and ``ncm --help`` stays fast. An
    implementation that raises (a name ncm or another plugin already has is refused by
    cyclopts) is reported by ``ncm plugins`` like a plugin that failed to load, and the other
    commands keep working. Returns nothing.
    """


@hookspec
def ncm_before_run(runner: MigrationRunner, plan: list[Migration], direction: str) -> None:
    """Called after the lock is taken and before the first step of a run or rollback.

    ``plan`` is the ordered list of migrations about to be applied (direction ``"up"``) or
    reverted (``"down"``); it is never empty. Not called for dry runs.
    """


@hookspec
def ncm_after_run(runner: MigrationRunner, results: list[dict[str, Any]], direction: str) -> None:
    """Called once a run or rollback has ended, successfully or not, before the lock is released.

    ``results`` are the dicts ``run_migrations`` returns (version, status, duration_ms, ...).
    """


@hookspec
def ncm_before_migration(runner: MigrationRunner, migration: Migration, direction: str) -> None:
    """Called before one migration is applied (``"up"``) or reverted (``"down"``)."""


@hookspec
def ncm_after_migration(
    runner: MigrationRunner, migration: Migration, direction: str, result: dict[str, Any]
) -> None:
    """Called after one migration was applied or reverted successfully.

    ``result`` holds version, status and duration_ms. Where the backend groups a run in
    one transaction (SQLite, PostgreSQL) the step is final when the run commits.
    """


@hookspec
def ncm_on_failure(runner: MigrationRunner, migration: Migration, direction: str, error: Exception) -> None:
    """Called when a migration failed, after its changes were rolled back and recorded.

    ``error`` is an :class:`ncm_core.errors.MigrationFailed` naming the version and cause.
    """


@hookspec
def ncm_on_refused(runner: MigrationRunner, direction: str, error: Exception) -> None:
    """Called when a run is refused before its first step, under the lock: a validator reported
    an error (a failed record, an edited applied migration, ...) or a migration was left
    interrupted. ``error`` is the :class:`ncm_core.errors.ValidationFailed` the run then
    raises; nothing was changed. ``ncm_before_run`` and ``ncm_after_run`` are not called.
    """
