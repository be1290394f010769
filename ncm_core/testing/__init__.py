"""What plugin authors reuse: pytest fixtures and the backend contract suite.

In a plugin's conftest.py: ``pytest_plugins = ["ncm_core.testing.fixtures"]``; then
subclass :class:`ncm_core.testing.contract.BackendContract` (or a family's subclass such as
``ncm_sql.testing.SQLContract``) and provide a ``database_url`` fixture.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_url(env_var: str) -> str:
    """The URL of a test server from ``env_var``: skipped outside CI when unset, failing in CI."""
    url = os.environ.get(env_var)
    if url:
        return url
    if in_ci():
        pytest.fail(f"{env_var} is not set: in CI every backend's tests must run against its server")
    pytest.skip(f"set {env_var} to run these tests against a real server")


_RUN_AND_LIST_MODULES = """
import asyncio, json, sys
from ncm_core import MigrationRunner
from ncm_core.config import load_config

async def main(url, directory):
    async with MigrationRunner(load_config(None, database_url=url, migration_directory=directory)) as runner:
        await runner.run_migrations()

asyncio.run(main(sys.argv[1], sys.argv[2]))
print(json.dumps(sorted(sys.modules)))
"""


def modules_imported_by_a_run(database_url: str, migration_directory: Path | str) -> set[str]:
    """The modules a fresh process holds after a run against ``database_url``: a backend
    should import its own driver and no other backend's."""
    done = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, database_url, str(migration_directory)],
                          capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))
