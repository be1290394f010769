"""Plugin-owned settings: the sections plugins declare through ``ncm_register_settings``.

A section is a pydantic model named by its ``PLUGIN_NAME``. ``MigrationConfig`` reads it from
``[tool.ncm.<section>]``, ``[<section>]`` of ncm.toml, ``MIGRATION_<SECTION>_<FIELD>`` and
keyword arguments, and keeps the validated instance (``config.section(name)``).

The registry (which loads every plugin) is asked only when a configuration holds something
that is not a core field, so that a configuration without sections costs no more than before.
This module imports nothing but pydantic; the plugin manager is imported when needed.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from ncm_core.errors import ConfigError
from ncm_core.masking import mask_url


class PluginSettings(BaseModel):
    """Base of a plugin's section (any pydantic model with a ``PLUGIN_NAME`` will do)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    PLUGIN_NAME: ClassVar[str]
    DEPRECATED: ClassVar[dict[str, str]] = {}
    """Former top-level names of this section's fields, e.g. ``{"database_schema": "schema"}``:
    still read for one release, with a DeprecationWarning naming the new spelling."""


class SettingDeprecated(DeprecationWarning):
    """A setting was spelled the old way; the message names the new spelling."""


def registered() -> dict[str, type[BaseModel]]:
    """Every section an installed plugin declares, by name."""
    from ncm_core.plugins import collect

    return collect("ncm_register_settings")


def keys_of(model: type[BaseModel]) -> dict[str, str]:
    """A section's keys (a field's alias, else its name) -> field names. An alias lets a key
    be a name pydantic reserves: ``schema`` is ``schema_name: str = Field(alias="schema")``."""
    return {info.alias or name: name for name, info in model.model_fields.items()}


def deprecated_names(models: Mapping[str, type[BaseModel]]) -> dict[str, tuple[str, str]]:
    """Old top-level name -> (section, field), as each model declares it."""
    return {old: (section, new) for section, model in models.items()
            for old, new in getattr(model, "DEPRECATED", {}).items()}


REMOVED = {
    "docker_enabled": "ncm runs the same inside a container as outside (see docs/docker.md)",
    "docker_image": "the image is whatever runs ncm (docker/Dockerfile.migration builds one)",
}
"""Core settings that did nothing and were removed, with why: a file or a variable that still
sets one keeps working, with a deprecation warning saying it can go."""


def warn_removed(name: str, spelled: str) -> None:
    """One deprecation line for a removed setting, as the user spelled it."""
    warnings.warn(f"{spelled} is deprecated and does nothing: {REMOVED[name]}; remove it",
                  SettingDeprecated, stacklevel=3)


OWN_TABLES = frozenset({"targets"})
"""Tables of the config file that ncm reads apart from a run's settings: ``[targets]`` names
the databases a fan-out runs on (:mod:`ncm_core.fleet.targets`), not a setting of each run."""


IMAGE_VARIABLES = frozenset({"wait_timeout", "wait_interval"})
"""``MIGRATION_*`` variables that the migration image's entrypoint reads (docker/migration-entrypoint.sh),
not ncm: they reach ncm's environment and are not misspellings."""


def environment_values(prefix: str, core_fields: set[str]) -> dict[str, Any]:
    """The sections' ``MIGRATION_<SECTION>_<FIELD>`` variables, as ``{section: {field: value}}``,
    and the deprecated top-level variables (``MIGRATION_DATABASE_SCHEMA``) under their old name.
    Any other variable with the prefix is warned about: a misspelled ``MIGRATION_DATABSE_URL``
    would otherwise leave ncm quietly working on its default database."""
    found = {name[len(prefix):].lower(): value for name, value in os.environ.items()
             if name.upper().startswith(prefix) and name[len(prefix):].lower() not in core_fields}
    for name in sorted(set(found) & set(REMOVED)):
        warn_removed(name, f"{prefix}{name.upper()}")
        del found[name]
    if not found:
        return {}
    models = registered()
    values: dict[str, Any] = {}
    for section, model in models.items():
        for key in keys_of(model):
            if f"{section}_{key}" in found:
                values.setdefault(section, {})[key] = found[f"{section}_{key}"]
    for old, (section, new) in deprecated_names(models).items():
        if old in found and old != f"{section}_{new}":
            values[old] = found[old]
    _warn_unknown_variables(prefix, set(found), core_fields, models)
    return values


def _warn_unknown_variables(prefix: str, names: set[str], core_fields: set[str],
                            models: Mapping[str, type[BaseModel]]) -> None:
    """One warning per variable that no setting reads, naming the closest setting (never the
    value, which may be a password)."""
    settable = core_fields | {f"{section}_{key}" for section, model in models.items() for key in keys_of(model)}
    known = settable | set(deprecated_names(models)) | IMAGE_VARIABLES
    for name in sorted(names - known):
        close = difflib.get_close_matches(name, sorted(settable), n=1)
        hint = f"; did you mean {prefix}{close[0].upper()}?" if close else ""
        warnings.warn(f"{prefix}{name.upper()} is not an ncm setting and is ignored{hint}", stacklevel=2)


def split_sections(data: Mapping[str, Any], core_fields: set[str]) -> tuple[dict[str, Any], dict[str, BaseModel]]:
    """The core's part of ``data`` and the validated sections.

    A deprecated top-level name moves into its section, unless the new spelling is also set
    (then the new one wins). A removed setting is dropped with a warning. A table no installed plugin declares is skipped with a warning:
    an image with one backend may read an ncm.toml written for several. Any other unknown key
    stays in the core's part, whose ``extra="forbid"`` reports it."""
    for key in sorted(set(data) & set(REMOVED)):
        warn_removed(key, key)
    data = {key: value for key, value in data.items() if key not in OWN_TABLES}
    extra = [key for key in data if key not in core_fields and key not in REMOVED]
    if not extra:
        return {key: value for key, value in data.items() if key not in REMOVED}, {}
    models = registered()
    old_names = deprecated_names(models)
    core = {key: value for key, value in data.items() if key in core_fields}
    raw: dict[str, dict[str, Any]] = {}
    spelled_as: dict[tuple[str, str], str] = {}
    for key in extra:
        value = data[key]
        if key in models:
            if not isinstance(value, Mapping):
                raise ConfigError(f"invalid configuration: {key} is a section; set its keys, e.g. [{key}] or "
                                  f"MIGRATION_{key.upper()}_<KEY> (known: {', '.join(keys_of(models[key]))})")
            raw.setdefault(key, {}).update(value)
        elif key not in old_names and isinstance(value, Mapping):
            warnings.warn(f"ncm configuration: no installed plugin reads the section [{key}]; it is ignored",
                          stacklevel=2)
        elif key not in old_names:
            core[key] = value
    for key in extra:
        if key in old_names:
            section, new = old_names[key]
            warnings.warn(f"{key} is deprecated: set {new} in [{section}] (MIGRATION_{section.upper()}_"
                          f"{new.upper()})", SettingDeprecated, stacklevel=2)
            if new not in raw.setdefault(section, {}):
                raw[section][new] = data[key]
                spelled_as[(section, new)] = key
    return core, {name: _validated(models[name], name, values, spelled_as) for name, values in raw.items()}


def _validated(model: type[BaseModel], section: str, values: dict[str, Any],
               spelled_as: dict[tuple[str, str], str]) -> BaseModel:
    """The section's model, or one ConfigError line naming each bad key as the user spelled it."""
    keys = keys_of(model)
    unknown = [key for key in values if key not in keys]
    if unknown and model.model_config.get("extra") != "allow":
        raise ConfigError(f"invalid configuration: unknown key {unknown[0]!r} in section [{section}] "
                          f"(known: {', '.join(keys)})")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            name = spelled_as.get((section, field), f"{section}.{field}")
            secret = _is_secret(model, keys.get(field, field))
            shown = f" {err['input']!r}" if isinstance(err["input"], str | int | float) and not secret else ""
            message = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
            parts.append(mask_url(f"{name}{shown}: {message}"))
        raise ConfigError("invalid configuration: " + "; ".join(parts)) from None


def _is_secret(model: type[BaseModel], field: str) -> bool:
    """Whether the field holds a secret, whose rejected value must not be echoed."""
    info = model.model_fields.get(field)
    annotation = info.annotation if info is not None else None
    return annotation is SecretStr or SecretStr in get_args(annotation)


def secrets_of(sections: Mapping[str, BaseModel]) -> tuple[str, ...]:
    """The values of every SecretStr field of the sections, for masking."""
    return tuple(value.get_secret_value() for model in sections.values()
                 for value in model.__dict__.values() if isinstance(value, SecretStr))
