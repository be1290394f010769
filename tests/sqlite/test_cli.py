"""The `ncm` command through its real entry point, on SQLite."""

import json
import subprocess
import sys

USERS = '''"""Add users table."""
import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    op.create_table("users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id"))


def downgrade() -> None:
    op.drop_table("users")
'''

BROKEN = '''"""Breaks."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE half (id INTEGER)")
    op.execute("INSERT INTO nowhere VALUES (1)")


def downgrade() -> None:
    op.execute("DROP TABLE half")
'''


def add(project, name, source=USERS):
    (project / "migrations" / f"{name}.py").write_text(source)


def states(ncm):
    return {m["version"]: m["state"] for m in json.loads(ncm("status", "--json").stdout)["migrations"]}


def test_run_applies_and_status_shows_applied(project, ncm):
    add(project, "001_add_users_table")
    assert "1 migration(s) applied" in ncm("run").stdout
    assert states(ncm) == {"001_add_users_table": "applied"}


def test_run_json_gives_version_status_and_duration(project, ncm):
    add(project, "001_add_users_table")
    (result,) = json.loads(ncm("run", "--json").stdout)["results"]
    assert result["version"] == "001_add_users_table" and result["status"] == "applied" and result["duration_ms"] >= 0


def test_dry_run_prints_sql_and_changes_nothing(project, ncm):
    add(project, "001_add_users_table")
    out = ncm("run", "--dry-run").stdout
    assert "CREATE TABLE users" in out
    assert states(ncm) == {"001_add_users_table": "pending"}


def test_target_version_applies_up_to_it(project, ncm):
    add(project, "001_add_users_table")
    add(project, "002_add_roles", USERS.replace('"users"', '"roles"'))
    ncm("run", "--target-version", "001_add_users_table")
    assert states(ncm) == {"001_add_users_table": "applied", "002_add_roles": "pending"}


def test_rollback_by_version(project, ncm):
    add(project, "001_add_users_table")
    ncm("run")
    ncm("rollback", "--version", "001_add_users_table")
    assert states(ncm) == {"001_add_users_table": "pending"}


def test_rollback_by_steps(project, ncm):
    add(project, "001_add_users_table")
    add(project, "002_add_roles", USERS.replace('"users"', '"roles"'))
    ncm("run")
    ncm("rollback", "--steps", "2")
    assert set(states(ncm).values()) == {"pending"}


def test_failed_migration_exits_1_and_names_it(project, ncm):
    add(project, "001_breaks", BROKEN)
    done = ncm("run", check=1)
    assert "001_breaks" in done.stderr and "no such table: nowhere" in done.stderr
    assert states(ncm) == {"001_breaks": "failed"}


def test_failed_record_blocks_run_until_repair(project, ncm):
    add(project, "001_breaks", BROKEN)
    ncm("run", check=1)
    assert "refusing to run" in ncm("run", check=3).stderr
    assert "removed failed record" in ncm("repair").stdout
    assert states(ncm) == {"001_breaks": "pending"}


def test_create_writes_each_type_from_its_template(project, ncm):
    for kind in ("schema", "data", "index", "seed"):
        ncm("create", f"Add {kind} things", "--type", kind)
    files = sorted(p.name for p in (project / "migrations").glob("*.py"))
    assert len(files) == 4 and all(f[:8].isdigit() for f in files)
    texts = {p.read_text().split("type = ")[1].split("\n")[0] for p in (project / "migrations").glob("*.py")}
    assert texts == {'"schema"', '"data"', '"index"', '"seed"'}


def test_create_with_an_unknown_type_is_one_line(project, ncm):
    done = ncm("create", "Add things", "--type", "bogus", check=2)
    assert done.stderr.strip() == "error: unknown migration type 'bogus' (known: schema, data, index, seed)"


def test_validate_reports_an_edited_applied_file(project, ncm):
    add(project, "001_add_users_table")
    ncm("run")
    (project / "migrations" / "001_add_users_table.py").write_text(USERS + "# edited\n")
    done = ncm("validate", check=3)
    assert "001_add_users_table.py: changed since it was applied" in done.stdout


def test_validate_json(project, ncm):
    add(project, "001_add_users_table")
    ncm("hash")
    assert json.loads(ncm("validate", "--json").stdout) == {"schema_version": 1, "valid": True, "problems": []}


def test_history_lists_applied_migrations(project, ncm):
    add(project, "001_add_users_table")
    ncm("run")
    (row,) = json.loads(ncm("history", "--json").stdout)["records"]
    assert row["version"] == "001_add_users_table" and row["status"] == "applied" and len(row["checksum"]) == 64


def test_audit_log_through_history(project, ncm):
    add(project, "001_add_users_table")
    ncm("run", env={"MIGRATION_AUDIT_ENABLED": "true"})
    actions = [(e["action"], e["version"]) for e in json.loads(ncm("history", "--audit", "--json").stdout)["audit"]]
    assert actions == [("migrate", "001_add_users_table"), ("run", None)]


def test_check_reports_a_reachable_database(project, ncm):
    assert ncm("check").stdout.startswith("ok: sqlite+aiosqlite:///")


def test_check_exits_4_for_an_unreachable_database(project, ncm):
    done = ncm("check", env={"MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/no/dir/x.db"}, check=4)
    assert done.stderr.startswith("error: cannot connect to") and len(done.stderr.strip().splitlines()) == 1


def test_bad_input_is_one_line_without_traceback(project, ncm):
    add(project, "001_a", USERS)
    add(project, "002_b", USERS.replace('"users"', '"b"') + '\ndepends_on = ["003_c"]\n')
    add(project, "003_c", USERS.replace('"users"', '"c"') + '\ndepends_on = ["002_b"]\n')
    done = ncm("run", check=2)
    assert done.stderr.startswith("error: dependency cycle: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (project / "app.db").exists()


def test_debug_shows_the_traceback(project, ncm):
    add(project, "001_broken", "def upgrade(:\n")
    done = ncm("--debug", "status", check=2)
    assert "Traceback" in done.stderr and "001_broken.py:1: syntax error" in done.stderr


def test_password_never_printed_on_connection_error(project, ncm):
    url = "postgresql+asyncpg://admin:s3cr3t-pw@127.0.0.1:1/app"
    done = ncm("check", env={"MIGRATION_DATABASE_URL": url}, check=None)
    assert done.returncode != 0 and "s3cr3t-pw" not in done.stdout + done.stderr


def test_plugins_lists_sqlite_and_the_builtins(project, ncm):
    names = {p["name"]: p for p in json.loads(ncm("plugins", "--json").stdout)["plugins"]}
    assert names["sqlite"]["provides"] == {"backends": ["sqlite"], "history_readers": ["sqlite"]}
    assert names["ncm_core.types.hooks"]["version"]


def test_python_dash_m_works_the_same(project, ncm):
    add(project, "001_add_users_table")
    ncm("run")
    env = {"MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/app.db", "PATH": ""}
    done = subprocess.run([sys.executable, "-m", "ncm_core", "status", "--json"], capture_output=True, text=True,
                          cwd=project, env=env, timeout=60)
    assert json.loads(done.stdout)["current"] == "001_add_users_table"


def test_a_deprecated_setting_is_one_warning_line_naming_the_new_spelling(project, ncm):
    done = ncm("status", env={"MIGRATION_TARGET_METADATA": "app.models:Base.metadata"})
    assert ("warning: target_metadata is deprecated: set target_metadata in [sql] (MIGRATION_SQL_TARGET_METADATA)"
            in done.stderr.splitlines())


def test_a_section_no_installed_plugin_reads_is_one_warning_line(project, ncm):
    (project / "ncm.toml").write_text('[cockroach]\nregion = "eu"\n')
    done = ncm("status")
    assert "warning: ncm configuration: no installed plugin reads the section [cockroach]; it is ignored" in \
        done.stderr.splitlines()
