"""Connection checks from the spec's troubleshooting section."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ncm_core.config import MigrationConfig
from ncm_core.errors import NcmError
from ncm_core.runner import MigrationRunner


class DatabaseUtils:
    """``provider`` is a MigrationRunner (initialised or not), a MigrationConfig or a database URL.
    A runner that was not initialised is connected for the check and closed after it, so it
    is left as it was given: each check may be called on it again, in any order."""

    @staticmethod
    def _runner(provider: Any) -> tuple[MigrationRunner, bool]:
        """The runner to check with, and whether this check connects (and so closes) it."""
        if isinstance(provider, MigrationRunner):
            return provider, provider.backend is None
        config = provider if isinstance(provider, MigrationConfig) else MigrationConfig(database_url=str(provider))
        return MigrationRunner(config), True

    @staticmethod
    async def validate_database_connection(provider: Any) -> bool:
        runner, owned = DatabaseUtils._runner(provider)
        try:
            if runner.backend is None:
                await runner.initialize()
            await runner.db.server_info()
            return True
        except NcmError:
            return False
        finally:
            if owned:
                await runner.close()

    @staticmethod
    async def test_migration_environment(provider: Any) -> dict[str, Any]:
        """Everything a run needs, checked one by one: connection, files, history, backups."""
        runner, owned = DatabaseUtils._runner(provider)
        config = runner.config
        results: dict[str, Any] = {"database": config.safe_url}
        try:
            if runner.backend is None:
                await runner.initialize()
            results.update(await runner.db.server_info())
            results["connection"] = True
            graph = runner.load()
            history = await runner.history()
            results["migrations"] = len(graph.order)
            results["applied"] = sum(m.version in history for m in graph.order)
            results["pending"] = results["migrations"] - results["applied"]
            results["valid"] = await runner.validate_migrations()
        except NcmError as exc:
            results.setdefault("connection", False)
            results["error"] = config.mask(str(exc))
        finally:
            if owned:
                await runner.close()
        backups = Path(config.backup_directory)
        probe = backups if backups.exists() else backups.parent
        results["backup_directory_writable"] = os.access(probe.resolve(), os.W_OK)
        return results
