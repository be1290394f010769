import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def ncm_logger_as_found():
    """Each test meets the "ncm" logger enabled and propagating to caplog's handler: the CLI
    run in-process stops it propagating (and adds its stderr handler), and an Alembic env.py's
    fileConfig (tests/alembic) disables every logger that existed. Neither outlives its test."""
    log = logging.getLogger("ncm")
    handlers, log.disabled, log.propagate = list(log.handlers), False, True
    yield
    log.handlers[:] = handlers
    log.disabled, log.propagate = False, True

NCM = str(Path(sys.executable).with_name("ncm"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project directory with a SQLite database, as a new user has it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    return tmp_path


@pytest.fixture
def ncm(project):
    """Run the real `ncm` console script in the project; returns the CompletedProcess."""
    def run(*args: str, env: dict[str, str] | None = None, check: int | None = 0) -> subprocess.CompletedProcess:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
        environ.update({"MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/app.db", "COLUMNS": "200"})
        environ.update(env or {})
        done = subprocess.run([NCM, *args], capture_output=True, text=True, cwd=project, env=environ, timeout=120)
        if check is not None:
            assert done.returncode == check, f"ncm {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    return run
