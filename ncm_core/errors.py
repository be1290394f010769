"""Every error ncm reports to a user, each with the exit code the CLI returns for it.

The CLI prints ``str(error)`` as one line; the message must say what went wrong and where,
so that no traceback is needed to act on it.
"""

from __future__ import annotations


class NcmError(Exception):
    """Base of the errors the CLI turns into one line and an exit code."""

    exit_code = 1


class MigrationFailed(NcmError):
    """A migration raised, or its validate() returned False; its changes were rolled back."""

    exit_code = 1

    def __init__(self, version: str, error: str, statement: str | None = None, location: bool = False) -> None:
        self.version = version
        self.error = error
        self.statement = statement
        self.location = location
        """Whether ``error`` already says where in the migration file it happened."""
        where = f" (statement: {statement})" if statement else ""
        super().__init__(f"migration {version} failed: {error}{where}")


class UsageError(NcmError):
    """Bad input: a flag, a config value, a version that does not exist."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration (flags, MIGRATION_* variables, ncm.toml) is invalid."""


class MigrationFileError(UsageError):
    """A migration file cannot be loaded: bad name, syntax error, missing functions."""


class GraphError(UsageError):
    """The dependency graph is broken: a cycle, a missing dependency, a duplicate version."""


class ValidationFailed(NcmError):
    """Validation found problems: changed checksums, failed records, a validator's error."""

    exit_code = 3


class DatabaseUnavailable(NcmError):
    """The database cannot be reached: server down, wrong password, unknown database."""

    exit_code = 4


class DatabaseRefused(DatabaseUnavailable):
    """The database refused what ncm must do: it is read-only, or the user lacks a privilege.

    Exit 4 like an unreachable database: either way the database cannot be used as configured
    and someone must change the server, the URL or the grants; retrying does not help. The
    message says what ncm was doing and which privilege or setting is missing."""


class ConnectionLost(DatabaseUnavailable):
    """The server ended the connection a run was using (or the lock's, which a run shares)."""


class Stopped(NcmError):
    """A signal stopped the run (SIGINT: Ctrl-C; SIGTERM: docker stop, a Kubernetes eviction).
    The exit code is the shell's for that signal: 128 + its number."""

    def __init__(self, signum: int, message: str) -> None:
        self.exit_code = 128 + signum
        super().__init__(message)


class LockTimeout(NcmError):
    """Another runner held the migration lock past the configured lock_timeout."""

    exit_code = 5


class BackupError(NcmError):
    """A backup or restore could not be made, read or verified."""

    exit_code = 6


class PluginError(NcmError):
    """Plugins conflict (two claim one name) or none provides what the configuration asks for."""

    exit_code = 7


EXIT_CODES = {
    0: "success",
    MigrationFailed.exit_code: "a migration failed (its changes were rolled back where the database allows)",
    UsageError.exit_code: "bad input: flags, configuration, migration files or dependency graph",
    ValidationFailed.exit_code: "validation failed: changed checksums, failed records, validator errors",
    DatabaseUnavailable.exit_code: "the database cannot be reached, or refuses ncm's writes (read-only, "
                                   "a missing privilege)",
    LockTimeout.exit_code: "another runner held the migration lock past lock_timeout",
    BackupError.exit_code: "backup or restore failed",
    PluginError.exit_code: "plugin conflict or no plugin for the configured database",
    130: "stopped by SIGINT (Ctrl-C); the line printed says what was applied",
    143: "stopped by SIGTERM; the line printed says what was applied",
    70: "internal error (run with --debug for the traceback)",
}
