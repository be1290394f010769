"""Environment sections of a config file: ``[environments.production]`` in ncm.toml (or
``[tool.ncm.environments.production]`` in pyproject.toml) holds the settings that differ in
that environment. The section of the selected environment (``--environment``,
``MIGRATION_ENVIRONMENT``, else the file's own ``environment``) is laid over the file's top
level, key by key and, for a plugin's section, key by key within it; environment variables and
options still override the result, as they override the file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ncm_core.errors import ConfigError

KEY = "environments"


def overlay(data: dict[str, Any], chosen: str | None, known: Iterable[str], where: str) -> dict[str, Any]:
    """``data`` (one file's settings) with the chosen environment's section laid over it and the
    sections removed; an environment name ncm does not know, or a section that is not a
    table, is one ConfigError naming ``where`` (the file) and the section."""
    if KEY not in data:
        return data
    sections = data[KEY]
    top = {key: value for key, value in data.items() if key != KEY}
    names = list(known)
    if not isinstance(sections, Mapping):
        raise ConfigError(f"config file {where}: {KEY} is a table of environments, e.g. [{KEY}.production]")
    for name, section in sections.items():
        if name not in names:
            raise ConfigError(f"config file {where}: [{KEY}.{name}] is not an environment "
                              f"(known: {', '.join(names)})")
        if not isinstance(section, Mapping):
            raise ConfigError(f"config file {where}: [{KEY}.{name}] must be a table of settings")
        if "environment" in section:
            raise ConfigError(f"config file {where}: [{KEY}.{name}] cannot set environment; "
                              "it is what selects the section")
    selected = chosen or top.get("environment") or names[0]
    return _laid_over(top, sections.get(str(selected), {}))


def _laid_over(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over``'s keys replacing ``base``'s; a table present in both is merged, not replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
