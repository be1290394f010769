"""MigrationConfig: one object for every setting, read from flags, MIGRATION_* variables and files.

Precedence is flags (keyword arguments) > environment > ``ncm.toml`` (or ``--config FILE``: TOML,
or Python holding ``config = MigrationConfig(...)`` as the spec writes it) > ``[tool.ncm]`` in
pyproject.toml > defaults, which is what pydantic-settings gives us with the sources
ordered below. Plugins' sections (``[mysql]``, ``MIGRATION_MYSQL_CHARSET``) follow the same
order: they travel with the core's values and are split off and validated by
:mod:`ncm_core.settings`.
"""

from __future__ import annotations

import contextvars
import math
import runpy
import tomllib
import warnings
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    PyprojectTomlConfigSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ncm_core import environments, settings
from ncm_core.errors import ConfigError
from ncm_core.masking import mask, mask_url, url_password

CONFIG_FILE = "ncm.toml"
config_file: contextvars.ContextVar[Path | None] = contextvars.ContextVar("ncm_config_file", default=None)
_reading_python: contextvars.ContextVar[bool] = contextvars.ContextVar("ncm_reading_python", default=False)

_TYPE_ALIASES = {"postgres": "postgresql", "mariadb": "mysql"}


class MigrationEnvironment(str, Enum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    STAGING = "staging"
    PRODUCTION = "production"


def database_type_of(url: str) -> str:
    """The database family a URL names: ``postgresql+asyncpg://`` -> ``postgresql``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    base = scheme.split("+", 1)[0]
    return _TYPE_ALIASES.get(base, base)


class MigrationConfig(BaseSettings):
    """Everything a run needs. Every field can be set as ``MIGRATION_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="MIGRATION_",
        extra="forbid",
        validate_default=True,
        pyproject_toml_table_header=("tool", "ncm"),
    )

    database_url: str = "sqlite+aiosqlite:///ncm.db"
    database_type: str | None = None
    migration_directory: Path = Path("migrations")
    backup_before_migration: bool = False
    backup_directory: Path = Path("backups")
    backup_retention: int = 10
    backup_store: str = "local"
    auto_rollback_on_failure: bool = False
    environment: MigrationEnvironment = MigrationEnvironment.DEVELOPMENT
    encryption_key: SecretStr | None = None
    audit_enabled: bool = False
    log_file: Path | None = None
    lock_timeout: float = 60.0
    connect_timeout: float = 10.0
    transaction_mode: Literal["migration", "run", "none"] | None = None
    """How steps are grouped into transactions: ``migration`` commits each with its history
    row, ``run`` keeps the whole run in one transaction, ``none`` runs every step outside one;
    None for the backend's default (docs: "Migrating without downtime")."""
    _sections: dict[str, BaseModel] = PrivateAttr(default_factory=dict)
    _given: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _reading_python.get():
            return (init_settings,)
        chosen = _chosen_environment(init_settings, env_settings)
        return (init_settings, env_settings, _SectionsEnvironment(settings_cls), *_file_sources(settings_cls, chosen))

    @model_validator(mode="wrap")
    @classmethod
    def _plugin_sections(cls, data: Any, handler: Any) -> MigrationConfig:
        """Split plugins' sections off before the core's fields are validated (so that
        ``extra="forbid"`` still rejects a misspelled core key) and keep them validated. Built
        while a Python config file runs, what was given is kept: it is that file's settings."""
        if not isinstance(data, dict):
            return handler(data)
        core, sections = settings.split_sections(data, set(cls.model_fields))
        config = handler(core)
        config._sections = sections
        if _reading_python.get():
            config._given = {key: value for key, value in data.items() if key not in settings.REMOVED}
        return config

    @field_validator("database_url")
    @classmethod
    def _url_has_scheme(cls, url: str) -> str:
        if "://" not in url:
            raise ValueError("expected a URL such as sqlite+aiosqlite:///ncm.db")
        return url

    @field_validator("lock_timeout", "connect_timeout")
    @classmethod
    def _positive(cls, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError("must be a positive, finite number of seconds")
        return seconds

    @field_validator("backup_retention")
    @classmethod
    def _not_negative(cls, count: int) -> int:
        if count < 0:
            raise ValueError("must be 0 (keep every backup) or more")
        return count

    @model_validator(mode="after")
    def _infer_database_type(self) -> MigrationConfig:
        inferred = database_type_of(self.database_url)
        if self.database_type is None:
            self.database_type = inferred
        else:
            self.database_type = _TYPE_ALIASES.get(self.database_type.lower(), self.database_type.lower())
            if self.database_type != inferred:
                raise ValueError(
                    f"database_type {self.database_type!r} does not match the URL's {inferred!r}"
                )
        return self

    def __repr_args__(self):  # type: ignore[override]
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name == "database_url" else value
        yield from self._sections.items()

    def section(self, name: str) -> Any:
        """A plugin's settings (the model its ``ncm_register_settings`` returns), validated;
        the model's defaults when the configuration does not set the section."""
        if name not in self._sections:
            model = settings.registered().get(name)
            if model is None:
                raise ConfigError(f"no installed plugin declares the settings section [{name}]")
            self._sections[name] = model()
        return self._sections[name]

    @property
    def safe_url(self) -> str:
        return mask_url(self.database_url)

    @property
    def secrets(self) -> tuple[str | None, ...]:
        key = self.encryption_key.get_secret_value() if self.encryption_key else None
        return (url_password(self.database_url), key, *settings.secrets_of(self._sections))

    def mask(self, text: str) -> str:
        """Text with this configuration's password and key masked."""
        return mask(text, self.secrets)


class _SectionsEnvironment(PydanticBaseSettingsSource):
    """``MIGRATION_<SECTION>_<FIELD>`` for plugins' sections (pydantic-settings reads only
    the core's fields from the environment), between the keyword arguments and the files."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        prefix = self.config.get("env_prefix", "").upper()
        return settings.environment_values(prefix, set(self.settings_cls.model_fields))


def _chosen_environment(init_settings: PydanticBaseSettingsSource, env_settings: PydanticBaseSettingsSource) -> str | None:
    """The environment the options or MIGRATION_ENVIRONMENT select (they outrank the files, so
    they choose the files' environment sections); None when neither does."""
    given = getattr(init_settings, "init_kwargs", {}).get("environment") or env_settings().get("environment")
    return given.value if isinstance(given, Enum) else given


def _file_sources(settings_cls: type[BaseSettings], chosen: str | None) -> list[PydanticBaseSettingsSource]:
    """The config file (``--config``, else ./ncm.toml), then [tool.ncm] of ./pyproject.toml, each
    with the chosen environment's section laid over it."""
    explicit = config_file.get()
    if explicit is not None and not explicit.exists():
        raise ConfigError(f"config file {explicit} does not exist")
    if explicit is not None and explicit.name == "pyproject.toml":
        return [_Pyproject(settings_cls, _a_file(explicit), chosen)]
    file = explicit or Path(CONFIG_FILE)
    sources: list[PydanticBaseSettingsSource] = []
    if explicit is not None and explicit.suffix == ".py":
        sources.append(_PythonFile(settings_cls, _a_file(explicit)))
    elif file.exists():
        sources.append(_Toml(settings_cls, _a_file(file), chosen))
    pyproject = Path("pyproject.toml")
    return [*sources, _Pyproject(settings_cls, _a_file(pyproject) if pyproject.exists() else None, chosen)]


def _a_file(path: Path) -> Path:
    """``path``, which exists; a directory there is a mistake to report, not a file to skip."""
    if not path.is_file():
        raise ConfigError(f"config file {path} is not a file")
    return path


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's contents, a UTF-8 BOM accepted (editors on Windows write one), or one
    ConfigError naming the file and where in it TOML gave up."""
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 (byte {exc.start + 1})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {_with_position(str(exc), text)}") from None


def _with_position(message: str, text: str) -> str:
    """TOML's message, with "at end of document" turned into the line and column it means."""
    if not message.endswith("(at end of document)"):
        return message
    lines = text.split("\n")
    return message.replace("end of document", f"line {len(lines)}, column {len(lines[-1]) + 1}")


class _EnvironmentSections:
    """A TOML source whose ``[environments.<name>]`` sections are resolved (:mod:`ncm_core.environments`)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None, chosen: str | None) -> None:
        self.chosen = chosen
        super().__init__(settings_cls, path)  # type: ignore[call-arg]

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()  # type: ignore[misc]
        where = str(getattr(self, "toml_file_path", "") or CONFIG_FILE)
        return environments.overlay(data, self.chosen, [e.value for e in MigrationEnvironment], where)


class _Toml(_EnvironmentSections, TomlConfigSettingsSource):
    """ncm.toml (or ``--config FILE``), read by :func:`read_toml`."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        return read_toml(Path(file_path))


class _Pyproject(_EnvironmentSections, PyprojectTomlConfigSettingsSource):
    """``[tool.ncm]`` of pyproject.toml, read by :func:`read_toml`: a broken pyproject.toml in
    the working directory is reported, not an internal error."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        return read_toml(Path(file_path))


class _PythonFile(PydanticBaseSettingsSource):
    """``--config migration_config.py``: the settings the file's ``config = MigrationConfig(...)``
    sets, at the config file's place in the precedence. While the file runs, a MigrationConfig
    reads only its keyword arguments, so what the file sets is told apart from the
    environment's and the defaults."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = self._run().get("config")
        if found is None:
            raise ConfigError(f"config file {self.path} defines no `config`: write config = MigrationConfig(...)")
        if not isinstance(found, MigrationConfig):
            raise ConfigError(f"config file {self.path}: `config` is a {type(found).__name__}, not a MigrationConfig")
        return found._given

    def _run(self) -> dict[str, Any]:
        """The file's globals, or one ConfigError naming the file and what went wrong in it."""
        token = _reading_python.set(True)
        try:
            with warnings.catch_warnings():
                # pydantic-settings' note that [tool.ncm] is not read: not while the file runs, by design
                warnings.filterwarnings("ignore", message="Config key `pyproject_toml_table_header`")
                return runpy.run_path(str(self.path), run_name="migration_config")
        except SyntaxError as exc:
            raise ConfigError(f"config file {self.path}: invalid Python at line {exc.lineno}: {exc.msg}") from None
        except ValidationError as exc:
            raise ConfigError(f"config file {self.path}: {describe_validation_error(exc)}") from None
        except ConfigError as exc:
            raise ConfigError(f"config file {self.path}: {exc}") from None
        except Exception as exc:
            line = _line_in(exc, self.path)
            raise ConfigError(mask_url(f"config file {self.path}{line} raised {type(exc).__name__}: {exc}")) from None
        finally:
            _reading_python.reset(token)


def _line_in(exc: BaseException, path: Path) -> str:
    """``:<line>`` of the deepest frame of ``path`` in the exception's traceback, if any."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    return f":{frames[-1].lineno}" if frames else ""


def load_config(file: Path | None = None, **overrides: Any) -> MigrationConfig:
    """Build the configuration, turning validation errors into one-line ConfigErrors."""
    token = config_file.set(file)
    try:
        return MigrationConfig(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    finally:
        config_file.reset(token)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad field, never echoing a secret value."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"{field}: {mask_url(err['msg'])}")
    return "invalid configuration: " + "; ".join(parts)
