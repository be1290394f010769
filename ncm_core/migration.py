"""Migration files: loading both forms of the spec, their metadata and their checksums."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import logging
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

from ncm_core import static_read
from ncm_core.backfill import BACKFILL_CALL
from ncm_core.static_cache import MISSING, StaticCache
from ncm_core.errors import MigrationFileError
from ncm_core.step import Step, StepContext, StepForm

log = logging.getLogger("ncm")
_ignored: set[Path] = set()
"""Files already warned about, so a command that loads the directory twice says it once."""
TRANSACTION_MODES = ("migration", "run", "none")
VERSION_RE = re.compile(r"^(?P<number>\d{8}_\d{6}|\d+)(?:_(?P<slug>\w+))?$")


class MigrationType(str, Enum):
    """The built-in types; plugins may register more, named by string."""

    SCHEMA = "schema"
    DATA = "data"
    INDEX = "index"
    SEED = "seed"


class AbstractMigration:
    """Base for migrations written as a class, as in the spec.

    ``session`` is the backend's session: on SQL backends its ``execute`` takes plain SQL
    strings (or SQLAlchemy statements) and returns a SQLAlchemy result.
    """

    async def up(self, session: Any) -> None:
        raise NotImplementedError

    async def down(self, session: Any) -> None:
        raise NotImplementedError

    async def validate(self, session: Any) -> bool:
        return True


@dataclass(eq=False)
class Migration:
    version: str
    path: Path
    checksum: str
    description: str = ""
    type: str = MigrationType.SCHEMA.value
    depends_on: list[str] = field(default_factory=list)
    transactional: bool | None = None
    transaction_mode: str | None = None
    """``migration`` (committed with its history row), ``run`` (in the run's one transaction)
    or ``none``; None for the setting's (``transaction_mode``), or the backend's default."""
    module: ModuleType | None = field(default=None, repr=False)
    instance: AbstractMigration | None = field(default=None, repr=False)
    steps: dict[str, Step] = field(default_factory=dict, repr=False)
    """``"up"`` and, when the file can be rolled back, ``"down"``; their forms are read at load time."""
    validation: Step | None = field(default=None, repr=False)
    alembic: bool = False
    """An Alembic revision file: its version is ``revision``, its dependencies ``down_revision``."""
    aliases: list[str] = field(default_factory=list)
    """Other names the migration answers to: an Alembic revision's ``branch_labels``."""
    deferred: bool = field(default=False, repr=False)
    """Read from its syntax tree, not imported yet: its steps import it when first called."""
    repeatable: bool = False
    """Applied again whenever its checksum changes, after every versioned migration (Flyway's ``R__``)."""
    backfills: bool = False
    """Its code calls ``ctx.backfill``: it runs outside any run-wide transaction, its batches
    committed one by one, and ``ncm run --defer-backfills`` leaves it to ``ncm backfill``."""

    @property
    def number(self) -> str:
        if self.alembic:
            return self.version
        match = VERSION_RE.match(self.version)
        return match["number"] if match else self.version

    def add_dependency(self, version: str) -> None:
        """Make this migration run after ``version`` (as ``depends_on`` does)."""
        if version not in self.depends_on:
            self.depends_on.append(version)

    def import_code(self) -> None:
        """Import a file that was read statically (see ``ncm_core.static_read``): before it
        runs, so that a file that cannot be imported is refused before anything runs."""
        if self.deferred:
            self.module = _import(self.path, self)
            self.deferred = False

    @property
    def reversible(self) -> bool:
        return "down" in self.steps

    def step(self, direction: str) -> Step:
        """The ``"up"`` or ``"down"`` step, in the form it was written in."""
        if direction not in self.steps:
            raise MigrationFileError(f"{self.path}: has no downgrade(), so it cannot be rolled back")
        return self.steps[direction]

    def forms(self, direction: str) -> set[StepForm]:
        """How the step and, going up, its validate() are written: what a backend runs them by."""
        checks = [self.validation] if direction == "up" and self.validation is not None else []
        return {s.form for s in (self.step(direction), *checks)}

    def require_async(self, direction: str, reason: str) -> None:
        """Refuse a plain ``def`` step before anything runs on a backend whose driver can only
        be awaited: the step would build operations and silently never send them."""
        checks = [self.validation] if direction == "up" and self.validation is not None else []
        for step in (self.step(direction), *checks):
            if step.form is StepForm.SQL:
                raise MigrationFileError(f"{self.path}: is a SQL migration, and {reason}: this database "
                                         "takes only Python migrations (`async def upgrade(ctx)`)")
            if step.form.synchronous:
                name = getattr(step.fn, "__name__", "the step")
                raise MigrationFileError(f"{self.path}: {name}() is not async; {reason}: "
                                         f"write it as `async def {name}(ctx)`")

    async def run(self, direction: str, ctx: StepContext) -> None:
        """Run the up or down step with a backend's step context."""
        await self.step(direction).call(ctx)

    async def check(self, ctx: StepContext) -> bool:
        """The migration's own validate(): False (not None) means the step failed."""
        if self.validation is None:
            return True
        return await self.validation.call(ctx) is not False


def checksum(path: Path) -> str:
    """sha256 of the file with a BOM and CR/CRLF line endings normalised away."""
    return _checksum(path.read_bytes())


def _checksum(data: bytes) -> str:
    data = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return hashlib.sha256(data).hexdigest()


def natural_key(version: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", version))


def migration_files(directory: Path) -> list[Path]:
    """The migration files of ``directory`` (those an installed format claims) in version order.
    A missing directory is bad input, not an empty project: a typo in ``migration_directory``
    must not read as "up to date"."""
    return [path for paths in _claimed(directory).values() for path in paths]


def _claimed(directory: Path) -> dict[Any, list[Path]]:
    """The files of ``directory`` by the format that reads them (``ncm_core.formats``)."""
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise MigrationFileError(f"migration directory {directory} {what} "
                                 "(set migration_directory, or `ncm create` makes it)")
    from ncm_core.formats.registry import formats

    found: dict[Any, list[Path]] = {f: [] for f in formats()}
    for path in sorted(directory.iterdir(), key=lambda p: natural_key(p.stem)):
        fmt = _format_of(path, list(found))
        if fmt is not None:
            found[fmt].append(path)
    return found


def _format_of(path: Path, formats: list[Any]) -> Any:
    """The format that reads ``path``, or None for a file to leave alone. What ncm leaves alone
    is said once (a file there was probably meant to run); a file with a format's suffix that
    it cannot read is an error, since it looks like a migration. Python's own files
    (``__init__.py``, ``__pycache__``, ``*.pyc``), hidden files and ncm's own ``ncm.sum`` are
    skipped quietly."""
    if path.name.startswith(("_", ".")) or path.suffix in (".pyc", ".pyo") or path.name == "ncm.sum":
        return None
    suffixed = [f for f in formats if path.suffix in f.suffixes]
    if not suffixed:
        if path not in _ignored:
            _ignored.add(path)
            suffixes = sorted({s for f in formats for s in f.suffixes}, key=lambda s: (s != ".py", s))
            log.warning("%s: ignored: ncm reads migrations from %s files", path,
                        " and ".join(f"*{s}" for s in suffixes))
        return None
    if not path.exists():
        raise MigrationFileError(f"{path}: is a broken symbolic link")
    if path.is_dir():
        raise MigrationFileError(f"{path}: is a directory, not a migration file")
    claiming = [f for f in suffixed if f.claims(path)]
    if len(claiming) > 1:
        raise MigrationFileError(f"{path}: is claimed by two migration formats, {claiming[0].PLUGIN_NAME} "
                                 f"and {claiming[1].PLUGIN_NAME}; rename it")
    if not claiming:
        raise MigrationFileError(f"{path}: a migration file of this kind is named "
                                 + " or ".join(f"{f.naming} ({f.PLUGIN_NAME})" for f in suffixed))
    return claiming[0]


def load_migrations(directory: Path, known: dict[Path, Migration] | None = None,
                    config: Any = None) -> list[Migration]:
    """Every migration in ``directory``, each read by the format that claims its file; a file
    unchanged since ``known`` was loaded is not read again (a Python file not re-imported)."""
    loaded = []
    for fmt, paths in _claimed(directory).items():
        if paths:
            loaded += fmt.load_all(paths, config, known or {})
    return sorted(loaded, key=lambda m: natural_key(m.path.stem))


def load_migration(path: Path, cache: StaticCache | None = None) -> Migration:
    """Load one file; an Alembic revision (it defines ``revision``) may have any name, so the
    name is checked only after the import shows that it is not one. A plain file is read from
    its syntax tree (or what ``cache`` kept of it) and imported only when it runs
    (``ncm_core.static_read``)."""
    source = path.read_bytes()
    migration = Migration(version=path.stem, path=path, checksum=_checksum(source),
                          backfills=BACKFILL_CALL.search(source) is not None)
    static = cache.get(path.name, migration.checksum) if cache is not None else MISSING
    if static is MISSING:
        static = _read_static(path, source)
        if cache is not None:
            cache.put(path.name, migration.checksum, static)
    if static is not None:
        return _deferred(migration, static)
    module = _import(path, migration)
    if not _read_alembic_revision(migration, vars(module)) and not VERSION_RE.match(path.stem):
        raise MigrationFileError(
            f"{path}: a migration file is named YYYYMMDD_HHMMSS_slug.py or 001_slug.py "
            "(or is an Alembic revision, defining revision and down_revision)"
        )
    migration.module = module
    classes = [c for c in vars(module).values()
               if inspect.isclass(c) and issubclass(c, AbstractMigration)
               and c is not AbstractMigration and c.__module__ == module.__name__]
    if len(classes) > 1:
        raise MigrationFileError(f"{path}: defines {len(classes)} AbstractMigration classes; keep one")
    if classes:
        migration.instance = classes[0]()
    elif not callable(getattr(module, "upgrade", None)):
        raise MigrationFileError(f"{path}: defines neither upgrade() nor an AbstractMigration class")
    _read_steps(migration, module)
    _read_metadata(migration, module, classes[0] if classes else None)
    return migration


def _read_static(path: Path, source: bytes) -> static_read.StaticFile | None:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise MigrationFileError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    return static_read.read(source, tree, {"MigrationType": dict(MigrationType.__members__)})


def _deferred(migration: Migration, static: static_read.StaticFile) -> Migration:
    """The migration as ``load_migration`` would make it by importing the file, with steps that
    import it when first called."""
    if "revision" in static.values:
        _read_alembic_revision(migration, static.values)
    elif not VERSION_RE.match(migration.path.stem):
        raise MigrationFileError(
            f"{migration.path}: a migration file is named YYYYMMDD_HHMMSS_slug.py or 001_slug.py "
            "(or is an Alembic revision, defining revision and down_revision)"
        )
    migration.deferred = True
    for direction, (is_async, takes_ctx) in static.steps.items():
        name = next(n for n, d in static_read.STEPS.items() if d == direction)
        form = StepForm.ASYNC if is_async else StepForm.SYNC if takes_ctx else StepForm.PLAIN
        step = Step(_on_first_call(migration, name, is_async), form, takes_ctx)
        if direction == "validate":
            migration.validation = step
        else:
            migration.steps[direction] = step
    read_values(migration, static.values)
    migration.description = static_read.description(static, migration.version)
    return migration


def _on_first_call(migration: Migration, name: str, is_async: bool) -> Any:
    """A stand-in for the file's function ``name`` that imports the file when called."""
    def real() -> Any:
        migration.import_code()
        return getattr(migration.module, name)

    async def call_async(*args: Any) -> Any:
        return await real()(*args)

    def call(*args: Any) -> Any:
        return real()(*args)

    stand_in = call_async if is_async else call
    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


def _import(path: Path, migration: Migration) -> ModuleType:
    name = f"ncm_migrations.{path.parent.name}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.migration = migration  # type: ignore[attr-defined]  # for migration.add_dependency(...)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise MigrationFileError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        names = {str(path), os.path.abspath(path)}  # the loader runs the file by its absolute path
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                     if f.filename in names), None)
        where = f"{path}:{line}" if line else str(path)
        raise MigrationFileError(f"{where}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    sys.modules.pop(name, None)
    return module


def _read_steps(migration: Migration, module: ModuleType) -> None:
    instance = migration.instance
    if instance is not None:
        migration.steps["up"] = Step.of(instance.up, class_form=True)
        if type(instance).down is not AbstractMigration.down:
            migration.steps["down"] = Step.of(instance.down, class_form=True)
        if type(instance).validate is not AbstractMigration.validate:
            migration.validation = Step.of(instance.validate, class_form=True)
        return
    for direction, name in (("up", "upgrade"), ("down", "downgrade")):
        fn = getattr(module, name, None)
        if callable(fn):
            migration.steps[direction] = Step.of(fn)
    validate = getattr(module, "validate", None)
    migration.validation = Step.of(validate) if callable(validate) else None


def _read_alembic_revision(migration: Migration, names: dict[str, Any]) -> bool:
    """Take an Alembic revision's identity as it is: ``revision`` is the version,
    ``down_revision`` (a tuple at a merge point) the dependencies, ``branch_labels`` aliases.
    Alembic's own ``depends_on`` is read with the rest of the metadata."""
    if "revision" not in names:
        return False
    revision = names["revision"]
    if not isinstance(revision, str) or not revision.strip():
        raise MigrationFileError(f"{migration.path}: revision must be a non-empty string, not {revision!r}")
    migration.version, migration.alembic = revision.strip(), True
    for name, target in (("down_revision", migration.depends_on), ("branch_labels", migration.aliases)):
        value = names.get(name)
        values = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else value
        if values is not None and not (isinstance(values, list) and all(isinstance(v, str) and v for v in values)):
            raise MigrationFileError(f"{migration.path}: {name} must be a string, a tuple of strings or None")
        target.extend(v for v in values or () if v not in target)
    return True


def _read_metadata(migration: Migration, module: ModuleType, cls: type | None) -> None:
    def attr(name: str, default: Any = None) -> Any:
        if hasattr(module, name) and not isinstance(getattr(module, name), ModuleType):
            return getattr(module, name)
        return getattr(cls, name, default) if cls is not None else default

    doc = inspect.getdoc(module) or (inspect.getdoc(cls) if cls is not None and cls.__doc__ else "")
    migration.description = (doc or "").strip().splitlines()[0] if doc else migration.version
    read_values(migration, {name: attr(name) for name in ("type", "depends_on", "transactional", "transaction_mode")})


def read_values(migration: Migration, values: dict[str, Any]) -> None:
    """``type``, ``depends_on``, ``transactional`` and ``transaction_mode``, imported or read
    statically; ``transaction_mode = "none"`` is ``transactional = False``."""
    kind = values.get("type")
    kind = MigrationType.SCHEMA if kind is None else kind
    migration.type = kind.value if isinstance(kind, MigrationType) else str(kind)
    deps = values.get("depends_on")
    deps = [] if deps is None else [deps] if isinstance(deps, str) else deps
    if not isinstance(deps, (list, tuple)) or not all(isinstance(d, str) for d in deps):
        raise MigrationFileError(f"{migration.path}: depends_on must be a version or a list of versions "
                                 f"(strings), not {values.get('depends_on')!r}")
    for dep in deps:
        migration.add_dependency(dep)
    transactional = values.get("transactional")
    if transactional is not None and not isinstance(transactional, bool):
        raise MigrationFileError(f"{migration.path}: transactional must be True or False")
    migration.transactional = transactional
    mode = values.get("transaction_mode")
    if mode is not None and mode not in TRANSACTION_MODES:
        raise MigrationFileError(f"{migration.path}: transaction_mode must be one of "
                                 f"{', '.join(map(repr, TRANSACTION_MODES))}, not {mode!r}")
    migration.transaction_mode = mode
    if mode == "none":
        migration.transactional = False
