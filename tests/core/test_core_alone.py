"""ncm_core imports and runs with no SQLAlchemy, Alembic or driver installed."""

import subprocess
import sys

BLOCKER = """
import sys
BLOCKED = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg", "aiomysql", "pymongo", "pydantic_settings")

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None

sys.meta_path.insert(0, Blocker())
"""


def run_python(code: str, *env_pairs: tuple[str, str]) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "NCM_DISABLE_PLUGINS": "sqlite,postgres,mysql,mongo,mongodb,example"}
    return subprocess.run([sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, env=env, timeout=60)


def test_public_api_imports_without_database_layers():
    done = run_python("import ncm_core; from ncm_core import hookimpl; import ncm_core.hookspecs, ncm_core.plugins;"
                      "import ncm_core.graph, ncm_core.migration, ncm_core.backend; print('ok')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_help_starts_without_pydantic_or_database_layers():
    done = run_python("import sys; from ncm_core.cli import run_cli; code = run_cli(['--help']);"
                      "assert 'pydantic' not in sys.modules, 'pydantic imported by --help'; sys.exit(code)")
    assert done.returncode == 0, done.stderr
    assert "Commands" in done.stdout


def test_plugins_command_runs_with_the_core_alone():
    done = run_python("import sys; from ncm_core.cli import run_cli; sys.exit(run_cli(['plugins', '--json']))")
    assert done.returncode == 0, done.stderr
    assert "ncm_core.types.hooks" in done.stdout
