"""Targets: the databases one command fans out over, read from ``[targets]`` of ncm.toml or
from targets.toml. Pure logic (no I/O but reading the file): what a table means, which
targets a ``--targets`` selector names, a shard's slice, the failure budget.

A target's URL is kept as written, ``${VAR}`` and ``{tenant}`` unexpanded, so that what is
shown or journaled never holds a secret; :meth:`Target.url` expands it only to connect.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ncm_core.errors import UsageError

TARGETS_FILE = "targets.toml"
RESERVED = frozenset({"groups", "journal"})
"""Keys of ``[targets]`` that are not targets."""
OVERRIDES = ("migration_directory", "environment", "schema")
TENANT_SOURCES = ("tenants", "tenants_command", "tenants_query")
KEYS = frozenset({"url", "groups", *OVERRIDES, *TENANT_SOURCES, "tenants_database"})
ALL = "all"
CANARY = "canary"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TENANT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_SCHEMA_SECTIONS = {"postgresql": "postgresql"}
"""The settings section holding ``schema`` for each database type that has one."""


@dataclass(frozen=True)
class Target:
    """One database to run on: its name, its URL as written, its overrides, its groups."""

    name: str
    url_template: str
    overrides: tuple[tuple[str, str], ...] = ()
    groups: tuple[str, ...] = ()
    tenant: str | None = None

    def url(self, environ: Mapping[str, str] | None = None) -> str:
        """The URL to connect to: ``{tenant}`` filled in, ``${VAR}`` read from the environment."""
        return expand_variables(self._filled(self.url_template), os.environ if environ is None else environ,
                                f"target {self.name}")

    def _filled(self, text: str) -> str:
        return text.replace("{tenant}", self.tenant) if self.tenant is not None else text

    def config_overrides(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The keyword arguments of this target's MigrationConfig: its URL and overrides
        (``schema`` goes to the section of the database type that has one)."""
        from ncm_core.config import database_type_of

        url = self.url(environ)
        given = {key: self._filled(value) for key, value in self.overrides}
        kwargs: dict[str, Any] = {"database_url": url}
        for key in ("migration_directory", "environment"):
            if key in given:
                kwargs[key] = given[key]
        if "schema" in given:
            kind = database_type_of(url)
            if kind not in _SCHEMA_SECTIONS:
                raise UsageError(f"target {self.name}: schema is set but a {kind or 'URL without a scheme'} "
                                 f"database has no schemas to choose (only PostgreSQL's)")
            kwargs[_SCHEMA_SECTIONS[kind]] = {"schema": given["schema"]}
        return kwargs


@dataclass(frozen=True)
class TargetSpec:
    """A ``[targets.NAME]`` table: one target, or a template expanded once per tenant."""

    name: str
    url: str
    overrides: tuple[tuple[str, str], ...] = ()
    groups: tuple[str, ...] = ()
    tenants: tuple[str, ...] | None = None
    tenants_command: str | None = None
    tenants_query: str | None = None
    tenants_database: str | None = None

    @property
    def is_template(self) -> bool:
        return any(getattr(self, key) is not None for key in TENANT_SOURCES)


@dataclass
class TargetsFile:
    """What a targets table says, before tenants are read."""

    where: str
    specs: list[TargetSpec]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    journal: str | None = None


def expand_variables(text: str, environ: Mapping[str, str], where: str) -> str:
    """``${VAR}`` replaced by the variable's value: secrets live in the environment, never
    in the file. A variable that is not set is an error naming it (not its value)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise UsageError(f"{where}: environment variable {name} is not set (its URL reads ${{{name}}})")
        return environ[name]

    return _VARIABLE.sub(value, text)


def read_targets_file(config_file: Path | None, directory: Path = Path()) -> TargetsFile:
    """``[targets]`` of the config file (``--config`` or ./ncm.toml), else targets.toml (its
    ``[targets]`` table, or the whole file); one clear error when neither has targets."""
    from ncm_core.config import CONFIG_FILE, read_toml

    config = config_file or directory / CONFIG_FILE
    if config.suffix == ".toml" and config.is_file():
        data = read_toml(config)
        table = data.get("tool", {}).get("ncm", {}).get("targets") if config.name == "pyproject.toml" \
            else data.get("targets")
        if table is not None:
            return parse_targets(table, f"{config} [targets]")
    separate = (config_file.parent if config_file else directory) / TARGETS_FILE
    if separate.is_file():
        data = read_toml(separate)
        return parse_targets(data.get("targets", data), str(separate))
    raise UsageError(f"no targets: add a [targets] table to {config} or write {separate}")


def parse_targets(table: Any, where: str) -> TargetsFile:
    """The targets table, each mistake one error naming the key and the file."""
    if not isinstance(table, Mapping):
        raise UsageError(f"{where}: targets must be a table of [targets.NAME] tables")
    journal = table.get("journal")
    if journal is not None and not isinstance(journal, str):
        raise UsageError(f"{where}: journal must be a file path (a string)")
    specs = [_spec(name, value, where) for name, value in table.items() if name not in RESERVED]
    if not specs:
        raise UsageError(f"{where}: no targets defined (add a [targets.NAME] table with a url)")
    groups = _groups(table.get("groups", {}), where)
    found = TargetsFile(where, specs, groups, journal)
    _check_group_members(found)
    return found


def _spec(name: str, value: Any, where: str) -> TargetSpec:
    at = f"{where}: target {name}"
    if not isinstance(value, Mapping):
        raise UsageError(f"{at}: expected a table with a url, e.g. [targets.{name}] url = \"...\"")
    if name == ALL or not _TENANT.match(name):
        raise UsageError(f"{at}: a target name is letters, digits, '_', '.' or '-', and not '{ALL}'")
    unknown = sorted(set(value) - KEYS)
    if unknown:
        raise UsageError(f"{at}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    if not isinstance(value.get("url"), str) or "://" not in value["url"]:
        raise UsageError(f"{at}: url must be a database URL such as postgresql+asyncpg://host/db")
    for key in (*OVERRIDES, "tenants_command", "tenants_query", "tenants_database"):
        if key in value and not isinstance(value[key], str):
            raise UsageError(f"{at}: {key} must be a string")
    sources = [key for key in TENANT_SOURCES if key in value]
    if len(sources) > 1:
        raise UsageError(f"{at}: give one of {', '.join(TENANT_SOURCES)}, not {' and '.join(sources)}")
    if ("tenants_query" in value) != ("tenants_database" in value):
        raise UsageError(f"{at}: tenants_query and tenants_database go together (the query runs on that database)")
    texts = [value["url"], *(value[key] for key in OVERRIDES if key in value)]
    if sources and not any("{tenant}" in text for text in texts):
        raise UsageError(f"{at}: has tenants but neither its url nor its schema holds {{tenant}}")
    if not sources and any("{tenant}" in text for text in texts):
        raise UsageError(f"{at}: holds {{tenant}} but lists no tenants (tenants, tenants_command or tenants_query)")
    tenants = value.get("tenants")
    if tenants is not None:
        if not isinstance(tenants, list) or not all(isinstance(t, str) for t in tenants):
            raise UsageError(f"{at}: tenants must be a list of names")
        check_tenants(tenants, at)
    return TargetSpec(name, value["url"], tuple((key, value[key]) for key in OVERRIDES if key in value),
                      _names(value.get("groups", []), f"{at}: groups"),
                      tuple(tenants) if tenants is not None else None, value.get("tenants_command"),
                      value.get("tenants_query"), value.get("tenants_database"))


def _names(value: Any, at: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{at} must be a list of names")
    return tuple(value)


def _groups(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise UsageError(f"{where}: groups must be a table, e.g. [targets.groups] eu = [\"eu-1\", \"eu-2\"]")
    if ALL in value:
        raise UsageError(f"{where}: group '{ALL}' is every target and cannot be defined")
    return {name: _names(members, f"{where}: group {name}") for name, members in value.items()}


def _check_group_members(found: TargetsFile) -> None:
    """Every group member names a target (a tenant template's name stands for all its tenants)."""
    names = {spec.name for spec in found.specs}
    for group, members in found.groups.items():
        for member in members:
            if member not in names and member.split("/", 1)[0] not in names:
                raise UsageError(f"{found.where}: group {group} names {member!r}, which is not a target")


def check_tenants(tenants: list[str], where: str) -> None:
    """A tenant becomes part of a URL or a schema name: only plain names are accepted."""
    for tenant in tenants:
        if not _TENANT.match(tenant):
            raise UsageError(f"{where}: tenant {tenant!r} is not a plain name (letters, digits, '_', '.', '-')")
    duplicates = sorted({t for t in tenants if tenants.count(t) > 1})
    if duplicates:
        raise UsageError(f"{where}: tenant {duplicates[0]!r} is listed twice")


def expand(spec: TargetSpec, tenants: list[str] | None = None) -> list[Target]:
    """The targets a table stands for: itself, or ``NAME/TENANT`` for each tenant (each in
    the group NAME as well as the table's groups)."""
    if not spec.is_template:
        return [Target(spec.name, spec.url, spec.overrides, spec.groups)]
    names = list(spec.tenants) if tenants is None else tenants
    return [Target(f"{spec.name}/{tenant}", spec.url, spec.overrides, (spec.name, *spec.groups), tenant)
            for tenant in names]


def select(targets: list[Target], groups: Mapping[str, tuple[str, ...]], selector: str) -> list[Target]:
    """The targets a ``--targets`` value names: comma-separated groups (``all`` is every
    target), tenant templates or targets, in the file's order, each once."""
    by_name = {t.name: t for t in targets}
    chosen: set[str] = set()
    for part in (p.strip() for p in selector.split(",")):
        if not part:
            raise UsageError(f"--targets {selector!r}: an empty name")
        members = _members(part, targets, groups, by_name)
        if members is None:
            known = sorted({ALL, *groups, *(g for t in targets for g in t.groups)})
            raise UsageError(f"--targets: {part!r} is neither a group ({', '.join(known)}) nor a target")
        chosen.update(members)
    return [t for t in targets if t.name in chosen]


def _members(part: str, targets: list[Target], groups: Mapping[str, tuple[str, ...]],
             by_name: Mapping[str, Target]) -> set[str] | None:
    if part == ALL:
        return set(by_name)
    if part in by_name:
        return {part}
    found = {t.name for t in targets if part in t.groups}
    for member in groups.get(part, ()):
        found |= {member} if member in by_name else {t.name for t in targets if member in t.groups}
    return found if found or part in groups else None


def canary_first(chosen: list[Target], groups: Mapping[str, tuple[str, ...]], count: int) -> list[Target]:
    """The canary targets: the first ``count`` of the ``canary`` group among those chosen,
    else (no such group) the first ``count`` chosen."""
    if count < 0:
        raise UsageError(f"--canary {count}: a number of targets, 0 or more")
    canaries = select(chosen, groups, CANARY) if CANARY in groups or any(CANARY in t.groups for t in chosen) \
        else chosen
    return canaries[:count]


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """This shard's slice: a target belongs to shard ``crc32(name) % count``, so every process
    computes the same disjoint slices, and adding a target moves no other one."""
    return [t for t in targets if zlib.crc32(t.name.encode()) % count == index]


SHARD_COUNT_ENV = "NCM_SHARD_COUNT"
SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX"


def shard_of(option: str | None, environ: Mapping[str, str]) -> tuple[int, int] | None:
    """``--shard INDEX/COUNT``, else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with
    NCM_SHARD_COUNT; None when neither says (every target)."""
    if option is not None:
        return _parse_shard(option, "--shard")
    if SHARD_INDEX_ENV not in environ:
        return None
    if SHARD_COUNT_ENV not in environ:
        raise UsageError(f"{SHARD_INDEX_ENV} is set (an Indexed Job) but {SHARD_COUNT_ENV} is not: set it to the "
                         "Job's completions, or pass --shard INDEX/COUNT")
    return _parse_shard(f"{environ[SHARD_INDEX_ENV]}/{environ[SHARD_COUNT_ENV]}",
                        f"{SHARD_INDEX_ENV}/{SHARD_COUNT_ENV}")


def _parse_shard(text: str, where: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or int(match.group(2)) == 0 or int(match.group(1)) >= int(match.group(2)):
        raise UsageError(f"{where} {text!r}: expected INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4")
    return int(match.group(1)), int(match.group(2))


def failure_budget(text: str | None, total: int, continue_on_error: bool) -> int | None:
    """How many failed targets stop the starting of new ones: ``--max-failures F`` or ``P%``
    of the chosen targets (at least 1); None (never stop) with --continue-on-error; 1 by default."""
    if text is None:
        return None if continue_on_error else 1
    if continue_on_error:
        raise UsageError("--max-failures and --continue-on-error disagree: give one")
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    if match is None or (not match.group(2) and "." in match.group(1)) or float(match.group(1)) == 0:
        raise UsageError(f"--max-failures {text!r}: expected a number of targets (e.g. 5) or a percentage (e.g. 5%)")
    if match.group(2):
        return max(1, math.ceil(float(match.group(1)) * total / 100))
    return int(match.group(1))
