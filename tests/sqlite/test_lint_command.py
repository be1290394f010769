"""``ncm lint`` as a user runs it: exit codes, allowances, severities, --base, the ways a step
can be written, and without a database."""

import json
import subprocess

USERS = '''"""Create users."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100)))


def downgrade():
    op.drop_table("users")
'''
DROP = '''"""Drop the email."""
from alembic import op


def upgrade():
    op.drop_column("users", "email"){comment}
'''


def findings(ncm, *args, check=None):
    done = ncm("lint", "--json", *args, check=check)
    return json.loads(done.stdout)["findings"], done.returncode


def applied_users_then(project, ncm, source):
    (project / "migrations" / "001_users.py").write_text(USERS)
    ncm("run")
    (project / "migrations" / "002_change.py").write_text(source)


def test_an_error_level_finding_exits_3_and_names_the_line(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment=""))
    done = ncm("lint", check=3)
    assert "migrations/002_change.py:6: error DS103: drops column users.email" in done.stdout
    assert "safer: stop using the column" in done.stdout


def test_nothing_at_error_level_exits_0(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment="").replace('op.drop_column("users", "email")',
                                                                     'op.create_index("ix", "users", ["email"])'))
    assert ncm("lint", check=0).returncode == 0


def test_warnings_as_errors_exits_3_on_a_warning(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment="").replace(
        'op.drop_column("users", "email")', 'op.create_index("ux", "users", ["email"], unique=True)'))
    ncm("lint", check=0)
    ncm("lint", "--warnings-as-errors", check=3)


def test_an_allowance_with_a_reason_suppresses_the_finding_and_shows_the_reason(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment="  # ncm: allow DS103 — moved to profiles in 0041"))
    found, code = findings(ncm, check=0)
    assert [(f["code"], f["suppressed"]) for f in found] == [("DS103", "moved to profiles in 0041")]
    assert "allowed: moved to profiles in 0041" in ncm("lint").stdout


def test_an_allowance_on_the_line_above_covers_the_call(project, ncm):
    source = DROP.format(comment="").replace("    op.drop_column", "    # ncm: allow DS103 -- reviewed\n    op.drop_column")
    applied_users_then(project, ncm, source)
    found, _ = findings(ncm, check=0)
    assert [f["suppressed"] for f in found] == ["reviewed"]


def test_an_allowance_without_a_reason_allows_nothing_and_is_an_error(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment="  # ncm: allow DS103"))
    found, _ = findings(ncm, check=3)
    assert sorted((f["code"], f["suppressed"]) for f in found) == [("DS103", None), ("SP102", None)]


def test_an_unused_allowance_is_reported(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment="  # ncm: allow DS102 -- wrong code"))
    found, _ = findings(ncm, check=3)
    assert {f["code"] for f in found} == {"DS103", "SP101"}


def test_lint_severity_in_ncm_toml_changes_a_codes_level(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment=""))
    (project / "ncm.toml").write_text('[lint.severity]\nDS103 = "warning"\n')
    found, _ = findings(ncm, check=0)
    assert [(f["code"], f["severity"]) for f in found] == [("DS103", "warning")]


def test_severity_off_silences_a_code(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment=""))
    (project / "ncm.toml").write_text('[lint.severity]\nDS103 = "off"\n')
    assert findings(ncm, check=0)[0] == []


def test_an_unknown_severity_is_one_configuration_error(project, ncm):
    (project / "ncm.toml").write_text('[lint.severity]\nDS103 = "fatal"\n')
    done = ncm("lint", check=2)
    assert "lint" in done.stderr and "Traceback" not in done.stderr and done.stdout == ""


def test_without_a_database_tables_earlier_migrations_create_count_as_existing(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    (project / "migrations" / "002_change.py").write_text(DROP.format(comment=""))
    done = ncm("lint", "--json", check=3, env={"MIGRATION_DATABASE_URL": "postgresql://ncm:s3cr3t@127.0.0.1:1/x"})
    report = json.loads(done.stdout)
    assert report["live_schema"] is False and "DS103" in [f["code"] for f in report["findings"]]
    assert "linting without the live schema" in done.stderr and "s3cr3t" not in done.stderr


def test_with_the_database_a_table_a_pending_migration_creates_is_not_existing(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    (project / "migrations" / "002_change.py").write_text(DROP.format(comment=""))
    found, _ = findings(ncm, check=0)
    assert found == []


def test_paths_lint_only_the_files_given(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment=""))
    (project / "migrations" / "003_more.py").write_text(DROP.format(comment="").replace("email", "id"))
    found, _ = findings(ncm, "migrations/003_more.py", check=3)
    assert {f["version"] for f in found} == {"003_more"}


def test_a_path_that_is_no_migration_is_one_line(project, ncm):
    done = ncm("lint", "nowhere.py", check=2)
    assert done.stderr.strip() == "error: nowhere.py: no such file or directory"


def git(project, *args):
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(project), "PATH": "/usr/bin:/bin"})


def test_base_lints_the_migrations_added_since_the_ref(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    (project / "migrations" / "002_change.py").write_text(DROP.format(comment=""))
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "migrations")
    git(project, "commit", "-q", "-m", "first")
    ncm("run", "--target-version", "001_users")
    (project / "migrations" / "003_more.py").write_text(DROP.format(comment="").replace('"email"', '"id"'))
    found, _ = findings(ncm, "--base", "main", check=3)
    assert [(f["version"], f["code"]) for f in found] == [("003_more", "DS103")]


def test_base_that_is_no_commit_is_one_line(project, ncm):
    git(project, "init", "-q", "-b", "main")
    done = ncm("lint", "--base", "nope", check=2)
    assert "--base nope: not a commit" in done.stderr and "Traceback" not in done.stderr


def test_raw_sql_of_an_async_ctx_step_is_read(project, ncm):
    applied_users_then(project, ncm, '''"""Async."""


async def upgrade(ctx):
    await ctx.execute("ALTER TABLE users DROP COLUMN email")
''')
    found, _ = findings(ncm, check=3)
    assert [(f["code"], f["line"]) for f in found] == [("DS103", 5)]


def test_op_calls_of_a_ctx_step_through_run_sync_are_read(project, ncm):
    applied_users_then(project, ncm, '''"""Sync ctx."""
from alembic import op


def upgrade(ctx):
    op.rename_table("users", "people")
''')
    found, _ = findings(ncm, check=3)
    assert [(f["code"], f["line"]) for f in found] == [("BC101", 6)]


def test_a_class_migrations_session_sql_is_read(project, ncm):
    applied_users_then(project, ncm, '''"""Class."""
from ncm_core import AbstractMigration


class Migration(AbstractMigration):
    async def up(self, session):
        await session.execute("DROP TABLE users")

    async def down(self, session):
        pass
''')
    found, _ = findings(ncm, check=3)
    assert [(f["code"], f["line"]) for f in found] == [("DS102", 7)]


def test_a_sql_files_statements_are_read_at_their_line(project, ncm):
    applied_users_then(project, ncm, "")
    (project / "migrations" / "002_change.py").unlink()
    (project / "migrations" / "002_change.sql").write_text(
        "-- migrate:up\nCREATE TABLE t (id INT);\nALTER TABLE users\n  DROP COLUMN email;\n\n-- migrate:down\n")
    found, _ = findings(ncm, check=3)
    assert [(f["code"], f["line"]) for f in found] == [("DS103", 3)]


def test_a_step_that_fails_against_stand_ins_is_not_analysed(project, ncm):
    applied_users_then(project, ncm, '''"""Reads."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()
''')
    found, _ = findings(ncm, check=0)
    assert [f["code"] for f in found] == ["NA102"] and "not analysed" in found[0]["message"]


def test_environment_selects_that_environments_lint_section(project, ncm):
    applied_users_then(project, ncm, DROP.format(comment=""))
    (project / "ncm.toml").write_text('[environments.staging.lint.severity]\nDS103 = "warning"\n')
    ncm("lint", check=3)
    found, _ = findings(ncm, "--environment", "staging", check=0)
    assert [(f["code"], f["severity"]) for f in found] == [("DS103", "warning")]


def test_a_sql_file_allows_a_finding_with_a_sql_comment(project, ncm):
    applied_users_then(project, ncm, "")
    (project / "migrations" / "002_change.py").unlink()
    (project / "migrations" / "002_change.sql").write_text(
        "-- migrate:up\n-- ncm: allow DS103 -- copied to profiles first\nALTER TABLE users DROP COLUMN email;\n\n"
        "-- migrate:down\n")
    found, _ = findings(ncm, check=0)
    assert [(f["code"], f["suppressed"]) for f in found] == [("DS103", "copied to profiles first")]
