"""The plugin manager: built-ins and entry-point plugins registered through the same hooks."""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

import pluggy

from ncm_core import hookspecs
from ncm_core.errors import PluginError

ENTRY_POINT_GROUP = "ncm"
DISABLE_ENV = "NCM_DISABLE_PLUGINS"
STRICT_ENV = "NCM_STRICT_PLUGINS"
log = logging.getLogger("ncm")
DEFAULT_PLUGINS = ("ncm_core.formats.hooks", "ncm_core.types.hooks", "ncm_core.validators.hooks", "ncm_core.lint.hooks",
                   "ncm_core.backup", "ncm_core.logfile")


@dataclass
class PluginInfo:
    name: str
    version: str
    distribution: str
    provides: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Plugins:
    manager: pluggy.PluginManager
    broken: list[PluginInfo]
    disabled: list[str]
    distributions: dict[str, tuple[str, str]]
    commands: dict[str, list[str]] = field(default_factory=dict)


def disabled_names() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


@cache
def get_plugins() -> Plugins:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    blocked = disabled_names()
    broken: list[PluginInfo] = []
    distributions: dict[str, tuple[str, str]] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in blocked or pm.get_plugin(ep.name) is not None:
            continue
        dist = ep.dist
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plugin must not take the CLI down
            report_broken(broken, PluginInfo(ep.name, dist.version if dist else "?", dist.name if dist else "?",
                                             error=f"{type(exc).__name__}: {exc}"))
            continue
        if dist is not None:
            distributions[ep.name] = (dist.name, dist.version)
    _drop_misspelled(pm, broken, distributions)
    return Plugins(pm, broken, sorted(blocked), distributions)


def report_broken(broken: list[PluginInfo], info: PluginInfo) -> None:
    """A plugin that failed to load is said on every command (one warning line), not only by
    ``ncm plugins``: a run without the plugin a team relies on must not look like a normal one.
    With NCM_STRICT_PLUGINS=1 it is an error instead."""
    broken.append(info)
    text = f"plugin {info.name} ({info.distribution} {info.version}) failed to load: {info.error}"
    if os.environ.get(STRICT_ENV, "") not in ("", "0"):
        raise PluginError(f"{text} ({STRICT_ENV} is set)")
    log.warning("%s; ncm goes on without it", text)


def _drop_misspelled(pm: pluggy.PluginManager, broken: list[PluginInfo],
                     distributions: dict[str, tuple[str, str]]) -> None:
    """A plugin implementing a hook that does not exist (a typo) is reported, not loaded."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or "?"
            dist, version = distributions.pop(name, ("?", "?"))
            pm.unregister(exc.plugin)
            report_broken(broken, PluginInfo(name, version, dist, error=str(exc)))


def plugin_manager() -> pluggy.PluginManager:
    return get_plugins().manager


def distribution_of(plugin_name: str) -> tuple[str, str]:
    return get_plugins().distributions.get(plugin_name) or ("ncm-core", _core_version())


def _core_version() -> str:
    try:
        return metadata.version("ncm-core")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def collect(hook_name: str, **arguments: Any) -> dict[str, type[Any]]:
    """Classes returned by every implementation of a registration hook, keyed by PLUGIN_NAME."""
    pm = plugin_manager()
    found: dict[str, tuple[type[Any], str]] = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        for cls in _call_registration(impl, arguments):
            name = cls.PLUGIN_NAME
            if name in found and found[name][0] is not cls:
                raise PluginError(
                    f"{hook_name}: PLUGIN_NAME {name!r} is claimed by both plugin "
                    f"{found[name][1]!r} and plugin {impl.plugin_name!r}"
                )
            found[name] = (cls, impl.plugin_name)
    return {name: cls for name, (cls, _) in found.items()}


def _call_registration(impl: pluggy.HookImpl, arguments: dict[str, Any]) -> list[type[Any]]:
    """A registration hook's classes; a hook that raises (often a lazy import of a missing
    driver) is reported like a plugin that failed to load, and contributes nothing.
    Called one implementation at a time (not through pluggy's hook call) for that reason,
    so the arguments an implementation declares are passed here, as pluggy would."""
    try:
        return list(impl.function(*(arguments.get(name) for name in impl.argnames)) or [])
    except Exception as exc:
        broken = get_plugins().broken
        if not any(b.name == impl.plugin_name for b in broken):
            dist, version = distribution_of(impl.plugin_name)
            report_broken(broken, PluginInfo(impl.plugin_name, version, dist, error=f"{type(exc).__name__}: {exc}"))
        return []


def register_commands(app: Any) -> None:
    """Let every plugin add its commands to the CLI's ``app``, one implementation at a time so
    that one that raises is reported (``ncm plugins``) and the others still register. What
    each added is remembered for ``describe``."""
    commands = get_plugins().commands
    for impl in plugin_manager().hook.ncm_register_commands.get_hookimpls():
        before = set(app)
        _call_registration(impl, {"app": app})
        if added := [name for name in app if name not in before]:
            commands.setdefault(impl.plugin_name, []).extend(added)


def describe() -> list[PluginInfo]:
    """Every loaded plugin with its version and what each registration hook got from it (the
    commands once the CLI has registered them)."""
    pm = plugin_manager()
    infos: dict[str, PluginInfo] = {}
    for hook_name in ("ncm_register_backends", "ncm_register_history_readers", "ncm_register_migration_formats",
                      "ncm_register_migration_types", "ncm_register_backup_stores", "ncm_register_validators",
                      "ncm_register_lint_rules", "ncm_register_settings"):
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = _info(infos, impl.plugin_name)
            kind = hook_name.removeprefix("ncm_register_")
            info.provides.setdefault(kind, []).extend(c.PLUGIN_NAME for c in _call_registration(impl, {}))
    for name, plugin in pm.list_name_plugin():
        info = _info(infos, name)
        hooks = [h.name.removeprefix("ncm_") for h in pm.get_hookcallers(plugin) or []
                 if not h.name.startswith("ncm_register_")]
        if hooks:
            info.provides["hooks"] = sorted(hooks)
    for name, commands in get_plugins().commands.items():
        _info(infos, name).provides["commands"] = sorted(commands)
    broken = get_plugins().broken
    failed = {b.name for b in broken}
    return sorted((i for i in infos.values() if i.name not in failed), key=lambda i: i.name) + broken


def _info(infos: dict[str, PluginInfo], name: str) -> PluginInfo:
    if name not in infos:
        dist, version = distribution_of(name)
        infos[name] = PluginInfo(name, version, dist)
    return infos[name]
