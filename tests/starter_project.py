"""`ncm init` in an empty directory, then ncm against a real database, for each backend's tests."""

import os
import subprocess
import sys
from pathlib import Path

NCM = str(Path(sys.executable).with_name("ncm"))


def ncm_in(directory: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real `ncm` in ``directory`` with no MIGRATION_* variable but the URL, if given:
    what the written ncm.toml says is what counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    if url is not None:
        env["MIGRATION_DATABASE_URL"] = url
    return subprocess.run([NCM, *args], cwd=directory, env=env, capture_output=True, text=True, timeout=120)


def init_validate_and_run(directory: Path, database: str, url: str) -> None:
    """The starter project for ``database`` loads, validates against ``url`` and applies there."""
    done = ncm_in(directory, "init", "--database", database)
    assert done.returncode == 0, done.stderr
    validated = ncm_in(directory, "--environment", "production", "validate", url=url)
    assert validated.returncode == 0 and "1 migration(s) checked: valid" in validated.stdout, validated.stderr
    ran = ncm_in(directory, "run", url=url)
    assert ran.returncode == 0 and "1 migration(s) applied" in ran.stdout, ran.stderr
