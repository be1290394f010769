"""Adopting an Alembic project: its versions/ directory runs as it is, and a database Alembic
brought half-way is recorded (``ncm baseline --from-alembic``) and finished by ``ncm run``."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path

import alembic_project
import pytest
from schema_models import execute, schema

from ncm_core.errors import UsageError
from ncm_core.graph import MigrationGraph
from ncm_core.migration import load_migrations


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> alembic_project.AlembicProject:
    return alembic_project.build(tmp_path_factory.mktemp("alembic_project"))


@pytest.fixture
def project(built_project: alembic_project.AlembicProject, project_dir: Path) -> alembic_project.AlembicProject:
    """A copy of the Alembic project in the test's directory (alembic.ini, alembic/, versions/)."""
    shutil.copy(built_project.root / "alembic.ini", project_dir)
    shutil.copytree(built_project.root / "alembic", project_dir / "alembic")
    return alembic_project.AlembicProject(project_dir, built_project.trunk, built_project.billing,
                                          built_project.mainline, built_project.merge, built_project.after_merge)


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.glob("*.py")}


def test_the_project_has_at_least_30_revisions_with_a_branch_and_a_merge(project):
    assert len(project.revisions) >= 30
    graph = MigrationGraph(load_migrations(project.versions))
    assert len(graph.by_version[project.merge].depends_on) == 2


def test_alembic_revisions_load_with_revision_as_version_and_down_revision_as_dependencies(project):
    graph = MigrationGraph(load_migrations(project.versions))
    first, second = project.trunk[:2]
    assert sorted(graph.by_version) == sorted(project.revisions)
    assert graph.by_version[first].depends_on == []
    assert graph.by_version[second].depends_on == [first]
    assert graph.by_version[second].description == "index users by name"
    assert graph.by_version[project.merge].depends_on == [project.mainline[-1], project.billing[-1]]
    assert [m.version for m in graph.order].index(project.merge) > max(
        [m.version for m in graph.order].index(v) for v in (project.mainline[-1], project.billing[-1]))


def test_branch_labels_label_at_head_and_revision_prefixes_name_revisions(project):
    graph = MigrationGraph(load_migrations(project.versions))
    assert graph.resolve("billing").version == project.billing[0]
    assert graph.resolve("billing@head").version == project.after_merge[-1]
    assert graph.resolve(project.merge[:6]).version == project.merge


async def test_a_half_applied_alembic_database_is_adopted_and_finished_like_alembic_would(
        project, new_database, ncm):
    adopted, reference = await new_database(), await new_database()
    files_before = digests(project.versions)
    await asyncio.to_thread(project.upgrade, adopted, project.mainline[2])
    await asyncio.to_thread(project.upgrade, adopted, project.billing[2])  # alembic_version: two heads
    directory = {"MIGRATION_MIGRATION_DIRECTORY": "alembic/versions"}

    baseline = ncm(adopted, "baseline", "--from-alembic", "--json", **directory)
    assert baseline.returncode == 0, baseline.stderr
    recorded = {r["version"] for r in json.loads(baseline.stdout)["records"]}
    assert recorded == {*project.trunk, *project.mainline[:3], *project.billing[:3]}

    run = ncm(adopted, "run", "--json", **directory)
    assert run.returncode == 0, run.stderr
    applied = [r["version"] for r in json.loads(run.stdout)["results"]]
    assert sorted(applied) == sorted(set(project.revisions) - recorded)

    await asyncio.to_thread(project.upgrade, reference, "heads")
    assert await schema(adopted) == await schema(reference)
    assert digests(project.versions) == files_before


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_second_baseline_records_nothing_more(project, database_url, ncm):
    await asyncio.to_thread(project.upgrade, database_url, project.trunk[3])
    directory = {"MIGRATION_MIGRATION_DIRECTORY": "alembic/versions"}
    assert ncm(database_url, "baseline", "--from-alembic", **directory).returncode == 0
    again = ncm(database_url, "baseline", "--from-alembic", **directory)
    assert again.returncode == 0
    assert "nothing to record" in again.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_baseline_from_alembic_without_alembic_version_is_a_clear_error(runner_factory, database_url):
    async with runner_factory(database_url) as runner:
        with pytest.raises(UsageError, match="no alembic_version table, so Alembic does not manage it; .*--version V"):
            await runner.baseline(from_alembic=True)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_baseline_from_alembic_names_a_revision_missing_from_the_directory(runner_factory, database_url,
                                                                               write_migration):
    write_migration("001_users", "def upgrade():\n    pass\n")
    await execute(database_url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
                  "INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    async with runner_factory(database_url) as runner:
        with pytest.raises(UsageError, match="alembic_version is at ae1027a6acf, which is not a migration in"):
            await runner.baseline(from_alembic=True)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_baseline_version_records_it_and_everything_before_without_running_them(
        runner_factory, database_url, write_migration):
    for name in ("001_users", "002_orders"):
        write_migration(name, "def upgrade():\n    raise RuntimeError('must not run')\n")
    write_migration("003_audit", '''
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.create_table("audit", sa.Column("id", sa.Integer, primary_key=True))
    ''')
    async with runner_factory(database_url, audit_enabled=True) as runner:
        recorded = await runner.baseline(version="002")
        assert [(r["version"], r["status"]) for r in recorded] == [("001_users", "baseline"), ("002_orders", "baseline")]
        assert [r["version"] for r in await runner.run_migrations()] == ["003_audit"]
        assert (await runner.get_status())["current"] == "003_audit"
        assert [(e.action, e.details) for e in await runner.db.read_audit()][0] == (
            "baseline", "2 recorded as applied from --version 002_orders")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_baseline_needs_exactly_one_of_its_options(ncm, database_url, project_dir):
    (project_dir / "migrations").mkdir(exist_ok=True)
    done = ncm(database_url, "baseline")
    assert (done.returncode, done.stderr) == (2, "error: baseline needs exactly one of --version, --from-alembic, "
                                                 "--from-flyway or --from-golang-migrate\n")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_migration_created_in_an_adopted_project_depends_on_the_alembic_heads(project, database_url, ncm):
    directory = {"MIGRATION_MIGRATION_DIRECTORY": "alembic/versions"}
    assert ncm(database_url, "create", "Add coupons.expires_at", **directory).returncode == 0
    graph = MigrationGraph(load_migrations(project.versions))
    [created] = [m for m in graph.order if not m.alembic]
    assert created.depends_on == [project.after_merge[-1]]
    assert graph.order[-1] is created
